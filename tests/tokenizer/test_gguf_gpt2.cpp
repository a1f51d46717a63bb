// from_vocab with the GPT-2 pre-tokenizer against llama.cpp's GPT-2 vectors. The
// vocabulary comes from ggml-vocab-gpt-2.gguf through a minimal GGUF metadata reader
// (the real one belongs to the formats layer; this keeps the test self-contained).
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>

#include "core/mapped_file.h"
#include "fixtures.h"

namespace s1::test {
namespace {

struct GgufVocab {
  std::vector<std::string> tokens, merges;
  std::vector<int32_t> token_type;
};

class Reader {
 public:
  explicit Reader(std::string_view data) : d_(data) {}
  template <typename T>
  T get() {
    if (pos_ + sizeof(T) > d_.size()) throw std::runtime_error("GGUF truncated");
    T v{};
    std::memcpy(&v, d_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string str() {
    uint64_t n = get<uint64_t>();
    if (pos_ + n > d_.size()) throw std::runtime_error("GGUF truncated");
    std::string s(d_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  void skip(uint32_t type) {
    static const size_t sizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    if (type == 8) {
      str();
    } else if (type == 9) {
      uint32_t t = get<uint32_t>();
      uint64_t n = get<uint64_t>();
      for (uint64_t i = 0; i < n; ++i) skip(t);
    } else {
      pos_ += sizes[type];
    }
  }

 private:
  std::string_view d_;
  size_t pos_ = 0;
};

GgufVocab read_gguf_vocab(const std::string& path) {
  const std::string data = read_text_file(path);
  Reader r(data);
  if (r.get<uint32_t>() != 0x46554747) throw std::runtime_error("not GGUF");  // "GGUF"
  r.get<uint32_t>();                                                         // version
  r.get<uint64_t>();                                                         // tensor count
  uint64_t kv = r.get<uint64_t>();
  GgufVocab v;
  for (uint64_t i = 0; i < kv; ++i) {
    std::string key = r.str();
    uint32_t type = r.get<uint32_t>();
    if (type == 9 && (key == "tokenizer.ggml.tokens" || key == "tokenizer.ggml.merges" ||
                      key == "tokenizer.ggml.token_type")) {
      uint32_t et = r.get<uint32_t>();
      uint64_t n = r.get<uint64_t>();
      for (uint64_t k = 0; k < n; ++k) {
        if (key == "tokenizer.ggml.token_type") {
          EXPECT_EQ(et, 5u);  // int32
          v.token_type.push_back(r.get<int32_t>());
        } else {
          (key == "tokenizer.ggml.tokens" ? v.tokens : v.merges).push_back(r.str());
        }
      }
    } else {
      r.skip(type);
    }
  }
  return v;
}

}  // namespace

TEST(TokenizerFromVocab, Gpt2GgufMatchesLlamaCppVectors) {
  const std::string base = data_dir() + "/llama.cpp-tokenizer/ggml-vocab-gpt-2.gguf";
  GgufVocab v = read_gguf_vocab(base);
  ASSERT_EQ(v.tokens.size(), 50257u);
  ASSERT_EQ(v.merges.size(), 50000u);
  std::vector<int32_t> specials;
  for (size_t i = 0; i < v.token_type.size(); ++i)
    if (v.token_type[i] == 3) specials.push_back(static_cast<int32_t>(i));  // CONTROL
  Tokenizer tok = Tokenizer::from_vocab(v.tokens, v.merges, specials, PreTokenizer::Gpt2);
  EXPECT_TRUE(tok.is_special(50256));  // <|endoftext|>

  std::string inp = read_text_file(base + ".inp");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::istringstream out(read_text_file(base + ".out"));
  size_t pos = 0, cases = 0, pass = 0;
  for (std::string line; std::getline(out, line); ++cases) {
    size_t e = inp.find(sep, pos);
    ASSERT_NE(e, std::string::npos);
    std::string text = inp.substr(pos, e - pos);
    pos = e + sep.size();
    std::istringstream ls(line);
    std::vector<int32_t> want;
    for (int32_t id; ls >> id;) want.push_back(id);
    auto got = tok.encode(text);
    EXPECT_EQ(got, want) << "case " << cases << ": " << text;
    pass += got == want;
    EXPECT_EQ(tok.decode(got), text);
  }
  EXPECT_EQ(cases, 46u);
  std::cout << "[ INFO     ] llama.cpp gpt-2: " << pass << "/" << cases << " cases match\n";
}

}  // namespace s1::test
