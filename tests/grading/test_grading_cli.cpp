// `s1 grade` end to end (the built binary): the math_cot_50 fixture flattened to one
// response per line gives the library's verdicts with every field kept; malformed input is
// one error naming the line, exit 1, no output; stdin, --kind and per-line kinds.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "grading/grader.h"

namespace {

namespace fs = std::filesystem;

struct Result {
  int code = -1;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class GradeCli : public ::testing::Test {
 protected:
  fs::path dir;
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("s1-grade-cli-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  fs::path write(const std::string& name, const std::string& text) {
    fs::path p = dir / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  Result run(const std::string& args, const std::string& stdin_file = "") {
    fs::path out = dir / "stdout", err = dir / "stderr";
    std::string cmd = std::string(S1_BINARY) + " grade " + args + " > " + out.string() + " 2> " + err.string();
    if (!stdin_file.empty()) cmd += " < " + stdin_file;
    int status = std::system(cmd.c_str());
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }
};

std::vector<nlohmann::ordered_json> lines_of(const std::string& text) {
  std::vector<nlohmann::ordered_json> v;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l))
    if (!l.empty()) v.push_back(nlohmann::ordered_json::parse(l));
  return v;
}

TEST_F(GradeCli, FixtureFlattenedMatchesTheLibraryAndKeepsFields) {
  std::ifstream in(std::string(S1_TEST_DATA) + "/grading/math_cot_50.jsonl");
  ASSERT_TRUE(in);
  std::string flat, line;
  int expected_correct = 0, n = 0;
  std::vector<bool> expected;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    for (size_t k = 0; k < j["code"].size(); ++k) {
      nlohmann::ordered_json o;
      o["idx"] = j["idx"];
      o["sample"] = k;
      o["response"] = j["code"][k];
      o["gold"] = j["answer"];
      o["their_score"] = j["score"][k];
      flat += o.dump() + "\n";
      bool c = s1::grading::grade(j["code"][k].get<std::string>(), j["answer"].get<std::string>(),
                                  s1::grading::AnswerKind::Math)
                   .correct;
      expected.push_back(c);
      expected_correct += c;
      ++n;
    }
  }
  ASSERT_EQ(n, 400);
  fs::path input = write("flat.jsonl", flat);
  fs::path out = dir / "graded.jsonl";
  Result r = run(input.string() + " --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");  // --out: nothing on stdout
  EXPECT_NE(r.err.find("400 answers, 383 correct (95.75%)"), std::string::npos) << r.err;
  auto graded = lines_of(slurp(out));
  ASSERT_EQ(graded.size(), 400u);
  int correct = 0;
  for (size_t i = 0; i < graded.size(); ++i) {
    const auto& g = graded[i];
    // original fields first, in their order, then ours
    std::vector<std::string> keys;
    for (auto it = g.begin(); it != g.end(); ++it) keys.push_back(it.key());
    std::vector<std::string> want{"idx", "sample", "response", "gold", "their_score", "extracted", "correct", "method"};
    EXPECT_EQ(keys, want);
    EXPECT_EQ(g["correct"].get<bool>(), bool(expected[i])) << i;
    correct += g["correct"].get<bool>();
  }
  EXPECT_EQ(correct, expected_correct);
  EXPECT_EQ(correct, 383);
  // the idx-3 disagreement with the other grader, as reviewed
  EXPECT_EQ(graded[24]["idx"], 3);
  EXPECT_EQ(graded[24]["extracted"], "4:30 \\text{ p.m.}");
  EXPECT_TRUE(graded[24]["correct"].get<bool>());
  EXPECT_FALSE(graded[24]["their_score"].get<bool>());
}

TEST_F(GradeCli, StdinKindsAndNullExtraction) {
  fs::path input = write("in.jsonl",
                         "{\"response\": \"so \\\\boxed{042}\", \"gold\": 42}\n"
                         "\n"
                         "{\"response\": \"Answer: (C)\", \"gold\": \"C\", \"kind\": \"choice\"}\n"
                         "{\"response\": \"no idea\", \"gold\": \"7\"}\n"
                         "{\"response\": \"\\\\boxed{43}\", \"gold\": \"042\"}\n");
  Result r = run("- --kind integer", input.string());
  ASSERT_EQ(r.code, 0) << r.err;
  auto g = lines_of(r.out);
  ASSERT_EQ(g.size(), 4u);
  EXPECT_EQ(g[0]["extracted"], "042");
  EXPECT_TRUE(g[0]["correct"].get<bool>());
  EXPECT_EQ(g[0]["method"], "integer");
  EXPECT_EQ(g[1]["extracted"], "C");
  EXPECT_EQ(g[1]["method"], "choice");
  EXPECT_TRUE(g[2]["extracted"].is_null());
  EXPECT_EQ(g[2]["method"], "none");
  EXPECT_FALSE(g[3]["correct"].get<bool>());
  EXPECT_NE(r.err.find("4 answers, 2 correct (50.00%), 1 without an extracted answer"), std::string::npos) << r.err;
}

TEST_F(GradeCli, MalformedLinesAreOneErrorNamingTheLineAndNoOutput) {
  struct Case {
    std::string text, expect;
  } cases[] = {
      {"{\"response\": \"1\", \"gold\": \"1\"}\n{\"response\": \"1\", \"gold\": }\n", "line 2: invalid JSON"},
      {"{\"response\": \"1\", \"gold\": \"1\"}\n\n{\"response\": \"1\"}\n", "line 3: missing \"gold\""},
      {"{\"gold\": \"1\"}\n", "line 1: missing \"response\""},
      {"[1, 2]\n", "line 1: expected a JSON object"},
      {"{\"response\": 5, \"gold\": \"1\"}\n", "line 1: \"response\" must be a string"},
      {"{\"response\": \"x\", \"gold\": \"1\", \"kind\": \"essay\"}\n", "line 1: \"kind\" must be"},
  };
  for (const auto& c : cases) {
    fs::path input = write("bad.jsonl", c.text);
    fs::path out = dir / "never.jsonl";
    Result r = run(input.string() + " --out " + out.string());
    EXPECT_EQ(r.code, 1) << c.text;
    EXPECT_NE(r.err.find("s1: error: " + c.expect), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_FALSE(fs::exists(out));
  }
  Result missing = run((dir / "no-such.jsonl").string());
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("s1: error:"), std::string::npos);
  Result bad_kind = run("--kind essay " + write("ok.jsonl", "{}\n").string());
  EXPECT_NE(bad_kind.code, 0);
}

}  // namespace
