#include "tokenizer/bpe.h"

#include <algorithm>
#include <cstring>
#include <queue>

#include "core/error.h"
#include "tokenizer/byte_mapping.h"

namespace s1::tok {

void MergeTable::reserve(size_t n) {
  size_t cap = 16;
  while (cap < n * 2) cap *= 2;  // load factor <= 0.5 keeps probe chains short
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(cap, Slot{});
  mask_ = cap - 1;
  count_ = 0;
  for (const Slot& s : old)
    if (s.key != kEmpty) insert(static_cast<int32_t>(s.key >> 32), static_cast<int32_t>(s.key & 0xffffffffu), s.rank, s.id);
}

void MergeTable::grow() { reserve(std::max<size_t>(count_ + 1, slots_.size())); }

void MergeTable::insert(int32_t a, int32_t b, uint32_t rank, int32_t id) {
  if ((count_ + 1) * 2 > slots_.size()) grow();
  const uint64_t key = make_key(a, b);
  for (uint64_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.key == key || s.key == kEmpty) {
      if (s.key == kEmpty) ++count_;
      s = Slot{key, rank, id};
      return;
    }
  }
}

void BpeModel::init(StringIdMap vocab, const std::vector<std::pair<std::string, std::string>>& merges,
                    bool ignore_merges, const std::string& where) {
  vocab_ = std::move(vocab);
  ignore_merges_ = ignore_merges;
  for (int b = 0; b < 256; ++b) {
    std::string ch = bytes_to_byte_level(std::string(1, static_cast<char>(b)));
    auto it = vocab_.find(ch);
    byte_id_[b] = it == vocab_.end() ? -1 : it->second;
  }
  merges_.reserve(merges.size());
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string& a = merges[rank].first;
    const std::string& b = merges[rank].second;
    auto lookup = [&](const std::string& tok, const char* role) {
      auto it = vocab_.find(tok);
      if (it == vocab_.end())
        fail(where, ": merge ", rank + 1, " (\"", a, " ", b, "\") ", role, " token \"", tok,
             "\" that is not in the vocabulary");
      return it->second;
    };
    joined.assign(a).append(b);
    int32_t ia = lookup(a, "names"), ib = lookup(b, "names"), ij = lookup(joined, "produces");
    merges_.insert(ia, ib, static_cast<uint32_t>(rank), ij);
  }
}

uint64_t WordCache::hash(std::string_view w) {
  const char* p = w.data();
  size_t n = w.size();
  uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
  auto mix = [&h](uint64_t v) {
    h = (h ^ v) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
  };
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    mix(v);
  }
  if (n) {
    uint64_t v = 0;
    std::memcpy(&v, p, n);
    mix(v);
  }
  h *= 0x94d049bb133111ebull;
  h ^= h >> 29;
  return h | 1;
}

uint64_t WordCache::head_of(std::string_view w) {
  uint64_t v = 0;
  std::memcpy(&v, w.data(), std::min<size_t>(w.size(), 8));
  return v;
}

bool WordCache::find(std::string_view w, uint64_t h, std::vector<int32_t>& out) const {
  if (slots_.empty()) return false;
  const uint32_t h32 = static_cast<uint32_t>(h >> 32) | 1;
  const uint64_t head = head_of(w);
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.hash == 0) return false;
    if (s.hash == h32 && s.len == w.size() && s.head == head &&
        (w.size() <= 8 || std::memcmp(words_.data() + s.tail_off, w.data() + 8, w.size() - 8) == 0)) {
      if (s.n_ids == 1)
        out.push_back(static_cast<int32_t>(s.ids));
      else
        out.insert(out.end(), ids_.begin() + s.ids, ids_.begin() + s.ids + s.n_ids);
      return true;
    }
  }
}

