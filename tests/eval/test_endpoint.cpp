// The endpoint backend against a real HTTP server (cpp-httplib, in this process) that
// answers /v1/completions with canned OpenAI-shaped completions: the exact sequence of
// continuation requests s1's harness makes (thinking prompt, "Wait" continuation, forced
// end), and a failing request recorded as an error and retried on --resume.
#include <httplib.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "cli_helpers.h"
#include "tokenizer/tokenizer.h"

namespace s1::eval::test {
namespace {

bool ends_with(const std::string& s, const std::string& t) {
  return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

class CannedServer {
 public:
  CannedServer() {
    svr_.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
      auto body = nlohmann::json::parse(req.body);
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(body);
      }
      const std::string prompt = body.at("prompt");
      if (fail_.load() && prompt.find("FAIL") != std::string::npos) {
        res.status = 400;
        res.set_content(R"({"error":{"message":"canned failure"}})", "application/json");
        return;
      }
      std::string text, finish = "stop";
      int64_t tokens = 0;
      if (ends_with(prompt, "<|im_start|>think")) {
        text = "\nOne plus one.\n", tokens = 5;  // ended by the stop "<|im_start|>" (counted, not returned)
      } else if (ends_with(prompt, "Wait")) {
        text = " Let me double check this", finish = "length", tokens = body.at("max_tokens").get<int64_t>();
      } else if (ends_with(prompt, "Final Answer:")) {
        text = " $\\boxed{2}$", tokens = 6;
      } else if (ends_with(prompt, "<|im_start|>answer")) {
        text = "\nThe answer is $\\boxed{2}$.", tokens = 9;
      } else {
        text = "no idea", tokens = 2;
      }
      nlohmann::json out = {{"id", "cmpl-1"},
                            {"object", "text_completion"},
                            {"model", body.value("model", "")},
                            {"choices", {{{"index", 0}, {"text", text}, {"finish_reason", finish}}}},
                            {"usage", {{"prompt_tokens", 10}, {"completion_tokens", tokens}}}};
      res.set_content(out.dump(), "application/json");
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    for (int i = 0; i < 500 && !svr_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~CannedServer() {
    svr_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1#canned"; }
  std::vector<nlohmann::json> take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(requests_, {});
  }
  void set_fail(bool f) { fail_ = f; }

 private:
  httplib::Server svr_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<nlohmann::json> requests_;
  std::atomic<bool> fail_{true};
};

const std::string kTokenizer = std::string(S1_REPO_DATA) + "/tokenizers/qwen2.5";

TEST(EvalEndpoint, BudgetForcingByContinuationRequests) {
  CannedServer server;
  fs::path out = temp_dir("endpoint-wait");
  // a tokenizer-only folder is enough for an endpoint: template, stops and token counts
  CliRun r = run_s1("eval -m " + kTokenizer + " --endpoint " + server.url() + " " + data_args() +
                    " --limit 1 --budgets 64 --control budget --num-ignore 1 -n 16 --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.err;
  auto reqs = server.take();
  ASSERT_EQ(reqs.size(), 3u);
  auto sample = read_jsonl(out / "samples.jsonl").at(0);
  const std::string P = sample["prompt"];
  EXPECT_EQ(P.rfind("<|im_start|>system\nYou are Qwen", 0), 0u) << P;
  EXPECT_TRUE(ends_with(P, "<|im_start|>user\nWhat is $1+1$?<|im_end|>\n<|im_start|>assistant\n")) << P;
  for (const auto& q : reqs) {
    EXPECT_EQ(q["model"], "canned");
    EXPECT_EQ(q["temperature"], 0.0);
    EXPECT_EQ(q["skip_special_tokens"], false);  // special tokens stay in the text, as s1 sets vLLM
  }
  const auto think_stops = nlohmann::json::array({"<|im_start|>", "<|im_end|>"});
  // 1. thinking: prompt + "<|im_start|>think", the budget, s1's until_thinking stops,
  //    min_tokens 1 as vLLM gets with thinking_n_ignore
  EXPECT_EQ(reqs[0]["prompt"], P + "<|im_start|>think");
  EXPECT_EQ(reqs[0]["max_tokens"], 64);
  EXPECT_EQ(reqs[0]["stop"], think_stops);
  EXPECT_EQ(reqs[0]["min_tokens"], 1);
  // 2. it stopped by itself with an ignore round left: "Wait" appended, continue with
  //    what remains of the budget (harness: stop token stripped, "Wait" counted)
  Tokenizer tok = Tokenizer::from_hf_folder(kTokenizer);
  const int64_t wait_tokens = int64_t(tok.encode("Wait").size());
  EXPECT_EQ(reqs[1]["prompt"], P + "<|im_start|>think\nOne plus one.\nWait");
  EXPECT_EQ(reqs[1]["max_tokens"], 64 - (5 - 1) - wait_tokens);
  EXPECT_EQ(reqs[1]["stop"], think_stops);
  // 3. the budget ran out: "\n" + "<|im_start|>answer\nFinal Answer:", then the answer
  EXPECT_EQ(reqs[2]["prompt"],
            P + "<|im_start|>think\nOne plus one.\nWait Let me double check this\n<|im_start|>answer\nFinal Answer:");
  EXPECT_EQ(reqs[2]["max_tokens"], 16);
  EXPECT_EQ(reqs[2]["stop"], nlohmann::json::array({"<|im_end|>"}));
  EXPECT_FALSE(reqs[2].contains("min_tokens"));

  EXPECT_EQ(sample["output"], "<|im_start|>think\nOne plus one.\nWait Let me double check this\n<|im_start|>answer\n"
                              "Final Answer: $\\boxed{2}$");
  EXPECT_TRUE(sample["forced_end"].get<bool>());
  EXPECT_EQ(sample["end_cause"], "budget");
  ASSERT_EQ(sample["waits"].size(), 1u);
  EXPECT_EQ(sample["waits"][0]["char_offset"], std::string("\nOne plus one.\n").size());
  EXPECT_EQ(sample["engine_thinking_tokens"], 64);
  EXPECT_EQ(sample["extracted"], "2");
  EXPECT_TRUE(sample["correct"].get<bool>());
  // compute_sample_stats: the lines between the first ("<|im_start|>think") and the last ("")
  EXPECT_EQ(sample["thinking_tokens"], int64_t(tok.encode("One plus one.\nWait Let me double check this").size()));
  fs::remove_all(out);
}

TEST(EvalEndpoint, NaturalEndAppendsTheEndDelimiter) {
  CannedServer server;
  fs::path out = temp_dir("endpoint-natural");
  CliRun r = run_s1("eval -m " + kTokenizer + " --endpoint " + server.url() + " " + data_args() +
                    " --limit 1 --budgets 64 --control budget -n 16 --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.err;
  auto reqs = server.take();
  ASSERT_EQ(reqs.size(), 2u);
  auto sample = read_jsonl(out / "samples.jsonl").at(0);
  const std::string P = sample["prompt"];
  EXPECT_EQ(reqs[0]["prompt"], P + "<|im_start|>think");
  EXPECT_FALSE(reqs[0].contains("min_tokens"));  // no ignore rounds: plain stop strings
  EXPECT_EQ(reqs[1]["prompt"], P + "<|im_start|>think\nOne plus one.\n<|im_start|>answer");
  EXPECT_FALSE(sample["forced_end"].get<bool>());
  EXPECT_EQ(sample["waits"].size(), 0u);
  EXPECT_EQ(sample["extracted"], "2");
  fs::remove_all(out);
}

TEST(EvalEndpoint, AFailedSampleIsRecordedAndRetriedOnResume) {
  CannedServer server;
  fs::path out = temp_dir("endpoint-fail");
  fs::path data = out / "q.jsonl";
  std::ofstream(data) << "{\"q\": \"What is 1+1?\", \"a\": \"2\"}\n{\"q\": \"FAIL this one\", \"a\": \"3\"}\n";
  std::string args = "eval -m " + kTokenizer + " --endpoint " + server.url() + " --data " + data.string() +
                     " --question-field q --answer-field a --budgets 64 --control budget -n 16 --parallel 2 --out " +
                     (out / "run").string();
  CliRun r = run_s1(args);
  EXPECT_EQ(r.code, 3) << r.err;  // finished, but incomplete
  EXPECT_NE(r.out.find("INCOMPLETE: 1 samples failed"), std::string::npos) << r.out;
  auto lines = read_jsonl(out / "run" / "samples.jsonl");
  ASSERT_EQ(lines.size(), 2u);  // the failure is recorded, not dropped
  int errors = 0;
  for (const auto& j : lines)
    if (!j["error"].is_null()) {
      ++errors;
      EXPECT_EQ(j["question_id"], "1");
      EXPECT_NE(j["error"].get<std::string>().find("canned failure"), std::string::npos) << j["error"];
    }
  EXPECT_EQ(errors, 1);
  auto summary = nlohmann::json::parse(slurp(out / "run" / "summary.json"));
  EXPECT_EQ(summary["errors"], 1);
  EXPECT_FALSE(summary["complete"].get<bool>());

  server.set_fail(false);
  server.take();
  CliRun resumed = run_s1(args + " --resume");
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("1 samples to run (1 already done, resumed)"), std::string::npos) << resumed.err;
  for (const auto& q : server.take()) EXPECT_NE(q["prompt"].get<std::string>().find("FAIL"), std::string::npos);
  summary = nlohmann::json::parse(slurp(out / "run" / "summary.json"));
  EXPECT_TRUE(summary["complete"].get<bool>());
  fs::remove_all(out);
}

}  // namespace
}  // namespace s1::eval::test
