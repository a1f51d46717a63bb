// Added tokens (tokenizer.json "added_tokens", tokenizer_config.json
// "added_tokens_decoder", GGUF control tokens): strings such as "<|im_start|>" that
// are found in the text before BPE and map straight to their id. Matching follows
// HF tokenizers' AddedVocabulary: leftmost-longest, non-overlapping, then the
// per-token flags single_word / lstrip / rstrip.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace s1::tok {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;      // dropped by decode(skip_special); not matched in special_as_text mode
  bool lstrip = false;       // the match swallows whitespace on its left
  bool rstrip = false;       // ... and on its right
  bool single_word = false;  // only matches when not inside a word
  bool normalized = false;   // matched in the normalised text instead of the raw text
};

class AddedTokenMatcher {
 public:
  // Uses the tokens of `all` whose `normalized` flag equals `normalized`.
  void build(const std::vector<AddedToken>& all, bool normalized);
  bool empty() const { return tokens_.empty(); }

  // Splits text: on_text(gap) for text between matches (non-empty), on_token(id) for
  // matches. skip_special: special tokens are not matched (their text stays text).
  void split(std::string_view text, bool skip_special, const std::function<void(std::string_view)>& on_text,
             const std::function<void(int32_t)>& on_token) const;

 private:
  std::vector<const AddedToken*> tokens_;
  // Candidates by first byte, longest first, so the first hit is the longest match.
  std::array<std::vector<const AddedToken*>, 256> by_first_{};
  std::array<bool, 256> is_first_{};  // some token starts with this byte
  int only_first_ = -1;               // the single first byte of all tokens, if there is one (memchr)
};

}  // namespace s1::tok
