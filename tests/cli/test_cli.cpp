// The `s1` binary end to end: what a user types, what comes out, and the exit code.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace {

const std::string kData = S1_TEST_DATA;
const std::string kBin = S1_BINARY;
const std::string kTiny = kData + "/reference/models/qwen2-tied/f32";
const std::string kTok = kData + "/reference/tokenizer/qwen2.5";

struct CliRun {
  int code;
  std::string out, err;
};

CliRun run(const std::string& args, const std::string& stdin_text = "") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("s1-cli-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string in = (dir / "in").string(), out = (dir / "out").string(), err = (dir / "err").string();
  std::ofstream(in) << stdin_text;
  int status = std::system((kBin + " " + args + " <" + in + " >" + out + " 2>" + err).c_str());
  auto slurp = [](const std::string& p) {
    std::ifstream f(p);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  };
  CliRun r{WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), slurp(out), slurp(err)};
  fs::remove_all(dir);
  return r;
}

TEST(Cli, GenerateWithPromptIdsJson) {
  CliRun r = run("generate -m " + kTiny + " --prompt-ids 5,6,7,8 -n 6 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["prompt_ids"], nlohmann::json({5, 6, 7, 8}));
  EXPECT_EQ(j["output_ids"].size(), 6u);
  for (const char* k : {"text", "prefill_tokens_per_s", "decode_tokens_per_s", "stop_reason"}) EXPECT_TRUE(j.contains(k)) << k;
  // greedy by default: the same command gives the same ids
  CliRun r2 = run("generate -m " + kTiny + " --prompt-ids 5,6,7,8 -n 6 --json");
  EXPECT_EQ(nlohmann::json::parse(r2.out)["output_ids"], j["output_ids"]);
}

// s1 bench on the tiny model: the JSON the issue names, the profile per decode position,
// and the percentages computed against the bandwidth read around each decode run: one
// reading before the prefill, then one before and one after each of a position's four
// stretches of decoding.
TEST(Cli, BenchJsonWithProfile) {
  CliRun r = run("bench -m " + kTiny + " --prompt 8 --gen 4 --positions 8,20 --threads 2 --json --profile");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  for (const char* k : {"read_bandwidth_gbps", "prefill_tokens_per_s", "fma_peak_gflops", "decode", "kv_cache_dtype"})
    EXPECT_TRUE(j.contains(k)) << k;
  const auto& samples = j["read_bandwidth_samples_gbps"];
  ASSERT_EQ(samples.size(), 1u + 2u * 5u);
  double lo = 1e30, hi = 0;
  for (const auto& g : samples) lo = std::min(lo, g.get<double>()), hi = std::max(hi, g.get<double>());
  EXPECT_EQ(j["read_bandwidth_gbps"].get<double>(), hi);
  ASSERT_EQ(j["decode"].size(), 2u);
  for (const auto& d : j["decode"]) {
    EXPECT_GT(d["tokens_per_s"].get<double>(), 0);
    const double around = d["read_bandwidth_gbps"].get<double>();
    EXPECT_GE(around, lo);
    EXPECT_LE(around, hi);
    EXPECT_NEAR(d["pct_of_bandwidth"].get<double>(), 100 * d["gbps"].get<double>() / around, 1e-6);
    bool attention = false;
    for (const auto& p : d["profile"]) {
      if (p["op"] == "attention") {
        attention = true;
        EXPECT_EQ(p["calls_per_token"].get<double>(), 2.0);  // one per layer
      }
      EXPECT_GE(p["ms_per_token"].get<double>(), 0);
    }
    EXPECT_TRUE(attention);
  }
  EXPECT_EQ(run("bench -m " + kTiny + " --prompt 0").code, 1);
}

// --plain-read: each decode position also reports the rate of a plain read of the memory
// its tokens read, and decode as a percentage of that rate.
TEST(Cli, BenchPlainRead) {
  CliRun r = run("bench -m " + kTiny + " --prompt 8 --gen 4 --positions 8 --threads 2 --json --plain-read");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto d = nlohmann::json::parse(r.out)["decode"].at(0);
  EXPECT_GT(d["plain_read_gbps"].get<double>(), 0);
  EXPECT_NEAR(d["pct_of_plain_read"].get<double>(), 100 * d["gbps"].get<double>() / d["plain_read_gbps"].get<double>(),
              1e-6 * d["pct_of_plain_read"].get<double>());
  CliRun text = run("bench -m " + kTiny + " --prompt 8 --gen 4 --positions 8 --threads 2 --plain-read");
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("plain read @8"), std::string::npos) << text.out;
}