void WordCache::rehash(size_t n) {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(n, Slot{});
  const size_t mask = n - 1;
  // Re-place by the stored 32-bit hash: positions only need to be consistent with
  // find(), which probes from the low bits of the full hash, so keep those too.
  for (const Slot& s : old) {
    if (s.hash == 0) continue;
    std::string word(reinterpret_cast<const char*>(&s.head), std::min<size_t>(s.len, 8));
    if (s.len > 8) word.append(words_, s.tail_off, s.len - 8);
    size_t i = hash(word) & mask;
    while (slots_[i].hash != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void WordCache::insert(std::string_view w, uint64_t h, const int32_t* ids, size_t n) {
  if (w.size() > 0xFFFF || n > 0xFFFF) return;
  if (slots_.empty()) slots_.assign(kMinSlots, Slot{});
  if ((count_ + 1) * 2 > slots_.size()) {
    if (slots_.size() < kMaxSlots) {
      rehash(slots_.size() * 2);
    } else {
      slots_.assign(slots_.size(), Slot{});
      words_.clear();
      ids_.clear();
      count_ = 0;
    }
  }
  if (words_.size() + w.size() > 0xFFFFFFFFu || ids_.size() + n > 0xFFFFFFFFu) return;
  Slot s;
  s.head = head_of(w);
  s.hash = static_cast<uint32_t>(h >> 32) | 1;
  s.len = static_cast<uint16_t>(w.size());
  s.n_ids = static_cast<uint16_t>(n);
  s.tail_off = static_cast<uint32_t>(words_.size());
  if (w.size() > 8) words_.append(w.substr(8));
  if (n == 1) {
    s.ids = static_cast<uint32_t>(ids[0]);
  } else {
    s.ids = static_cast<uint32_t>(ids_.size());
    ids_.insert(ids_.end(), ids, ids + n);
  }
  const size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  while (slots_[i].hash != 0) i = (i + 1) & mask;
  slots_[i] = s;
  ++count_;
}

void BpeModel::encode_word(std::string_view bytes, std::vector<int32_t>& out) const {
  if (bytes.empty()) return;
  if (bytes.size() == 1) {
    int32_t id = byte_id_[static_cast<unsigned char>(bytes[0])];
    if (id >= 0) out.push_back(id);
    return;
  }
  if (ignore_merges_) {
    auto it = vocab_.find(bytes_to_byte_level(bytes));
    if (it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  // Long words are rare and unlikely to repeat; caching them would only cost memory.
  constexpr size_t kMaxCachedWord = 256;
  if (bytes.size() > kMaxCachedWord) return merge_word(bytes, out);
  const uint64_t h = WordCache::hash(bytes);
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (cache_.find(bytes, h, out)) return;
  }
  const size_t first = out.size();
  merge_word(bytes, out);
  std::lock_guard<std::mutex> lock(cache_mu_);
  cache_.insert(bytes, h, out.data() + first, out.size() - first);
}

void BpeModel::merge_word(std::string_view bytes, std::vector<int32_t>& out, int algo) const {
  constexpr size_t kScanMax = 128;
  if (algo == 1 || (algo == 0 && bytes.size() <= kScanMax)) return merge_scan(bytes, out);
  merge_heap(bytes, out);
}

// Short words: keep the symbols and the rank of each adjacent pair in arrays and
// merge the leftmost lowest-rank pair until none is left. O(n^2) but n is small and
// everything stays in a few cache lines.
void BpeModel::merge_scan(std::string_view bytes, std::vector<int32_t>& out) const {
  constexpr uint32_t kNone = ~uint32_t{0};
  constexpr size_t kStack = 128;  // words this short (nearly all) need no allocation
  int32_t ids_buf[kStack], merged_buf[kStack];
  uint32_t rank_buf[kStack];
  std::vector<int32_t> ids_heap, merged_heap;
  std::vector<uint32_t> rank_heap;
  int32_t *ids = ids_buf, *merged = merged_buf;
  uint32_t* rank = rank_buf;
  if (bytes.size() > kStack) {
    ids_heap.resize(bytes.size()), merged_heap.resize(bytes.size()), rank_heap.resize(bytes.size());
    ids = ids_heap.data(), merged = merged_heap.data(), rank = rank_heap.data();
  }
  size_t m = 0;
  for (unsigned char b : bytes)
    if (byte_id_[b] >= 0) ids[m++] = byte_id_[b];  // bytes missing from the vocab are dropped, as HF does
  auto pair_at = [&](size_t i) {
    const MergeTable::Slot* s = merges_.find(ids[i], ids[i + 1]);
    rank[i] = s ? s->rank : kNone;
    merged[i] = s ? s->id : -1;
  };
  for (size_t i = 0; i + 1 < m; ++i) pair_at(i);
  while (m > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < m; ++i)
      if (rank[i] < rank[best]) best = i;
    if (rank[best] == kNone) break;
    ids[best] = merged[best];
    // Symbol best+1 and pair best disappear.
    std::memmove(&ids[best + 1], &ids[best + 2], (m - best - 2) * sizeof(int32_t));
    std::memmove(&rank[best], &rank[best + 1], (m - best - 2) * sizeof(uint32_t));
    std::memmove(&merged[best], &merged[best + 1], (m - best - 2) * sizeof(int32_t));
    --m;
    if (best > 0) pair_at(best - 1);
    if (best + 1 < m) pair_at(best);
  }
  out.insert(out.end(), ids, ids + m);
}

// Long words: a doubly linked list of symbols and a min-heap of candidate merges
// ordered by (rank, position), stale entries skipped when popped (as HF's word.rs).
void BpeModel::merge_heap(std::string_view bytes, std::vector<int32_t>& out) const {
  struct Sym {
    int32_t id, prev, next;
  };
  struct Cand {
    uint32_t rank;
    int32_t pos, id;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::vector<Sym> sym;
  sym.reserve(bytes.size());
  for (unsigned char b : bytes) {
    if (byte_id_[b] < 0) continue;
    int32_t n = static_cast<int32_t>(sym.size());
    sym.push_back({byte_id_[b], n - 1, -1});
    if (n > 0) sym[n - 1].next = n;
  }
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
  auto consider = [&](int32_t pos) {
    if (pos < 0 || sym[pos].next < 0) return;
    if (const MergeTable::Slot* s = merges_.find(sym[pos].id, sym[sym[pos].next].id)) heap.push({s->rank, pos, s->id});
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(sym.size()); ++i) consider(i);
  while (!heap.empty()) {
    Cand c = heap.top();
    heap.pop();
    Sym& s = sym[c.pos];
    if (s.id < 0 || s.next < 0) continue;  // merged away, or now the last symbol
    const MergeTable::Slot* cur = merges_.find(s.id, sym[s.next].id);
    if (!cur || cur->id != c.id) continue;  // stale: a neighbour changed since this was queued
    Sym& r = sym[s.next];
    s.id = c.id;
    r.id = -1;
    s.next = r.next;
    if (s.next >= 0) sym[s.next].prev = c.pos;
    consider(s.prev);
    consider(c.pos);
  }
  for (int32_t i = sym.empty() ? -1 : 0; i >= 0; i = sym[i].next) out.push_back(sym[i].id);
}

}  // namespace s1::tok
