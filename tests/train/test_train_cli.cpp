// `s1 train` end to end on a tiny random Qwen2.5-shaped model with the real tokenizer
// (`s1 make-model --shape qwen2.5-tiny`): it overfits three s1K-style examples until
// greedy decoding reproduces them; a run stopped and resumed from its checkpoint ends
// bit-identical to an uninterrupted one; the exported folder has the base model's
// tensor names and loads in the engine.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "formats/safetensors.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace s1 {
namespace {
namespace fs = std::filesystem;

const std::string kBin = S1_BINARY;

struct CliResult {
  int code;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

class TrainCli : public ::testing::Test {
 protected:
  static fs::path dir_;
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("s1-train-cli-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    ASSERT_EQ(run("make-model --shape qwen2.5-tiny --dtype f32 --seed 3 --out " + (dir_ / "base").string()).code, 0);
    std::ofstream(dir_ / "data.jsonl")
        << R"({"question": "What is 2+3?", "thinking_trajectories": ["Two plus three is five."], "attempt": "5"})" "\n"
        << R"({"question": "Capital of France?", "thinking_trajectories": ["Paris."], "attempt": "Paris"})" "\n"
        << R"({"question": "Color of the sky?", "thinking_trajectories": ["Blue."], "attempt": "blue"})" "\n";
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static CliResult run(const std::string& args) {
    const fs::path out = dir_ / "stdout", err = dir_ / "stderr";
    const int status = std::system((kBin + " " + args + " >" + out.string() + " 2>" + err.string()).c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), slurp(out), slurp(err)};
  }
  static std::vector<nlohmann::json> log(const fs::path& d) {
    std::vector<nlohmann::json> v;
    std::ifstream f(d / "train_log.jsonl");
    std::string line;
    while (std::getline(f, line)) v.push_back(nlohmann::json::parse(line));
    return v;
  }
  static std::string base() { return (dir_ / "base").string(); }
  static std::string data() { return (dir_ / "data.jsonl").string(); }
};
fs::path TrainCli::dir_;

// Greedy continuation of the chat prompt for `question`, up to <|im_end|>.
std::string greedy_answer(Model& m, const Tokenizer& tok, const ChatTemplate& tpl, const std::string& question) {
  const std::string prompt =
      tpl.apply(nlohmann::json::array({{{"role", "user"}, {"content", question}}}), true);
  std::vector<int32_t> ids = tok.encode(prompt), out;
  const int32_t im_end = *tok.token_id("<|im_end|>");
  KVCache kv(m, 512);
  std::vector<float> logits(size_t(m.config().vocab_size));
  m.forward(kv, ids, logits.data());
  for (int i = 0; i < 64; ++i) {
    const int32_t next = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
    if (next == im_end) break;
    out.push_back(next);
    m.forward(kv, std::span<const int32_t>(&next, 1), logits.data());
  }
  return tok.decode(out);
}

TEST_F(TrainCli, OverfitsAHandfulOfExamplesThenGeneratesThem) {
  // A 2-layer, 64-wide model with a tied 151,936-row head: a constant 1e-2 learning rate
  // memorises the three examples in 80 full-batch steps (cosine decay would need more).
  const fs::path out = dir_ / "overfit";
  CliResult r = run("train -m " + base() + " --data " + data() + " --out " + out.string() +
                    " --epochs 80 --batch 3 --micro-batch 2 --lr 1e-2 --lr-schedule constant --warmup-ratio 0"
                    " --block-size 256 -t 1");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("data: 3 rows, 3 used; 0 cut"), std::string::npos) << r.out;
  auto lg = log(out);
  ASSERT_EQ(lg.size(), 80u);
  EXPECT_GT(lg.front()["loss"].get<double>(), 10.0);  // random init: ~ln(151936) = 11.9
  EXPECT_LT(lg.back()["loss"].get<double>(), 0.05);   // memorised
  EXPECT_TRUE(fs::exists(out / "loss.svg"));