TEST(Cli, SeededSamplingIsReproducible) {
  std::string cmd = "generate -m " + kTiny + " --prompt-ids 1,2,3 -n 12 --temperature 1.0 --top-p 0.9 --json --seed ";
  auto a = nlohmann::json::parse(run(cmd + "11").out)["output_ids"];
  auto b = nlohmann::json::parse(run(cmd + "11").out)["output_ids"];
  auto c = nlohmann::json::parse(run(cmd + "12").out)["output_ids"];
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(Cli, TokenizeDetokenizeTemplate) {
  CliRun t = run("tokenize -m " + kTok + " -", "Hello world<|im_end|>");
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_EQ(nlohmann::json::parse(t.out), nlohmann::json({9707, 1879, 151645}));
  CliRun ts = run("tokenize -m " + kTok + " --special-as-text -", "<|im_end|>");
  EXPECT_NE(nlohmann::json::parse(ts.out).size(), 1u);
  CliRun d = run("detokenize -m " + kTok + " 9707,1879,151645");
  EXPECT_EQ(d.out, "Hello world<|im_end|>");

  namespace fs = std::filesystem;
  fs::path msgs = fs::temp_directory_path() / "s1-cli-msgs.json";
  std::ofstream(msgs) << R"([{"role":"user","content":"How many r in raspberry?"}])";
  CliRun tp = run("template -m " + kTok + " --messages " + msgs.string() + " --add-generation-prompt");
  ASSERT_EQ(tp.code, 0) << tp.err;
  EXPECT_EQ(tp.out,
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\nHow many r in raspberry?<|im_end|>\n<|im_start|>assistant\n");
  CliRun ml = run("template -m " + kTok + " --chat-template chatml --messages " + msgs.string());
  EXPECT_EQ(ml.out, "<|im_start|>user\nHow many r in raspberry?<|im_end|>\n");
  fs::remove(msgs);
}

TEST(Cli, Info) {
  CliRun r = run("info -m " + kTiny + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["family"], "qwen2");
  EXPECT_EQ(j["layers"], 2);
  EXPECT_GT(j["parameters"].get<int64_t>(), 0);
}

TEST(Cli, ErrorsAreOneLineAndNonZero) {
  CliRun a = run("generate -m /nonexistent --prompt-ids 1");
  EXPECT_NE(a.code, 0);
  EXPECT_NE(a.err.find("/nonexistent"), std::string::npos) << a.err;
  EXPECT_TRUE(a.out.empty());
  CliRun b = run("generate -m " + kTiny + " -p hello");  // fixture has no tokenizer
  EXPECT_NE(b.code, 0);
  EXPECT_NE(b.err.find("--prompt-ids"), std::string::npos) << b.err;
  CliRun c = run("generate -m " + kTiny + " --prompt-ids 1,x");
  EXPECT_NE(c.code, 0);
  EXPECT_NE(c.err.find("'x'"), std::string::npos) << c.err;
  CliRun d = run("generate -m " + kTiny + " --prompt-ids 99999");
  EXPECT_NE(d.code, 0);
  CliRun e = run("frobnicate");
  EXPECT_NE(e.code, 0);
  CliRun f = run("generate -m " + kTiny + " --prompt-ids 1 --temperature -1");
  EXPECT_NE(f.code, 0);
}

}  // namespace
