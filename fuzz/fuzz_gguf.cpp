// libFuzzer target: the GGUF parser on arbitrary bytes, then what the loaders read from
// an accepted file (model config, tokenizer). Expected outcome for bad input is
// s1::Error; a crash, a sanitizer report or another exception is a bug. Every tensor
// the parser accepts must lie inside the input.
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <unistd.h>

#include "core/error.h"
#include "formats/gguf.h"
#include "model/gguf_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    s1::GgufParsed p = s1::parse_gguf(data, size, "fuzz.gguf");
    for (const auto& t : p.tensors) {
      if (t.data < data || t.data + t.nbytes > data + size) std::abort();
      volatile uint8_t sink = 0;
      for (size_t i = 0; i < t.nbytes; ++i) sink ^= t.data[i];  // touch every byte: ASan checks bounds
    }
    for (const auto& [k, v] : p.kv) (void)v.to_string();
  } catch (const s1::Error&) {
    return 0;
  }
  // An accepted image: the model-config and tokenizer readers on it (they need a file).
  static const std::string path = "/tmp/fuzz_gguf_" + std::to_string(::getpid()) + ".gguf";
  if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
    try {
      s1::GgufFile g(path);
      try {
        (void)s1::gguf_model_config(g);
      } catch (const s1::Error&) {
      }
      try {
        if (s1::gguf_has_tokenizer(g)) (void)s1::gguf_tokenizer(g).encode("Hello 123 world");
      } catch (const s1::Error&) {
      }
    } catch (const s1::Error&) {
    }
    std::remove(path.c_str());
  }
  return 0;
}
