// Byte-level BPE model: vocabulary (byte-level string -> id), merge ranks, and the
// merge loop that turns one pre-tokenised word (raw bytes) into ids. Semantics follow
// Hugging Face tokenizers' BPE: start from one symbol per byte, repeatedly merge the
// adjacent pair with the lowest rank (leftmost first on ties) until none applies.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace s1::tok {

// Hash map keyed by heterogeneous string views, so lookups need no std::string.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringIdMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

// (left id, right id) -> (rank, merged id); open addressing, because this lookup is
// the innermost operation of encoding.
class MergeTable {
 public:
  struct Slot {
    uint64_t key = kEmpty;
    uint32_t rank = 0;
    int32_t id = 0;
  };
  void reserve(size_t n);
  void insert(int32_t a, int32_t b, uint32_t rank, int32_t id);  // a later insert of a pair wins
  const Slot* find(int32_t a, int32_t b) const {
    if (slots_.empty()) return nullptr;
    const uint64_t key = make_key(a, b);
    for (uint64_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s;
      if (s.key == kEmpty) return nullptr;
    }
  }
  size_t size() const { return count_; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};  // ids are >= 0, so no real key is all ones
  static uint64_t make_key(int32_t a, int32_t b) {
    return (uint64_t{static_cast<uint32_t>(a)} << 32) | static_cast<uint32_t>(b);
  }
  static uint64_t mix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
  }
  void grow();
  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
  size_t count_ = 0;
};

// word bytes -> ids. Open addressing over arenas (no allocation per entry). A slot
// keeps the first 8 bytes of the word and, for one-token words, the id itself, so a
// typical hit touches one cache line. The table starts small, doubles while it is
// half full, and at its maximum size is simply cleared (then refills with the words
// of the current text).
class WordCache {
 public:
  static uint64_t hash(std::string_view w);
  // Appends the cached ids of w to out; false if w is not cached.
  bool find(std::string_view w, uint64_t h, std::vector<int32_t>& out) const;
  void insert(std::string_view w, uint64_t h, const int32_t* ids, size_t n);

 private:
  struct Slot {
    uint64_t head = 0;   // first 8 bytes of the word, zero padded
    uint32_t hash = 0;   // 0: empty (stored hashes are never 0)
    uint16_t len = 0, n_ids = 0;
    uint32_t tail_off = 0;  // bytes 8.. of the word in words_
    uint32_t ids = 0;       // the id when n_ids == 1, else offset in ids_
  };
  static uint64_t head_of(std::string_view w);
  void rehash(size_t slots);
  static constexpr size_t kMinSlots = size_t{1} << 12, kMaxSlots = size_t{1} << 17;
  std::vector<Slot> slots_;
  std::string words_;
  std::vector<int32_t> ids_;
  size_t count_ = 0;
};

class BpeModel {
 public:
  // vocab: byte-level token -> id; merges: (left, right) byte-level tokens in rank
  // order. ignore_merges: a word that is itself a vocabulary token maps to it directly
  // (tokenizer.json "ignore_merges", used by Llama-3). Throws s1::Error naming `where`
  // when a merge names a token (or produces one) that is not in the vocabulary.
  void init(StringIdMap vocab, const std::vector<std::pair<std::string, std::string>>& merges, bool ignore_merges,
            const std::string& where);

  const StringIdMap& vocab() const { return vocab_; }
  const MergeTable& merges() const { return merges_; }

  // Appends the ids of one word (raw bytes). Results are cached per word.
  void encode_word(std::string_view bytes, std::vector<int32_t>& out) const;

  // The uncached merge loop. algo: 0 = pick by length, 1 = quadratic scan, 2 = heap
  // (exposed so tests can check that both algorithms agree).
  void merge_word(std::string_view bytes, std::vector<int32_t>& out, int algo = 0) const;

 private:
  void merge_scan(std::string_view bytes, std::vector<int32_t>& out) const;
  void merge_heap(std::string_view bytes, std::vector<int32_t>& out) const;

  StringIdMap vocab_;
  MergeTable merges_;
  int32_t byte_id_[256];  // id of the single-byte token of each byte, -1 if absent
  bool ignore_merges_ = false;

  // word -> ids. Words repeat a lot in natural text (and MATH solutions); the cache
  // makes the merge loop run about once per distinct word.
  mutable std::mutex cache_mu_;
  mutable WordCache cache_;
};

}  // namespace s1::tok
