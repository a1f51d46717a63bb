// A qwen2.5-tiny checkpoint for the tests of the layers above the model (control, llm,
// serve, grading): hidden 64, 2 layers, random bf16 weights, the real Qwen2.5 vocabulary
// and tokenizer (data/tokenizers/qwen2.5). Written under the temp dir when first asked
// for, removed when the test process exits. Generations on it are real (the text is
// meaningless), so every layer's machinery is exercised on a real model in milliseconds.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <string>

#include "model/make_model.h"

namespace s1::test {

class TinyModelDir {
 public:
  // `tag` names the folder (tests of one process may want several); `seed` the weights.
  explicit TinyModelDir(const std::string& tag = "tiny", uint64_t seed = 7) {
    path_ = (std::filesystem::temp_directory_path() / ("s1-test-" + tag + "-" + std::to_string(::getpid()))).string();
    MakeModelOptions o;
    o.shape = "qwen2.5-tiny";
    o.dtype = DType::BF16;
    o.out = path_;
    o.seed = seed;
    o.tokenizer_dir = std::string(S1_REPO_DATA) + "/tokenizers/qwen2.5";
    make_model(o);
  }
  ~TinyModelDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TinyModelDir(const TinyModelDir&) = delete;
  TinyModelDir& operator=(const TinyModelDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The process-wide default tiny model (seed 7).
inline const std::string& tiny_model_dir() {
  static TinyModelDir dir;
  return dir.path();
}

}  // namespace s1::test
