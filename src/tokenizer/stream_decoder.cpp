// StreamDecoder: a token can end in the middle of a UTF-8 character (byte-level BPE
// splits multi-byte characters), so bytes are buffered until the character completes.
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace s1 {

std::string StreamDecoder::push(int32_t id) {
  if (skip_special_ && tok_.is_special(id)) return {};
  pending_ += tok_.token_bytes(id);
  std::string out;
  // Ill-formed bytes can never become valid, so they are emitted (as U+FFFD) at
  // once; only a valid but incomplete trailing sequence waits for the next token.
  size_t used = tok::utf8_append_complete(pending_, out);
  pending_.erase(0, used);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out = tok::utf8_replace_invalid(pending_);
  pending_.clear();
  return out;
}

}  // namespace s1
