// Bad input must surface as s1::Error whose message names the offending file.
#include <gtest/gtest.h>

#include "core/error.h"
#include "tokenizer/tokenizer.h"
#include "toy.h"

namespace s1::test {
namespace {

// Runs f, expects an s1::Error whose message contains every one of `parts`.
template <typename F>
void expect_error(F&& f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "message: " << msg << "\nmissing: " << p;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not an s1::Error: " << e.what();
  }
}

ToyModel toy() { return ToyModel({{"h", "e"}, {"l", "l"}}); }

}  // namespace

TEST(TokenizerErrors, MissingOrEmptyFolder) {
  expect_error([] { Tokenizer::from_hf_folder("/nonexistent/s1/tokenizer"); },
               {"/nonexistent/s1/tokenizer", "not found"});
  TempDir dir;
  expect_error([&] { Tokenizer::from_hf_folder(dir.str()); }, {dir.str(), "no tokenizer.json"});
  dir.write("vocab.json", toy().vocab.dump());  // merges.txt missing
  expect_error([&] { Tokenizer::from_hf_folder(dir.str()); }, {dir.str(), "merges.txt"});
}

TEST(TokenizerErrors, TruncatedOrInvalidTokenizerJson) {
  std::string full = toy().tokenizer_json().dump();
  for (std::string bad : {full.substr(0, full.size() / 2), std::string("{]"), std::string(""), std::string("[1,2]"),
                          std::string(R"({"model": 5})"), std::string(R"({"model": {"vocab": {}, "merges": [7]}})"),
                          std::string(R"({"model": {"vocab": [1, 2], "merges": []}})"),
                          std::string(R"({"model": {"vocab": {"a": 0}, "merges": {"a": "b"}}})"),
                          std::string(R"({"model": {"vocab": {"a": {"b": 1}}, "merges": []}})"),
                          std::string(R"({"model": {"merges": []}})")}) {
    TempDir dir;
    dir.write("tokenizer.json", bad);
    expect_error([&] { Tokenizer::from_hf_folder(dir.str()); }, {dir.file("tokenizer.json")});
  }
  TempDir dir;
  dir.write("tokenizer.json", full.substr(0, 100));
  expect_error([&] { Tokenizer::from_hf_folder(dir.str()); }, {dir.file("tokenizer.json"), "invalid JSON"});
}

TEST(TokenizerErrors, MergeNamesUnknownToken) {
  ToyModel m = toy();
  m.merges.push_back({"zz", "q"});  // "zz" is not in the vocabulary
  TempDir a, b;
  a.write("tokenizer.json", m.tokenizer_json().dump());
  expect_error([&] { Tokenizer::from_hf_folder(a.str()); }, {a.file("tokenizer.json"), "merge 3", "\"zz\""});
  b.write("vocab.json", m.vocab.dump());
  b.write("merges.txt", m.merges_txt(true));
  expect_error([&] { Tokenizer::from_hf_folder(b.str()); }, {b.file("merges.txt"), "\"zz\""});
  expect_error([] { Tokenizer::from_vocab({"a", "b"}, {"a b"}, {}, PreTokenizer::Qwen2); }, {"from_vocab", "\"ab\""});
}

TEST(TokenizerErrors, MalformedMergesAndVocab) {
  ToyModel m = toy();
  TempDir a;
  a.write("vocab.json", m.vocab.dump());
  a.write("merges.txt", "h e\nl l x\n");
  expect_error([&] { Tokenizer::from_hf_folder(a.str()); }, {a.file("merges.txt"), "line 2"});
  TempDir b;
  b.write("vocab.json", R"({"a": "zero"})");
  b.write("merges.txt", "");
  expect_error([&] { Tokenizer::from_hf_folder(b.str()); }, {b.file("vocab.json"), "\"a\""});
  TempDir c;
  c.write("vocab.json", "{\"a\": 0,");
  c.write("merges.txt", "");
  expect_error([&] { Tokenizer::from_hf_folder(c.str()); }, {c.file("vocab.json"), "invalid JSON"});
  TempDir d;
  d.write("vocab.json", R"({"a": -4})");
  d.write("merges.txt", "");
  expect_error([&] { Tokenizer::from_hf_folder(d.str()); }, {d.file("vocab.json"), "id -4"});
  expect_error([] { Tokenizer::from_vocab({"a", "b", "ab"}, {"ab"}, {}, PreTokenizer::Gpt2); }, {"from_vocab", "merge 1"});
  expect_error([] { Tokenizer::from_vocab({"a"}, {}, {7}, PreTokenizer::Gpt2); }, {"from_vocab", "special token id 7"});
}

TEST(TokenizerErrors, BadConfigAndUnsupportedPipelines) {
  ToyModel m = toy();
  TempDir a;
  a.write("tokenizer.json", m.tokenizer_json().dump());
  a.write("tokenizer_config.json", "{\"eos_token\": ");
  expect_error([&] { Tokenizer::from_hf_folder(a.str()); }, {a.file("tokenizer_config.json"), "invalid JSON"});
  TempDir a2;
  a2.write("tokenizer.json", m.tokenizer_json().dump());
  a2.write("tokenizer_config.json", R"({"added_tokens_decoder": {"x": {"content": "<y>"}}})");
  expect_error([&] { Tokenizer::from_hf_folder(a2.str()); }, {a2.file("tokenizer_config.json"), "\"x\""});

  auto with = [&](const char* key, nlohmann::json value) {
    nlohmann::json j = m.tokenizer_json();
    j[key] = value;
    return j.dump();
  };
  TempDir b;
  b.write("tokenizer.json", with("normalizer", {{"type", "Lowercase"}}));
  expect_error([&] { Tokenizer::from_hf_folder(b.str()); }, {b.file("tokenizer.json"), "Lowercase"});
  TempDir c;
  c.write("tokenizer.json", with("pre_tokenizer", {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}},
                                                   {"behavior", "Isolated"}}));
  expect_error([&] { Tokenizer::from_hf_folder(c.str()); }, {c.file("tokenizer.json"), "regex"});
  TempDir d;
  d.write("tokenizer.json", with("pre_tokenizer", {{"type", "Metaspace"}}));
  expect_error([&] { Tokenizer::from_hf_folder(d.str()); }, {d.file("tokenizer.json"), "Metaspace"});
  TempDir e;
  e.write("tokenizer.json", with("added_tokens", nlohmann::json::array({added_token(-3, "<x>", true)})));
  expect_error([&] { Tokenizer::from_hf_folder(e.str()); }, {e.file("tokenizer.json"), "-3"});
  TempDir f;
  f.write("vocab.json", m.vocab.dump());
  f.write("merges.txt", "");
  f.write("tokenizer_config.json", R"({"tokenizer_class": "T5Tokenizer"})");
  expect_error([&] { Tokenizer::from_hf_folder(f.str()); }, {f.file("vocab.json"), "T5Tokenizer"});
}

}  // namespace s1::test