  auto m = Model::load(out.string(), make_cpu_backend(1));
  Tokenizer tok = Tokenizer::from_hf_folder(out.string());
  ChatTemplate tpl(find_chat_template(out.string()));
  EXPECT_EQ(greedy_answer(*m, tok, tpl, "What is 2+3?"),
            "<|im_start|>think\nTwo plus three is five.\n<|im_start|>answer\nAnswer: 5");
  EXPECT_EQ(greedy_answer(*m, tok, tpl, "Capital of France?"), "<|im_start|>think\nParis.\n<|im_start|>answer\nAnswer: Paris");
  // And through the CLI.
  CliResult g = run("generate -m " + out.string() + " --chat -p 'Color of the sky?' -n 20 -t 1");
  ASSERT_EQ(g.code, 0) << g.err;
  EXPECT_NE(g.out.find("<|im_start|>think\nBlue.\n<|im_start|>answer\nAnswer: blue"), std::string::npos) << g.out;
}

TEST_F(TrainCli, ResumedRunEqualsUninterruptedRun) {
  const std::string common = " -m " + base() + " --data " + data() + " --epochs 2 --batch 2 --lr 1e-3 -t 2 -q";
  const fs::path a = dir_ / "a", b = dir_ / "b";
  ASSERT_EQ(run("train" + common + " --out " + a.string()).code, 0);
  ASSERT_EQ(run("train" + common + " --out " + b.string() + " --max-steps 1 --save-every 1").code, 0);
  EXPECT_EQ(log(b).size(), 1u);
  CliResult again = run("train" + common + " --out " + b.string());
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("pass --resume"), std::string::npos) << again.err;
  ASSERT_EQ(run("train" + common + " --out " + b.string() + " --resume").code, 0);
  const auto la = log(a), lb = log(b);
  ASSERT_EQ(la.size(), 4u);  // 3 examples / batch 2 = 2 steps per epoch, 2 epochs
  ASSERT_EQ(lb.size(), 4u);
  for (size_t i = 0; i < la.size(); ++i) {
    EXPECT_EQ(la[i]["loss"], lb[i]["loss"]) << "step " << i + 1;
    EXPECT_EQ(la[i]["lr"], lb[i]["lr"]);
  }
  EXPECT_TRUE(slurp(a / "model.safetensors") == slurp(b / "model.safetensors"));
  EXPECT_TRUE(slurp(a / "checkpoint.safetensors") == slurp(b / "checkpoint.safetensors"));
}

TEST_F(TrainCli, ExportKeepsTheBaseModelsTensorNamesAndFiles) {
  const fs::path out = dir_ / "export";
  ASSERT_EQ(run("train -m " + base() + " --data " + data() + " --out " + out.string() +
                " --epochs 1 --batch 3 --export-dtype bf16 -t 2 -q").code, 0);
  SafetensorsFile src((dir_ / "base" / "model.safetensors").string()), dst((out / "model.safetensors").string());
  std::set<std::string> a, b;
  for (const auto& t : src.tensors()) a.insert(t.name);
  for (const auto& t : dst.tensors()) {
    b.insert(t.name);
    EXPECT_EQ(t.dtype, DType::BF16) << t.name;
  }
  EXPECT_EQ(a, b);
  EXPECT_EQ(b.count("lm_head.weight"), 0u);  // tied
  for (const char* f : {"config.json", "generation_config.json", "vocab.json", "merges.txt", "tokenizer_config.json"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  const auto cfg = nlohmann::json::parse(slurp(out / "config.json"));
  EXPECT_EQ(cfg["torch_dtype"], "bfloat16");
  EXPECT_EQ(cfg["hidden_size"], 64);
  auto m = Model::load(out.string(), make_cpu_backend(1));
  EXPECT_EQ(m->config().layers, 2);
}

TEST_F(TrainCli, BadInputIsOneClearError) {
  std::ofstream(dir_ / "bad.jsonl") << "{\"question\": \"q\"}\n";
  CliResult r = run("train -m " + base() + " --data " + (dir_ / "bad.jsonl").string() + " --out " + (dir_ / "bad").string());
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("s1: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("bad.jsonl:1: no \"thinking_trajectories\" field"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "bad" / "model.safetensors"));
  CliResult r2 = run("train -m " + (dir_ / "nope").string() + " --data " + data() + " --out " + (dir_ / "bad2").string());
  EXPECT_EQ(r2.code, 1);
  EXPECT_NE(r2.err.find("no such file or folder"), std::string::npos) << r2.err;
  CliResult r3 = run("train -m " + base() + " --data " + data() + " --out " + (dir_ / "bad3").string() + " --micro-batch 4 --batch 2");
  EXPECT_EQ(r3.code, 1);
  EXPECT_NE(r3.err.find("--micro-batch (4) exceeds --batch (2)"), std::string::npos) << r3.err;
}

}  // namespace
}  // namespace s1
