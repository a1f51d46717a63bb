// Questions in: CSV, GPQA from a password-protected zip, JSONL files, the shipped
// benchmarks; the sweep's plan; compute_sample_stats' split of a response.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zip.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "eval/dataset.h"
#include "eval/gpqa.h"
#include "eval/plan.h"
#include "eval/sample.h"

namespace s1::eval {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The CSV parser itself is tested in tests/util/test_util.cpp.

// A GPQA-shaped zip as the authors ship theirs: dataset/gpqa_diamond.csv, traditional
// PKWARE encryption, written by libzip here.
std::string make_zip(const std::string& csv, const char* password, const char* member = "dataset/gpqa_diamond.csv") {
  fs::path p = fs::temp_directory_path() / ("s1-eval-gpqa-" + std::to_string(::getpid()) + ".zip");
  fs::remove(p);
  int err = 0;
  zip_t* z = zip_open(p.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  EXPECT_NE(z, nullptr);
  std::string* keep = new std::string(csv);  // freed with the zip's source
  zip_source_t* src = zip_source_buffer(z, keep->data(), keep->size(), 0);
  zip_int64_t idx = zip_file_add(z, member, src, ZIP_FL_OVERWRITE);
  EXPECT_GE(idx, 0);
  if (password) EXPECT_EQ(zip_file_set_encryption(z, zip_uint64_t(idx), ZIP_EM_TRAD_PKWARE, password), 0);
  EXPECT_EQ(zip_close(z), 0) << zip_strerror(z);
  delete keep;
  return p.string();
}

TEST(EvalGpqa, ReadsTheEncryptedZipAndLaysOutS1sPrompt) {
  std::string csv = slurp(std::string(S1_TEST_DATA) + "/eval/gpqa_fake.csv");
  std::string zip = make_zip(csv, "not-the-real-one");
  auto qs = load_gpqa_zip(zip, "not-the-real-one", 0);
  ASSERT_EQ(qs.size(), 3u);
  EXPECT_EQ(qs[0].id, "recFAKE0001");
  EXPECT_EQ(qs[0].kind, grading::AnswerKind::MultipleChoice);
  // "{Question}\n\nA) ..\nB) ..\nC) ..\nD) .." with the question verbatim
  const std::string& p = qs[0].question;
  EXPECT_EQ(p.rfind("Which fake particle is the lightest?\n(Two lines, a comma, and a \"quote\".)\n\nA) ", 0), 0u) << p;
  for (const char* opt : {"\nA) ", "\nB) ", "\nC) ", "\nD) "}) EXPECT_NE(p.find(opt), std::string::npos);
  // the gold letter points at the correct answer
  for (const auto& q : qs) {
    ASSERT_EQ(q.gold.size(), 1u);
    std::string line = std::string("\n") + q.gold + ") ";
    size_t at = q.question.find(line);
    ASSERT_NE(at, std::string::npos);
    std::string choice = q.question.substr(at + line.size(), q.question.find('\n', at + 1) - at - line.size());
    const char* correct[] = {"Fakeon", "Teal.", "7"};  // lm-eval's preprocess: " [title]" -> ". "
    EXPECT_EQ(choice.substr(0, std::string(correct[&q - &qs[0]]).size()), correct[&q - &qs[0]]) << q.question;
  }
  // lm-eval's preprocess strips choices
  EXPECT_NE(qs[2].question.find(") 9"), std::string::npos) << qs[2].question;
  // a fixed seed: the same layout every time; another seed may shuffle differently
  EXPECT_EQ(load_gpqa_zip(zip, "not-the-real-one", 0)[1].question, qs[1].question);
  fs::remove(zip);
}

TEST(EvalGpqa, PreprocessAsLmEval) {
  // strip; " [title]" -> ". "; drop [...] within a line; "  " -> " " once, left to right
  EXPECT_EQ(gpqa_preprocess("  a [x] b  [y\nz] c [title] "), "a b [y\nz] c. ");
  EXPECT_EQ(gpqa_preprocess("x    y"), "x  y");
  EXPECT_EQ(gpqa_preprocess("[unclosed"), "[unclosed");
  EXPECT_EQ(gpqa_preprocess(std::string(200000, '[')), std::string(200000, '['));  // long input, no recursion
}

TEST(EvalGpqa, PermutationIsFixedAndCoversEveryLetter) {
  EXPECT_EQ(gpqa_permutation("recX", 0), gpqa_permutation("recX", 0));
  int seen[4] = {0, 0, 0, 0};
  for (int i = 0; i < 200; ++i) {
    auto p = gpqa_permutation("rec" + std::to_string(i), 0);
    std::array<int, 4> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (std::array<int, 4>{0, 1, 2, 3}));
    for (int k = 0; k < 4; ++k)
      if (p[size_t(k)] == 3) seen[k]++;
  }
  for (int k = 0; k < 4; ++k) EXPECT_GT(seen[k], 25) << "letter " << char('A' + k);  // ~50 each
}

TEST(EvalGpqa, WrongPasswordMissingMemberAndNotAZipAreClearErrors) {
  std::string csv = slurp(std::string(S1_TEST_DATA) + "/eval/gpqa_fake.csv");
  std::string zip = make_zip(csv, "right");
  try {
    load_gpqa_zip(zip, "wrong", 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("password"), std::string::npos) << e.what();
  }
  try {
    load_gpqa_zip(zip, "", 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("password"), std::string::npos) << e.what();
  }
  std::string other = make_zip(csv, nullptr, "dataset/gpqa_main.csv");
  EXPECT_THROW(load_gpqa_zip(other, "", 0), Error);
  fs::path junk = fs::temp_directory_path() / ("s1-eval-junk-" + std::to_string(::getpid()) + ".zip");
  std::ofstream(junk) << "not a zip";
  EXPECT_THROW(load_gpqa_zip(junk.string(), "x", 0), Error);
  fs::remove(junk);
  fs::remove(zip);
}

TEST(EvalData, JsonlQuestionsAndGoldFormatting) {
  auto qs = load_jsonl_questions(std::string(S1_TEST_DATA) + "/eval/questions.jsonl", "problem", "answer", "id",
                                 grading::AnswerKind::Math);
  ASSERT_EQ(qs.size(), 3u);
  EXPECT_EQ(qs[0].id, "q-add");
  EXPECT_EQ(qs[0].question, "What is $1+1$?");
  EXPECT_EQ(qs[2].gold, "7");  // 7.0 as AMC writes numbers
  EXPECT_EQ(gold_text(nlohmann::json(2.5)), "2.5");
  EXPECT_EQ(gold_text(nlohmann::json(42)), "42");
  // numbered by line without an id field
  auto numbered = parse_jsonl_questions("{\"q\":\"a\",\"a\":1}\n\n{\"q\":\"b\",\"a\":2}\n", "x", "q", "a", "",
                                        grading::AnswerKind::Integer);
  ASSERT_EQ(numbered.size(), 2u);
  EXPECT_EQ(numbered[1].id, "1");
  EXPECT_THROW(parse_jsonl_questions("{\"q\":\"a\"}\n", "x", "q", "a", "", grading::AnswerKind::Math), Error);
  EXPECT_THROW(parse_jsonl_questions("{\"q\":1,\"a\":1}\n", "x", "q", "a", "", grading::AnswerKind::Math), Error);
  EXPECT_THROW(parse_jsonl_questions("not json\n", "x", "q", "a", "", grading::AnswerKind::Math), Error);
  EXPECT_THROW(parse_jsonl_questions("{\"i\":1,\"q\":\"a\",\"a\":1}\n{\"i\":1,\"q\":\"b\",\"a\":2}\n", "x", "q", "a",
                                     "i", grading::AnswerKind::Math),
               Error);  // duplicate id
  EXPECT_THROW(parse_jsonl_questions("", "x", "q", "a", "", grading::AnswerKind::Math), Error);
}

TEST(EvalData, ShippedBenchmarks) {
  auto aime = load_benchmark("aime24", S1_REPO_DATA);
  ASSERT_EQ(aime.size(), 30u);
  EXPECT_EQ(aime[0].id, "60");
  EXPECT_EQ(aime[0].kind, grading::AnswerKind::Integer);
  EXPECT_EQ(aime[23].gold, "045");  // zero-padded, compared as integers by the grader
  auto amc = load_benchmark("amc23", S1_REPO_DATA);
  ASSERT_EQ(amc.size(), 40u);
  EXPECT_EQ(amc[0].gold, "27");
  auto math = load_benchmark("math500", S1_REPO_DATA);
  ASSERT_EQ(math.size(), 500u);
  EXPECT_EQ(math[0].id, "test/precalculus/807.json");
  EXPECT_EQ(math[0].gold, "\\left( 3, \\frac{\\pi}{2} \\right)");
  EXPECT_THROW(load_benchmark("aime25", S1_REPO_DATA), Error);
}

TEST(EvalPlan, PointsBudgetsAndSettings) {
  EXPECT_EQ(parse_budget_list("256,512,1k,2K"), (std::vector<int64_t>{256, 512, 1000, 2000}));
  EXPECT_THROW(parse_budget_list("256,,512"), Error);
  EXPECT_THROW(parse_budget_list("-3"), Error);
  EXPECT_THROW(parse_budget_list("12x"), Error);
  EXPECT_THROW(parse_method("wait"), Error);
  auto pts = expand_points({Method::Budget, Method::ClassLong, Method::TokenPrompt, Method::Budget}, {256, 512});
  ASSERT_EQ(pts.size(), 5u);  // budget x2, class-long once, token-prompt x2; the repeated budget dropped
  EXPECT_EQ(pts[0].label(), "budget@256");
  EXPECT_EQ(pts[2].label(), "class-long");
  EXPECT_EQ(pts[4].label(), "token-prompt@512");
  EXPECT_THROW(expand_points({Method::Budget}, {}), Error);

  PointSettings b = point_settings({Method::Budget, 512}, 0, 32, 2048);
  EXPECT_EQ(b.max_thinking, 512);
  EXPECT_EQ(b.a_max, 512);
  EXPECT_EQ(b.question_suffix, "");
  PointSettings t = point_settings({Method::TokenPrompt, 512}, 0, 32, 2048);
  EXPECT_FALSE(t.max_thinking);  // s1's TCC: the prompt asks, "auto" bounds
  EXPECT_EQ(t.question_suffix, "\n\nThink for up to 512 tokens.");
  PointSettings s = point_settings({Method::StepPrompt, 512}, 0, 32, 2048);
  EXPECT_EQ(s.question_suffix, "\n\nThink for up to 16 steps.");
  PointSettings c = point_settings({Method::ClassShort, std::nullopt}, 0, 32, 2048);
  EXPECT_EQ(c.a_max, 2048);
  EXPECT_NE(c.question_suffix.find("short amount of thinking"), std::string::npos);
  PointSettings n = point_settings({Method::None, std::nullopt}, 0, 32, 2048);
  EXPECT_FALSE(n.controlled);
  EXPECT_FALSE(n.a_max);
  PointSettings r = point_settings({Method::Rejection, 300}, 0, 32, 2048);
  EXPECT_TRUE(r.rejection);
  EXPECT_EQ(r.max_thinking, 300);
}

TEST(EvalStats, SplitsLikeComputeSampleStats) {
  auto s = stats_split("<|im_start|>think\nline one\nline two\n<|im_start|>answer\nAnswer: 5", "<|im_start|>answer");
  EXPECT_EQ(s.thinking, "line one\nline two");
  EXPECT_EQ(s.answer, "Answer: 5");
  // a forced end: the last (partial) line of thinking is dropped too
  auto f = stats_split("<|im_start|>think\nabc\ncut mid\n<|im_start|>answer\nFinal Answer: 7", "<|im_start|>answer");
  EXPECT_EQ(f.thinking, "abc\ncut mid");
  EXPECT_EQ(f.answer, "Final Answer: 7");
  auto g = stats_split("<|im_start|>think\nabc\ndef ghi<|im_start|>answer\n\\boxed{1}\nmore", "<|im_start|>answer");
  EXPECT_EQ(g.thinking, "abc");  // "def ghi" is the last line
  EXPECT_EQ(g.answer, "\\boxed{1}\nmore");
  auto none = stats_split("<|im_start|>think\nnever ends\n", "<|im_start|>answer");
  EXPECT_EQ(none.thinking, "never ends");
  EXPECT_EQ(none.answer, "");
  auto one_line = stats_split("<|im_start|>thinkxyz<|im_start|>answer\nA", "<|im_start|>answer");
  EXPECT_EQ(one_line.thinking, "");
}

}  // namespace
}  // namespace s1::eval
