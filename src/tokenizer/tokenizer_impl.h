// Tokenizer::Impl, shared by the loaders (hf_loader.cpp, tokenizer.cpp's
// from_vocab) that fill it and by encode/decode in tokenizer.cpp.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"

namespace s1 {
namespace tok {

// Everything a loaded tokenizer holds. A plain struct (Tokenizer::Impl derives from
// it) so that the loaders' helper functions can fill it.
struct TokenizerData {
  // Filled by a loader, then finalize() builds the lookup tables. The object is
  // never moved afterwards (the matchers point into `added`).
  BpeModel bpe;
  std::vector<AddedToken> added;
  Normalization normalization = Normalization::None;
  PreTokenizerPipeline pre;
  std::string bos, eos, pad;
  bool add_bos = false;
  // Ids whose text repeats an earlier id's (possible in GGUF vocabularies): not
  // reachable by encode, but they still decode.
  std::vector<std::pair<int32_t, std::string>> duplicate_ids;

  // Derived by finalize().
  AddedTokenMatcher raw_added;   // matched in the raw text
  AddedTokenMatcher norm_added;  // matched in the normalised text
  StringIdMap added_ids;         // content -> id
  std::vector<std::string> id_bytes;  // decoded bytes of every id
  std::vector<uint8_t> id_flags;      // kKnown | kAdded | kSpecial
  static constexpr uint8_t kKnown = 1, kAdded = 2, kSpecial = 4;

  // `where` names the source in error messages (a file, or "from_vocab").
  void finalize(const std::string& where);

  // Normalised text without added tokens -> ids (pre-tokenizer, then BPE per word).
  void encode_plain(std::string_view text, std::vector<int32_t>& out) const;
};

}  // namespace tok

struct Tokenizer::Impl : tok::TokenizerData {};

}  // namespace s1
