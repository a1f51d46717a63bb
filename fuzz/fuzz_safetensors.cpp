// libFuzzer target: the safetensors parser on arbitrary bytes. Expected outcome for
// bad input is s1::Error; a crash, a sanitizer report or another exception is a bug.
// Every tensor the parser accepts must lie inside the input.
#include <cstdint>
#include <cstdlib>

#include "core/error.h"
#include "formats/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto tensors = s1::parse_safetensors(data, size, "fuzz.safetensors");
    for (const auto& t : tensors) {
      if (t.data < data || t.data + t.nbytes > data + size) std::abort();
      volatile uint8_t sink = 0;
      for (size_t i = 0; i < t.nbytes; ++i) sink ^= t.data[i];  // touch every byte: ASan checks bounds
    }
  } catch (const s1::Error&) {
  }
  return 0;
}
