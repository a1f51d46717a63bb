// Shared fixtures of the tokenizer tests: loaded once per test binary, because
// parsing the 11 MB tokenizer.json dominates the suite's run time.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace s1::test {

struct EncodeRow {
  std::string source, text, decoded;
  std::vector<int32_t> ids, ids_special_as_text;
};

inline std::string data_dir() { return S1_TEST_DATA; }
inline std::string repo_dir() { return std::string(S1_TEST_DATA) + "/../.."; }

const Tokenizer& qwen_json();   // tests/data/reference/tokenizer/qwen2.5 (tokenizer.json)
const Tokenizer& qwen_vocab();  // data/tokenizers/qwen2.5 (vocab.json + merges.txt)
const std::vector<EncodeRow>& encode_rows();  // qwen2.5-encode.jsonl

}  // namespace s1::test
