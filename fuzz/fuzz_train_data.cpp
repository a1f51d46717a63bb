// libFuzzer target for the training-data reader: one JSONL row (arbitrary bytes) parsed
// and turned into ids + loss targets with the Qwen2.5 tokenizer and chat template, as
// `s1 train --data` does for each line (train/data.h). Bad rows must be an s1::Error.
//
// Tokenizer folder: $S1_FUZZ_TOKENIZER_DIR, else tests/data/reference/tokenizer/qwen2.5.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "core/error.h"
#include "model/transformer_train.h"
#include "tokenizer/tokenizer.h"
#include "train/data.h"

namespace {

std::string tokenizer_dir() {
  if (const char* env = std::getenv("S1_FUZZ_TOKENIZER_DIR")) return env;
  return (std::filesystem::path(__FILE__).parent_path().parent_path() / "tests/data/reference/tokenizer/qwen2.5").string();
}

struct Setup {
  s1::Tokenizer tok;
  s1::ChatTemplate tpl;
  std::string marker;
};

const Setup& setup() {
  static const Setup* s = [] {
    try {
      const std::string dir = tokenizer_dir();
      auto* p = new Setup{s1::Tokenizer::from_hf_folder(dir), s1::ChatTemplate(s1::find_chat_template(dir)), ""};
      p->marker = s1::train::assistant_marker(p->tpl, nlohmann::json::object());
      return p;
    } catch (const s1::Error& e) {  // a setup problem, not a finding
      std::fprintf(stderr, "fuzz_train_data setup: %s\n", e.what());
      std::abort();
    }
  }();
  return *s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Setup& s = setup();
  nlohmann::json row;
  try {
    row = nlohmann::json::parse(std::string(reinterpret_cast<const char*>(data), size));
  } catch (const nlohmann::json::exception&) {
    return 0;  // the reader reports this as "invalid JSON"
  }
  s1::train::DataOptions o;
  try {
    s1::train::Example ex = s1::train::encode_row(row, s.tok, s.tpl, o, s.marker, "fuzz");
    if (ex.ids.size() != ex.targets.size()) std::abort();
    for (size_t t = 0; t + 1 < ex.ids.size(); ++t)
      if (ex.targets[t] != s1::kIgnoreIndex && ex.targets[t] != ex.ids[t + 1]) std::abort();
  } catch (const s1::Error&) {
  }
  return 0;
}
