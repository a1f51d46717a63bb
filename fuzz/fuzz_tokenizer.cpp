// libFuzzer target for the tokenizer: arbitrary bytes (invalid UTF-8 included) are
// encoded in both modes and decoded again.
//
// Invalid UTF-8 policy (documented in src/tokenizer/README.md): encode() first
// replaces every ill-formed subpart by U+FFFD, as Python's
// bytes.decode("utf-8", "replace") does, so such input round-trips to its
// replaced form. Valid input that is already NFC round-trips exactly.
//
// Tokenizer folder: $S1_FUZZ_TOKENIZER_DIR, else tests/data/reference/tokenizer/qwen2.5
// of this repository.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace {

std::string tokenizer_dir() {
  if (const char* env = std::getenv("S1_FUZZ_TOKENIZER_DIR")) return env;
#ifdef S1_TEST_DATA
  return std::string(S1_TEST_DATA) + "/reference/tokenizer/qwen2.5";
#else
  // fuzz/fuzz_tokenizer.cpp -> repository root
  return (std::filesystem::path(__FILE__).parent_path().parent_path() / "tests/data/reference/tokenizer/qwen2.5")
      .string();
#endif
}

const s1::Tokenizer& tokenizer() {
  static const s1::Tokenizer t = [] {
    try {
      return s1::Tokenizer::from_hf_folder(tokenizer_dir());
    } catch (const s1::Error& e) {  // a setup problem, not a finding
      std::fprintf(stderr, "fuzz_tokenizer: cannot load the tokenizer: %s\n", e.what());
      std::exit(1);
    }
  }();
  return t;
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_tokenizer: check failed: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const s1::Tokenizer& tok = tokenizer();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool valid = s1::tok::utf8_is_valid(text);
  std::string storage;
  const bool nfc = valid && s1::tok::normalize(s1::tok::Normalization::NFC, text, storage) == text;

  for (bool special_as_text : {false, true}) {
    std::vector<int32_t> ids = tok.encode(text, special_as_text);
    for (int32_t id : ids) check(id >= 0 && id < tok.vocab_size(), "id in range");
    std::string dec = tok.decode(ids);
    check(s1::tok::utf8_is_valid(dec), "decode gives valid UTF-8");
    if (nfc) check(dec == text, "valid NFC text round-trips");
    if (!valid) check(ids == tok.encode(s1::tok::utf8_replace_invalid(text), special_as_text), "invalid = replaced");

    // Streaming gives the same text, in valid pieces.
    s1::StreamDecoder sd(tok);
    std::string streamed;
    for (int32_t id : ids) {
      std::string piece = sd.push(id);
      check(s1::tok::utf8_is_valid(piece), "stream piece is valid UTF-8");
      streamed += piece;
    }
    streamed += sd.flush();
    check(streamed == dec, "stream == decode");
    (void)tok.decode(ids, /*skip_special=*/true);
  }
  return 0;
}
