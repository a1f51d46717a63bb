// Random-weight checkpoints of real shapes. Real weights cannot be downloaded on the
// machines this project is built on, and speed does not depend on the values, so
// benchmarks and the tests of the later layers run on these.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace s1 {

struct MakeModelOptions {
  std::string shape;        // a name from model_shape_names()
  DType dtype = DType::BF16;
  std::string out;          // folder to create
  int64_t layers = 0;       // 0: the real depth
  uint64_t seed = 0;
  std::string tokenizer_dir;  // Qwen2.5 tokenizer files to copy in ("" = none)
};

std::vector<std::string> model_shape_names();

// Writes OUT/config.json, generation_config.json, model.safetensors and the tokenizer
// files. Progress goes to `progress` (may be null). Throws s1::Error.
void make_model(const MakeModelOptions& o, void (*progress)(const char* line) = nullptr);

}  // namespace s1
