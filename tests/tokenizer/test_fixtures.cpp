// Acceptance tests against reference data produced by Hugging Face tokenizers
// (qwen2.5-encode.jsonl, qwen2.5-special.json) and llama.cpp's Qwen2 vectors.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "core/mapped_file.h"
#include "fixtures.h"
#include "tokenizer/utf8.h"

namespace s1::test {

const Tokenizer& qwen_json() {
  static const Tokenizer t = Tokenizer::from_hf_folder(data_dir() + "/reference/tokenizer/qwen2.5");
  return t;
}

const Tokenizer& qwen_vocab() {
  static const Tokenizer t = Tokenizer::from_hf_folder(repo_dir() + "/data/tokenizers/qwen2.5");
  return t;
}

const std::vector<EncodeRow>& encode_rows() {
  static const std::vector<EncodeRow> rows = [] {
    std::vector<EncodeRow> r;
    std::ifstream f(data_dir() + "/reference/tokenizer/qwen2.5-encode.jsonl");
    std::string line;
    while (std::getline(f, line)) {
      if (line.empty()) continue;
      auto j = nlohmann::json::parse(line);
      r.push_back({j.value("source", ""), j["text"], j["decoded"], j["ids"], j["ids_special_as_text"]});
    }
    return r;
  }();
  return rows;
}

namespace {

std::string show(const std::vector<int32_t>& v) {
  std::ostringstream os;
  for (size_t i = 0; i < v.size(); ++i) os << (i ? " " : "") << v[i];
  return os.str();
}

// Checks every row in both modes plus decode; reports each failing row (up to a few).
void check_rows(const Tokenizer& tok, const char* name) {
  const auto& rows = encode_rows();
  ASSERT_EQ(rows.size(), 1186u);
  size_t pass = 0, reported = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const EncodeRow& r = rows[i];
    auto ids = tok.encode(r.text, false);
    auto ids_t = tok.encode(r.text, true);
    std::string dec = tok.decode(r.ids);
    bool ok = ids == r.ids && ids_t == r.ids_special_as_text && dec == r.decoded;
    pass += ok;
    if (!ok && reported++ < 5) {
      ADD_FAILURE() << name << " row " << i << " (" << r.source << ") text: " << r.text.substr(0, 200)
                    << "\n  expected: " << show(r.ids) << "\n  got:      " << show(ids)
                    << "\n  special_as_text expected: " << show(r.ids_special_as_text)
                    << "\n  special_as_text got:      " << show(ids_t) << "\n  decode ok: " << (dec == r.decoded);
    }
  }
  std::cout << "[ INFO     ] " << name << ": " << pass << "/" << rows.size() << " rows match\n";
  EXPECT_EQ(pass, rows.size());
}

}  // namespace

TEST(TokenizerReference, TokenizerJsonMatchesAllRows) { check_rows(qwen_json(), "tokenizer.json"); }

TEST(TokenizerReference, VocabMergesFolderMatchesAllRows) { check_rows(qwen_vocab(), "vocab.json+merges.txt"); }

// llama.cpp's test-tokenizer-0 vectors: inputs separated by "\n__ggml_vocab_test__\n"
// (the file also ends with one); .out has one line of space-separated ids per input.
TEST(TokenizerReference, LlamaCppQwen2Vectors) {
  const std::string base = data_dir() + "/llama.cpp-tokenizer/ggml-vocab-qwen2.gguf";
  std::string inp = read_text_file(base + ".inp");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> inputs;
  for (size_t pos = 0; pos < inp.size();) {
    size_t e = inp.find(sep, pos);
    ASSERT_NE(e, std::string::npos) << "input not terminated by the separator";
    inputs.push_back(inp.substr(pos, e - pos));
    pos = e + sep.size();
  }
  std::vector<std::vector<int32_t>> outs;
  std::istringstream out(read_text_file(base + ".out"));
  for (std::string line; std::getline(out, line);) {
    std::istringstream ls(line);
    std::vector<int32_t> ids;
    for (int32_t id; ls >> id;) ids.push_back(id);
    outs.push_back(ids);
  }
  ASSERT_EQ(inputs.size(), 46u);
  ASSERT_EQ(outs.size(), inputs.size());
  for (const Tokenizer* tok : {&qwen_json(), &qwen_vocab()}) {
    size_t pass = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      auto ids = tok->encode(inputs[i]);
      EXPECT_EQ(show(ids), show(outs[i])) << "case " << i << ": " << inputs[i];
      pass += ids == outs[i];
      EXPECT_EQ(tok->decode(ids), inputs[i]);
    }
    std::cout << "[ INFO     ] llama.cpp qwen2: " << pass << "/" << inputs.size() << " cases match\n";
  }
}

TEST(TokenizerReference, AddedTokenTable) {
  auto j = nlohmann::json::parse(read_text_file(data_dir() + "/reference/tokenizer/qwen2.5-special.json"));
  for (const Tokenizer* tok : {&qwen_json(), &qwen_vocab()}) {
    EXPECT_EQ(tok->vocab_size(), j["len"].get<int32_t>());
    for (const auto& [key, content] : j["added"].items()) {
      int32_t id = std::stoi(key);
      EXPECT_EQ(tok->token_id(content.get<std::string>()), id) << content;
      EXPECT_TRUE(tok->is_added(id));
      EXPECT_EQ(tok->token_bytes(id), content.get<std::string>());
      // <|endoftext|> .. <|video_pad|> are special; <tool_call> .. <|file_sep|> are not.
      EXPECT_EQ(tok->is_special(id), id <= 151656) << content;
    }
    EXPECT_EQ(tok->eos_token(), j["eos_token"].get<std::string>());
    EXPECT_EQ(tok->pad_token(), j["pad_token"].get<std::string>());
    EXPECT_EQ(tok->bos_token(), "");  // null in the config
    EXPECT_FALSE(tok->add_bos());
    EXPECT_FALSE(tok->is_added(9707));
    EXPECT_FALSE(tok->is_special(-1));
    EXPECT_FALSE(tok->is_special(1 << 30));
    EXPECT_EQ(tok->token_id("Hello"), 9707);
    EXPECT_EQ(tok->token_id("ĠHello"), 21927);  // vocabulary tokens are looked up in byte-level form
    EXPECT_EQ(tok->token_id("no such token"), std::nullopt);
  }
}

TEST(TokenizerReference, DecodeSkipSpecial) {
  const Tokenizer& tok = qwen_json();
  auto ids = tok.encode("<|im_start|>user\nHi<|im_end|><tool_call>");
  EXPECT_EQ(tok.decode(ids), "<|im_start|>user\nHi<|im_end|><tool_call>");
  EXPECT_EQ(tok.decode(ids, true), "user\nHi<tool_call>");  // <tool_call> is added but not special
  std::vector<int32_t> unknown = {-5, 9707, 151665, 1 << 30};
  EXPECT_EQ(tok.decode(unknown), "Hello");
}

TEST(TokenizerReference, StreamDecoderMatchesDecode) {
  const Tokenizer& tok = qwen_json();
  for (const EncodeRow& r : encode_rows()) {
    StreamDecoder sd(tok);
    std::string all;
    for (int32_t id : r.ids) {
      std::string piece = sd.push(id);
      ASSERT_TRUE(tok::utf8_is_valid(piece)) << r.text;
      all += piece;
    }
    all += sd.flush();
    ASSERT_EQ(all, tok.decode(r.ids)) << r.text;
  }
}

}  // namespace s1::test
