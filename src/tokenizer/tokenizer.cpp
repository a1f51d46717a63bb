// Encode/decode and the accessors of s1::Tokenizer, plus from_vocab (GGUF).
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <cstdint>

#include "core/error.h"
#include "tokenizer/byte_mapping.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"

namespace s1 {

void tok::TokenizerData::finalize(const std::string& where) {
  // Ids index dense tables; refuse absurd ids instead of allocating gigabytes.
  constexpr int64_t kMaxId = 1 << 24;
  int64_t max_id = -1;
  for (const auto& [text, id] : bpe.vocab()) {
    if (id < 0 || id >= kMaxId) fail(where, ": token \"", text, "\" has id ", id, " (must be 0..", kMaxId - 1, ")");
    max_id = std::max<int64_t>(max_id, id);
  }
  for (const auto& [id, text] : duplicate_ids) max_id = std::max<int64_t>(max_id, id);
  for (const auto& t : added) {
    if (t.id < 0 || t.id >= kMaxId)
      fail(where, ": added token \"", t.content, "\" has id ", t.id, " (must be 0..", kMaxId - 1, ")");
    if (t.content.empty()) fail(where, ": added token ", t.id, " has empty content");
    max_id = std::max<int64_t>(max_id, t.id);
  }
  const size_t n = static_cast<size_t>(max_id + 1);
  id_bytes.assign(n, {});
  id_flags.assign(n, 0);
  for (const auto& [text, id] : bpe.vocab()) {
    // A token that is not pure byte-level text decodes to its own UTF-8 (HF ByteLevel decoder).
    if (!tok::byte_level_to_bytes(text, id_bytes[id])) id_bytes[id] = text;
    id_flags[id] = kKnown;
  }
  for (const auto& [id, text] : duplicate_ids) {
    if (!tok::byte_level_to_bytes(text, id_bytes[id])) id_bytes[id] = text;
    id_flags[id] = kKnown;
  }
  for (const auto& t : added) {
    id_bytes[t.id] = t.content;
    id_flags[t.id] = kKnown | kAdded | (t.special ? kSpecial : 0);
    added_ids.emplace(t.content, t.id);  // first declaration of a content wins
  }
  raw_added.build(added, false);
  norm_added.build(added, true);
}

void tok::TokenizerData::encode_plain(std::string_view text, std::vector<int32_t>& out) const {
  if (pre.empty()) return bpe.encode_word(text, out);
  pre.split(text, [&](std::string_view word) { bpe.encode_word(word, out); });
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool special_as_text) const {
  const Impl& m = *impl_;
  // Invalid UTF-8 is replaced by U+FFFD first (as Python's decode(errors="replace")
  // would before HF sees the text): the regexes and NFC need valid UTF-8.
  std::string cleaned;
  if (!tok::utf8_is_valid(text)) {
    cleaned = tok::utf8_replace_invalid(text);
    text = cleaned;
  }
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  auto push_id = [&](int32_t id) { out.push_back(id); };
  auto encode_raw_piece = [&](std::string_view piece) {
    std::string storage;
    std::string_view norm = tok::normalize(m.normalization, piece, storage);
    if (m.norm_added.empty()) return m.encode_plain(norm, out);
    m.norm_added.split(
        norm, special_as_text, [&](std::string_view p) { m.encode_plain(p, out); }, push_id);
  };
  if (m.raw_added.empty())
    encode_raw_piece(text);
  else
    m.raw_added.split(text, special_as_text, encode_raw_piece, push_id);
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  const Impl& m = *impl_;
  std::string out;
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= m.id_flags.size()) continue;  // unknown ids decode to nothing
    uint8_t f = m.id_flags[id];
    if (!(f & Impl::kKnown) || (skip_special && (f & Impl::kSpecial))) continue;
    out += m.id_bytes[id];
  }
  return out;
}

std::string Tokenizer::token_bytes(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->id_bytes.size()) return {};
  return impl_->id_bytes[id];
}

int32_t Tokenizer::vocab_size() const { return static_cast<int32_t>(impl_->id_flags.size()); }

std::optional<int32_t> Tokenizer::token_id(std::string_view token_text) const {
  if (auto it = impl_->added_ids.find(token_text); it != impl_->added_ids.end()) return it->second;
  const auto& v = impl_->bpe.vocab();
  if (auto it = v.find(token_text); it != v.end()) return it->second;
  return std::nullopt;
}

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->id_flags.size() && (impl_->id_flags[id] & Impl::kSpecial);
}

bool Tokenizer::is_added(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->id_flags.size() && (impl_->id_flags[id] & Impl::kAdded);
}

const std::string& Tokenizer::bos_token() const { return impl_->bos; }
const std::string& Tokenizer::eos_token() const { return impl_->eos; }
const std::string& Tokenizer::pad_token() const { return impl_->pad; }
bool Tokenizer::add_bos() const { return impl_->add_bos; }

Tokenizer Tokenizer::from_vocab(std::vector<std::string> tokens, const std::vector<std::string>& merges,
                                const std::vector<int32_t>& special_ids, PreTokenizer pre,
                                const VocabSpecials& specials) {
  const std::string where = "from_vocab";
  auto impl = std::make_unique<Impl>();
  tok::StringIdMap vocab;
  vocab.reserve(tokens.size());
  if (tokens.size() > static_cast<size_t>(INT32_MAX)) fail(where, ": too many tokens");
  for (size_t i = 0; i < tokens.size(); ++i)
    if (!vocab.emplace(tokens[i], static_cast<int32_t>(i)).second)  // the first id of a text wins
      impl->duplicate_ids.emplace_back(static_cast<int32_t>(i), tokens[i]);
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const std::string& line = merges[i];
    // Search from 1 so that a left part starting with ' ' (not byte-level) still splits sensibly.
    size_t sp = line.find(' ', 1);
    if (sp == std::string::npos || line.find(' ', sp + 1) != std::string::npos)
      fail(where, ": merge ", i + 1, " (\"", line, "\") is not two tokens separated by one space");
    pairs.emplace_back(line.substr(0, sp), line.substr(sp + 1));
  }
  for (int32_t id : special_ids) {
    if (id < 0 || static_cast<size_t>(id) >= tokens.size())
      fail(where, ": special token id ", id, " is outside the vocabulary (", tokens.size(), " tokens)");
    if (tokens[id].empty()) continue;  // nothing to match
    tok::AddedToken t;
    t.id = id;
    t.content = tokens[id];
    t.special = true;
    impl->added.push_back(std::move(t));
  }
  // GGUF carries no normalizer/pre-tokenizer description: the caller names the family.
  impl->normalization = pre == PreTokenizer::Qwen2 ? tok::Normalization::NFC : tok::Normalization::None;
  if (pre == PreTokenizer::SmolLM) impl->pre.add_regex_split(R"(\p{N})", where);  // digits one by one
  impl->pre.add_regex_split(tok::builtin_pattern(pre), where);
  impl->bos = specials.bos;
  impl->eos = specials.eos;
  impl->pad = specials.pad;
  impl->add_bos = specials.add_bos;
  impl->bpe.init(std::move(vocab), pairs, /*ignore_merges=*/pre == PreTokenizer::Llama3, where);
  impl->finalize(where);
  return Tokenizer(std::move(impl));
}

}  // namespace s1
