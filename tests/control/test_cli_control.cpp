// `s1 generate` with thinking control, end to end: the JSON record's fields, the budget
// sweep through the binary, the baselines' flags, and clear errors for bad flags.
#include <sys/wait.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "helpers.h"

namespace s1::control::test {
namespace {

struct CliRun {
  int code;
  std::string out, err;
  nlohmann::json json() const { return nlohmann::json::parse(out); }
};

CliRun s1_cli(const std::string& args) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("s1-control-cli-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string out = (dir / "out").string(), err = (dir / "err").string();
  int status = std::system((std::string(S1_BINARY) + " " + args + " </dev/null >" + out + " 2>" + err).c_str());
  auto slurp = [](const std::string& p) {
    std::ifstream f(p);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  };
  CliRun r{WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), slurp(out), slurp(err)};
  fs::remove_all(dir);
  return r;
}

std::string gen(const std::string& model, const std::string& extra) {
  return "generate -m " + model + " -t 1 --chat -p 'How many r in raspberry?' --json " + extra;
}

TEST(ControlCli, JsonRecordFields) {
  CliRun r = s1_cli(gen(tiny_model_dir(), "--max-thinking 16 -n 8"));
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = r.json();
  for (const char* k : {"thinking_text", "answer_text", "thinking_tokens", "answer_tokens", "forced_end", "ignores",
                        "stop_reason", "prompt_ids", "output_ids", "text", "prefill_tokens_per_s", "decode_tokens_per_s",
                        "end_text", "control"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_TRUE(j["forced_end"].is_boolean());
  EXPECT_TRUE(j["ignores"].is_array());
  EXPECT_LE(j["thinking_tokens"].get<int>(), 16);
  EXPECT_EQ(j["control"]["budget_mode"], "harness");
  EXPECT_EQ(j["control"]["delimiters"]["think_start"], "<|im_start|>think");
  const std::string text = j["text"];
  EXPECT_EQ(text.rfind("<|im_start|>think", 0), 0u) << text;
  EXPECT_NE(text.find("<|im_start|>answer"), std::string::npos);
}

TEST(ControlCli, BudgetSweepThroughTheBinary) {
  for (int B : {0, 1, 16, 128}) {
    CliRun r = s1_cli(gen(tiny_model_dir(), "--max-thinking " + std::to_string(B) + " -n 4"));
    ASSERT_EQ(r.code, 0) << r.err;
    auto j = r.json();
    EXPECT_LE(j["thinking_tokens"].get<int>(), B);
    const std::string end = j["end_text"];
    if (j["forced_end"].get<bool>()) {
      EXPECT_NE(end.find("<|im_start|>answer\nFinal Answer:"), std::string::npos) << end;
    }
  }
}

TEST(ControlCli, IgnoresAreRecorded) {
  CliRun r = s1_cli(gen(tiny_model_dir(), "--max-thinking 40 --num-ignore 2 --ignore-str Hmm --end-bias 30 -n 4"));
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = r.json();
  ASSERT_EQ(j["ignores"].size(), 2u);
  EXPECT_EQ(j["ignores"][0]["text"], "Hmm");
  EXPECT_TRUE(j["ignores"][0].contains("position"));
  EXPECT_NE(j["thinking_text"].get<std::string>().find("Hmm"), std::string::npos);
  EXPECT_EQ(j["rounds"], 3);
}

TEST(ControlCli, ReadmeModeAndMinimum) {
  CliRun r = s1_cli(gen(tiny_model_dir(), "--max-thinking 40 --min-thinking 12 --budget-mode readme --end-bias 30 -n 4"));
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = r.json();
  EXPECT_GE(j["thinking_tokens"].get<int>(), 12);
  EXPECT_EQ(j["budget_mode"], "readme");
}

TEST(ControlCli, AutoBudget) {
  CliRun r = s1_cli(gen(tiny_model_dir(), "--max-thinking auto --ctx 400 -n 2"));
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = r.json();
  const int P = int(j["prompt_ids"].size());
  EXPECT_EQ(j["control"]["max_thinking"].get<int>(), 400 - P - 2 - 6 - 100);
  EXPECT_TRUE(j["control"]["max_thinking_auto"].get<bool>());
}

TEST(ControlCli, ConditionalPrompts) {
  struct Case {
    const char* flags;
    const char* text;
  } cases[] = {
      {"--control token-prompt --max-thinking 32", "\n\nThink for up to 32 tokens.<|im_end|>"},
      {"--control step-prompt --control-n 16", "\n\nThink for up to 16 steps.<|im_end|>"},
      {"--control class-long", "\n\nAnswer after a long amount of thinking. If you feel"},
      {"--control class-short", "Do not spend excessive time double-checking your work.<|im_end|>"},
  };
  for (const auto& c : cases) {
    CliRun r = s1_cli(gen(tiny_model_dir(), std::string(c.flags) + " -n 2"));
    ASSERT_EQ(r.code, 0) << c.flags << ": " << r.err;
    auto prompt = r.json()["prompt_ids"].get<std::vector<int32_t>>();
    EXPECT_NE(qwen().decode(prompt).find(c.text), std::string::npos) << c.flags;
  }
}

TEST(ControlCli, RejectionAndVoting) {
  CliRun r = s1_cli(gen(tiny_model_dir(), "--control rejection --max-thinking 12 --end-bias 9 --temperature 1 --seed 4 -n 4"));
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = r.json();
  ASSERT_TRUE(j["rejection"]["attempts"].is_array());
  EXPECT_FALSE(j["rejection"]["attempts"].empty());
  if (j["rejection"]["accepted"].get<bool>()) { EXPECT_LE(j["thinking_tokens"].get<int>(), 11); }

  CliRun v = s1_cli(gen(tiny_model_dir(), "--max-thinking 8 --samples 3 --vote --temperature 1 -n 4"));
  ASSERT_EQ(v.code, 0) << v.err;
  auto k = v.json();
  EXPECT_EQ(k["samples"].size(), 3u);
  EXPECT_TRUE(k["vote"].contains("answer"));
  EXPECT_EQ(k["vote"]["samples"], 3);
  for (const auto& s : k["samples"]) EXPECT_LE(s["thinking_tokens"].get<int>(), 8);
}

TEST(ControlCli, BadFlagsGiveClearErrors) {
  struct Case {
    const char* flags;
    const char* message;
  } cases[] = {
      {"--max-thinking 10 --min-thinking 20", "--min-thinking (20) is larger than the thinking budget (10)"},
      {"--control best-of-n", "unknown --control 'best-of-n'"},
      {"--max-thinking lots", "--max-thinking: expected a number >= 0 or 'auto'"},
      {"--budget-mode paper", "unknown budget mode 'paper'"},
      {"--family qwen", "unknown thinking family 'qwen'"},
      {"--control rejection", "--control rejection needs --max-thinking"},
      {"--control step-prompt", "needs --control-n"},
  };
  for (const auto& c : cases) {
    CliRun r = s1_cli(gen(tiny_model_dir(), c.flags));
    EXPECT_EQ(r.code, 1) << c.flags;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.flags << ": " << r.err;
    EXPECT_EQ(r.err.rfind("s1: error: ", 0), 0u) << r.err;
  }
}

TEST(ControlCli, BenchWaitSmoke) {
  CliRun r = s1_cli("bench-wait -m " + tiny_model_dir() + " -t 1 --context 64 --decode 2 --runs 1 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = r.json();
  EXPECT_EQ(j["context_tokens"], 64);
  EXPECT_EQ(j["wait_tokens"], 1);
  EXPECT_GT(j["reprefill_median_s"].get<double>(), 0.0);
  EXPECT_GT(j["ratio_reprefill_over_in_loop"].get<double>(), 0.0);
}

// SmolLM2-135M-Instruct (a real model, ChatML) once the GGUF loader reads it.
TEST(ControlCli, SmolLM2BudgetSweep) {
  const std::string gguf = std::string(S1_REPO_ROOT) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
  if (!std::filesystem::exists(gguf)) GTEST_SKIP() << gguf << " not present (see shared/README.md)";
  CliRun probe = s1_cli("generate -m " + gguf + " -t 1 --chat -p hi -n 1 --json");
  if (probe.code != 0) GTEST_SKIP() << "this build cannot run the GGUF file yet: " << probe.err;
  int runs = 0, within = 0;
  for (int B : {0, 1, 16, 128}) {
    CliRun r = s1_cli(gen(gguf, "--max-thinking " + std::to_string(B) + " -n 8"));
    ASSERT_EQ(r.code, 0) << r.err;
    auto j = r.json();
    ++runs;
    within += j["thinking_tokens"].get<int>() <= B;
    EXPECT_TRUE(j["thinking_ended"].get<bool>());
    const std::string end = j["end_text"];
    if (j["forced_end"].get<bool>()) {
      EXPECT_NE(end.find("<|im_start|>answer\nFinal Answer:"), std::string::npos) << end;
    } else {
      EXPECT_EQ(end.rfind("<|im_start|>answer", 0), 0u) << end;
    }
  }
  EXPECT_EQ(within, runs);
}

}  // namespace
}  // namespace s1::control::test
