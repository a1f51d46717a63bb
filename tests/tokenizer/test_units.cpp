// Unit tests of the pieces (byte mapping, UTF-8, regex rewrite, BPE algorithms,
// added-token flags, config variants) and robustness of encode().
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "core/mapped_file.h"
#include "fixtures.h"
#include "tokenizer/bpe.h"
#include "tokenizer/byte_mapping.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/utf8.h"
#include "toy.h"

namespace s1::test {
namespace {

std::vector<std::string> split_words(const tok::PreTokenizerPipeline& p, std::string_view text) {
  std::vector<std::string> out;
  p.split(text, [&](std::string_view w) { out.emplace_back(w); });
  return out;
}

tok::PreTokenizerPipeline pipeline(PreTokenizer pre) {
  tok::PreTokenizerPipeline p;
  p.add_regex_split(tok::builtin_pattern(pre), "test");
  return p;
}

}  // namespace

TEST(TokenizerByteMapping, Gpt2Alphabet) {
  EXPECT_EQ(tok::byte_to_codepoint(' '), 0x120u);  // 'Ġ'
  EXPECT_EQ(tok::byte_to_codepoint('\n'), 0x10Au);  // 'Ċ'
  EXPECT_EQ(tok::byte_to_codepoint('!'), static_cast<uint32_t>('!'));
  EXPECT_EQ(tok::byte_to_codepoint(0), 0x100u);
  EXPECT_EQ(tok::byte_to_codepoint(0xAD), 0x143u);  // soft hyphen is the last remapped byte
  for (int b = 0; b < 256; ++b) EXPECT_EQ(tok::codepoint_to_byte(tok::byte_to_codepoint(static_cast<uint8_t>(b))), b);
  EXPECT_EQ(tok::codepoint_to_byte(0x3000), -1);
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  std::string back;
  ASSERT_TRUE(tok::byte_level_to_bytes(tok::bytes_to_byte_level(all), back));
  EXPECT_EQ(back, all);
  EXPECT_EQ(tok::bytes_to_byte_level("a b\n"), "aĠbĊ");
  EXPECT_FALSE(tok::byte_level_to_bytes("日本", back));
}

TEST(TokenizerUtf8, ReplacementLikePython) {
  // Expected values from Python: bytes.decode("utf-8", "replace").
  const std::string R = "\xEF\xBF\xBD";
  EXPECT_EQ(tok::utf8_replace_invalid("a\xff" "b"), "a" + R + "b");
  EXPECT_EQ(tok::utf8_replace_invalid("\xe2\x82"), R);
  EXPECT_EQ(tok::utf8_replace_invalid("\xe0\x80\x80"), R + R + R);
  EXPECT_EQ(tok::utf8_replace_invalid("\xf0\x9f\x98x"), R + "x");
  EXPECT_EQ(tok::utf8_replace_invalid("\xed\xa0\x80"), R + R + R);  // surrogate
  EXPECT_EQ(tok::utf8_replace_invalid("\xc0\xaf"), R + R);           // overlong
  EXPECT_EQ(tok::utf8_replace_invalid("\xf4\x90\x80\x80"), R + R + R + R);  // > U+10FFFF
  EXPECT_EQ(tok::utf8_replace_invalid("\xe2\x82\xac\x80"), "\xe2\x82\xac" + R);
  EXPECT_EQ(tok::utf8_replace_invalid("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");
  EXPECT_TRUE(tok::utf8_is_valid(std::string("a\0b", 3)));
  EXPECT_FALSE(tok::utf8_is_valid("\xe2\x82"));
  std::string out;
  EXPECT_EQ(tok::utf8_append_complete("ab\xe2\x82", out), 2u);  // the incomplete tail is held back
  EXPECT_EQ(out, "ab");
}

TEST(TokenizerPreTokenizer, OnigWhitespaceRewrite) {
  const std::string ws = R"(\x{9}-\x{D}\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";
  EXPECT_EQ(tok::onig_to_pcre2(R"(\s+(?!\S))"), "[" + ws + "]+(?![^" + ws + "])");
  EXPECT_EQ(tok::onig_to_pcre2(R"([^\s\p{L}])"), "[^" + ws + R"(\p{L}])");
  EXPECT_EQ(tok::onig_to_pcre2(R"(\\s[\]\s]x)"), R"(\\s[\])" + ws + "]x");  // escaped backslash; ']' escaped in a class
  EXPECT_EQ(tok::onig_to_pcre2(R"([]s]\d)"), R"([]s]\d)");
}

TEST(TokenizerPreTokenizer, SplitsLikeHuggingFace) {
  // Expected pieces from Python's `regex` module (Unicode White_Space \s, like Oniguruma).
  auto q = pipeline(PreTokenizer::Qwen2);
  using V = std::vector<std::string>;
  EXPECT_EQ(split_words(q, "  Hello"), (V{" ", " Hello"}));
  EXPECT_EQ(split_words(q, "a \n\n b  "), (V{"a", " \n\n", " b", "  "}));
  EXPECT_EQ(split_words(q, "Hello  world\t\t!"), (V{"Hello", " ", " world", "\t", "\t", "!"}));
  EXPECT_EQ(split_words(q, "I'M \u017f'S"), (V{"I", "'M", " \u017f", "'S"}));
  EXPECT_EQ(split_words(q, "x\u180e\u180ey"), (V{"x", "\u180e\u180e", "y"}));  // U+180E is not \s
  EXPECT_EQ(split_words(q, "12345"), (V{"1", "2", "3", "4", "5"}));
  auto l = pipeline(PreTokenizer::Llama3);
  EXPECT_EQ(split_words(l, "12345 x"), (V{"123", "45", " x"}));
  auto g = pipeline(PreTokenizer::Gpt2);
  EXPECT_EQ(split_words(g, "Hello  world 12345!!"), (V{"Hello", " ", " world", " 12345", "!!"}));
}

// The quadratic scan (short words) and the heap (long words) must agree exactly.
TEST(TokenizerBpe, ScanAndHeapAgree) {
  auto vocab_json = nlohmann::json::parse(read_text_file(repo_dir() + "/data/tokenizers/qwen2.5/vocab.json"));
  tok::StringIdMap vocab;
  for (auto& [k, v] : vocab_json.items()) vocab.emplace(k, v.get<int32_t>());
  std::vector<std::pair<std::string, std::string>> merges;
  std::ifstream mf(repo_dir() + "/data/tokenizers/qwen2.5/merges.txt");
  for (std::string line; std::getline(mf, line);) {
    size_t sp = line.find(' ');
    merges.emplace_back(line.substr(0, sp), line.substr(sp + 1));
  }
  tok::BpeModel bpe;
  bpe.init(std::move(vocab), merges, false, "test");
  auto q = pipeline(PreTokenizer::Qwen2);
  size_t words = 0;
  for (const EncodeRow& r : encode_rows()) {
    std::vector<std::string> pieces = split_words(q, r.text);
    pieces.push_back(r.text.substr(0, 3000));  // whole texts as one long "word"
    for (const std::string& w : pieces) {
      std::vector<int32_t> a, b;
      bpe.merge_word(w, a, 1);
      bpe.merge_word(w, b, 2);
      ASSERT_EQ(a, b) << w;
      ++words;
    }
  }
  EXPECT_GT(words, 50000u);
}

TEST(TokenizerEncode, InvalidUtf8IsReplacedByU_FFFD) {
  const Tokenizer& tok = qwen_json();
  const std::string R = "\xEF\xBF\xBD";
  EXPECT_EQ(tok.encode("a\xff" "b"), tok.encode("a" + R + "b"));
  EXPECT_EQ(tok.decode(tok.encode("a\xff" "b\xe2\x82")), "a" + R + "b" + R);
  EXPECT_EQ(tok.encode("\xff<|im_end|>"), tok.encode(R + "<|im_end|>"));
}

TEST(TokenizerEncode, NulAndNfcOutsideTheAsciiFastPath) {
  const Tokenizer& tok = qwen_json();
  std::string text("\xc3\xa9\0x e\xcc\x81", 8);  // "é\0x é" with a decomposed é
  auto ids = tok.encode(text);
  EXPECT_EQ(tok.decode(ids), std::string("\xc3\xa9\0x \xc3\xa9", 7));
  EXPECT_TRUE(tok.encode("").empty());
}

std::string repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// Long runs of one class of character: one huge word (the heap merge path), regex
// backtracking over whitespace. A quadratic step would make this test crawl (ctest's
// timeout catches it); the speed itself is measured by bench_tokenizer, not here.
TEST(TokenizerEncode, LongRuns) {
  const Tokenizer& tok = qwen_json();
  for (std::string s : {std::string(200000, ' '), std::string(200000, 'a'), std::string(200000, '7'),
                        std::string(100000, '\n') + "x", std::string(50000, '!'), repeat(" \n", 50000),
                        repeat("\t ", 50000) + "a", repeat(" .", 50000), repeat("a ", 50000), repeat("\xc3\xa9 ", 50000)}) {
    std::string mixed = s + " end";
    EXPECT_EQ(tok.decode(tok.encode(mixed)), mixed);
  }
}

TEST(TokenizerEncode, ConcurrentCallsAgree) {
  const Tokenizer& tok = qwen_json();
  const auto& rows = encode_rows();
  // Both threads encode every row (in opposite orders), sharing the word cache.
  int mismatches[2] = {0, 0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      for (size_t k = 0; k < rows.size(); ++k) {
        const EncodeRow& r = rows[t == 0 ? k : rows.size() - 1 - k];
        if (tok.encode(r.text) != r.ids) ++mismatches[t];
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches[0] + mismatches[1], 0);
}

TEST(TokenizerStream, HoldsBackPartialCharacters) {
  const Tokenizer& tok = qwen_json();
  // One id per byte of "你" (E4 BD A0), then a stray continuation byte (0x80).
  auto byte_id = [&](uint8_t b) { return *tok.token_id(tok::bytes_to_byte_level(std::string(1, static_cast<char>(b)))); };
  StreamDecoder sd(tok);
  EXPECT_EQ(sd.push(byte_id(0xE4)), "");
  EXPECT_EQ(sd.push(byte_id(0xBD)), "");
  EXPECT_EQ(sd.push(byte_id(0xA0)), "你");
  EXPECT_EQ(sd.push(byte_id(0x80)), "\xEF\xBF\xBD");  // can never complete: replaced at once
  EXPECT_EQ(sd.push(byte_id(0xE4)), "");
  EXPECT_EQ(sd.flush(), "\xEF\xBF\xBD");
  EXPECT_EQ(sd.flush(), "");
  StreamDecoder skip(tok, true);
  EXPECT_EQ(skip.push(151644), "");
  EXPECT_EQ(skip.push(9707), "Hello");
  StreamDecoder keep(tok);
  EXPECT_EQ(keep.push(151644), "<|im_start|>");
}

// from_vocab (the GGUF path) with Qwen's vocabulary reproduces the reference ids.
TEST(TokenizerFromVocab, QwenVocabularyMatchesReference) {
  auto vocab_json = nlohmann::json::parse(read_text_file(repo_dir() + "/data/tokenizers/qwen2.5/vocab.json"));
  std::vector<std::string> tokens(151665);
  for (auto& [k, v] : vocab_json.items()) tokens[v.get<size_t>()] = k;
  std::vector<int32_t> specials;
  for (int32_t id = 151643; id < 151665; ++id) {
    tokens[id] = qwen_json().token_bytes(id);
    specials.push_back(id);
  }
  std::vector<std::string> merges;
  std::ifstream mf(repo_dir() + "/data/tokenizers/qwen2.5/merges.txt");
  for (std::string line; std::getline(mf, line);) merges.push_back(line);
  Tokenizer tok = Tokenizer::from_vocab(tokens, merges, specials, PreTokenizer::Qwen2);
  EXPECT_EQ(tok.vocab_size(), 151665);
  EXPECT_TRUE(tok.is_special(151657));  // every id passed as special is special
  for (const EncodeRow& r : encode_rows()) {
    ASSERT_EQ(tok.encode(r.text), r.ids) << r.text;
    ASSERT_EQ(tok.decode(r.ids), r.decoded);
  }
}

// ---- toy folders ----

TEST(TokenizerToy, MergeFormatsAndVersionHeader) {
  ToyModel m({{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {"Ġ", "w"}});
  const std::vector<int32_t> expect = {m.id("hello"), m.id("Ġw"), m.id("o")};
  TempDir a, b, c, d;
  a.write("tokenizer.json", m.tokenizer_json().dump());
  b.write("tokenizer.json", m.tokenizer_json(nlohmann::json::array(), true).dump());
  c.write("vocab.json", m.vocab.dump());
  c.write("merges.txt", m.merges_txt(true));
  d.write("vocab.json", m.vocab.dump());
  d.write("merges.txt", m.merges_txt(false));
  for (const TempDir* dir : {&a, &b, &c, &d}) {
    ASSERT_TRUE(Tokenizer::hf_folder_has_tokenizer(dir->str()));
    Tokenizer tok = Tokenizer::from_hf_folder(dir->str());
    EXPECT_EQ(tok.encode("hello wo"), expect) << dir->str();
    EXPECT_EQ(tok.decode(expect), "hello wo");
  }
  TempDir empty;
  EXPECT_FALSE(Tokenizer::hf_folder_has_tokenizer(empty.str()));
}

TEST(TokenizerToy, AddedTokenFlags) {
  ToyModel m({std::pair<std::string, std::string>{"a", "b"}});
  nlohmann::json added = nlohmann::json::array({
      added_token(300, "<s>", true),
      added_token(301, "[L]", false, /*lstrip=*/true),
      added_token(302, "[R]", false, false, /*rstrip=*/true),
      added_token(303, "cat", false, false, false, /*single_word=*/true),
      added_token(304, "<s>x", false),  // longer match wins over "<s>"
      added_token(305, "\xc3\xa9t\xc3\xa9", false, false, false, false, /*normalized=*/true),
  });
  TempDir dir;
  dir.write("tokenizer.json", m.tokenizer_json(added).dump());
  Tokenizer tok = Tokenizer::from_hf_folder(dir.str());
  auto sp = m.id("Ġ");
  EXPECT_EQ(tok.encode("ab<s>ab"), (std::vector<int32_t>{m.id("ab"), 300, m.id("ab")}));
  EXPECT_EQ(tok.encode("<s>", true), (std::vector<int32_t>{m.id("<"), m.id("s"), m.id(">")}));
  EXPECT_EQ(tok.encode("<s>x"), (std::vector<int32_t>{304}));
  EXPECT_EQ(tok.encode("a  [L] b"), (std::vector<int32_t>{m.id("a"), 301, sp, m.id("b")}));
  EXPECT_EQ(tok.encode("a [R]  b"), (std::vector<int32_t>{m.id("a"), sp, 302, m.id("b")}));
  EXPECT_EQ(tok.encode("cat"), (std::vector<int32_t>{303}));
  EXPECT_EQ(tok.encode("a cat."), (std::vector<int32_t>{m.id("a"), sp, 303, m.id(".")}));
  EXPECT_EQ(tok.encode("cats"), (std::vector<int32_t>{m.id("c"), m.id("a"), m.id("t"), m.id("s")}));
  // normalized=true: matched after NFC, so the decomposed spelling matches too.
  EXPECT_EQ(tok.encode("\xc3\xa9t\xc3\xa9"), (std::vector<int32_t>{305}));
  EXPECT_EQ(tok.encode("e\xcc\x81te\xcc\x81"), (std::vector<int32_t>{305}));
  EXPECT_TRUE(tok.is_special(300));
  EXPECT_FALSE(tok.is_special(301));
  EXPECT_EQ(tok.decode(std::vector<int32_t>{300, m.id("ab"), 302}, true), "ab[R]");
}

TEST(TokenizerToy, ConfigTokenForms) {
  ToyModel m(std::vector<std::pair<std::string, std::string>>{});
  TempDir dir;
  dir.write("vocab.json", m.vocab.dump());
  dir.write("merges.txt", "");
  dir.write("tokenizer_config.json", R"({"bos_token": {"content": "<b>", "lstrip": false}, "eos_token": "<e>",
      "pad_token": null, "add_bos_token": true, "tokenizer_class": "Qwen2Tokenizer",
      "added_tokens_decoder": {"256": {"content": "<b>", "special": true}, "257": {"content": "<e>", "special": true}}})");
  Tokenizer tok = Tokenizer::from_hf_folder(dir.str());
  EXPECT_EQ(tok.bos_token(), "<b>");
  EXPECT_EQ(tok.eos_token(), "<e>");
  EXPECT_EQ(tok.pad_token(), "");
  EXPECT_TRUE(tok.add_bos());
  EXPECT_EQ(tok.token_id("<e>"), 257);
  EXPECT_EQ(tok.encode("x<b>"), (std::vector<int32_t>{m.id("x"), 256}));
  EXPECT_EQ(tok.vocab_size(), 258);
}

TEST(TokenizerToy, Gpt2ClassFolderUsesGpt2Regex) {
  // No NFC and the GPT-2 split: " 123" stays one word (and merges to one token).
  ToyModel m({{"Ġ", "1"}, {"2", "3"}, {"Ġ1", "23"}});
  TempDir dir;
  dir.write("vocab.json", m.vocab.dump());
  dir.write("merges.txt", m.merges_txt(true));
  dir.write("tokenizer_config.json", R"({"tokenizer_class": "GPT2Tokenizer"})");
  Tokenizer tok = Tokenizer::from_hf_folder(dir.str());
  EXPECT_EQ(tok.encode(" 123"), (std::vector<int32_t>{m.id("Ġ123")}));
  EXPECT_EQ(tok.encode("e\xcc\x81").size(), 3u);  // not composed
}

TEST(TokenizerFromVocab, Llama3IgnoreMergesAndDigitGroups) {
  ToyModel m({{"1", "2"}, {"12", "3"}});
  std::vector<std::string> tokens(m.vocab.size());
  for (auto& [k, v] : m.vocab.items()) tokens[v.get<size_t>()] = k;
  tokens.push_back("abc");  // reachable by no merge: only ignore_merges finds it
  tokens.push_back("<|eot|>");
  std::vector<std::string> merges;
  for (auto& [a, b] : m.merges) merges.push_back(a + " " + b);
  const int32_t abc = static_cast<int32_t>(tokens.size()) - 2, eot = abc + 1;
  Tokenizer l3 = Tokenizer::from_vocab(tokens, merges, {eot}, PreTokenizer::Llama3);
  EXPECT_EQ(l3.encode("1231abc<|eot|>"), (std::vector<int32_t>{m.id("123"), m.id("1"), abc, eot}));
  EXPECT_EQ(l3.encode("<|eot|>", true).size(), 7u);
  Tokenizer q = Tokenizer::from_vocab(tokens, merges, {eot}, PreTokenizer::Qwen2);
  EXPECT_EQ(q.encode("abc"), (std::vector<int32_t>{m.id("a"), m.id("b"), m.id("c")}));
}

TEST(TokenizerFromVocab, DuplicateTokenTextsStillDecode) {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.push_back(tok::bytes_to_byte_level(std::string(1, static_cast<char>(b))));
  tokens.push_back("Ġ");  // 256: same text as the id of ' '
  Tokenizer t = Tokenizer::from_vocab(tokens, {}, {}, PreTokenizer::Gpt2);
  EXPECT_EQ(t.vocab_size(), 257);
  EXPECT_EQ(t.decode(std::vector<int32_t>{256, 'x'}), " x");  // ids are byte values here
  EXPECT_EQ(t.encode(" "), (std::vector<int32_t>{*t.token_id("Ġ")}));
  EXPECT_NE(*t.token_id("Ġ"), 256);
}

}  // namespace s1::test
