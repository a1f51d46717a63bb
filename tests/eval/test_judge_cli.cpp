// `s1 eval --judge`: the optional LLM judge through a real OpenAI-compatible endpoint on
// loopback (cpp-httplib) that always answers "1" (the attempt matches the gold). Its verdicts
// land in samples.jsonl and summary.json apart from the deterministic accuracy; without
// --judge there is no trace of it.
#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "cli_helpers.h"

namespace s1::eval::test {
namespace {

struct AlwaysGoldJudge {
  httplib::Server svr;
  int port = 0;
  std::thread th;
  std::mutex mu;
  std::vector<nlohmann::json> bodies;
  AlwaysGoldJudge() {
    svr.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> l(mu);
      bodies.push_back(nlohmann::json::parse(req.body));
      nlohmann::json r = {{"id", "j"},
                          {"object", "chat.completion"},
                          {"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", "1"}}},
                                        {"finish_reason", "stop"}}}},
                          {"usage", {{"prompt_tokens", 100}, {"completion_tokens", 1}}}};
      res.set_content(r.dump(), "application/json");
    });
    port = svr.bind_to_any_port("127.0.0.1");
    th = std::thread([this] { svr.listen_after_bind(); });
    while (!svr.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~AlwaysGoldJudge() {
    svr.stop();
    if (th.joinable()) th.join();
  }
};

// Golds that are not digit strings, so that every sample goes to the judge (s1 skips it
// when both sides are digits).
fs::path write_questions(const fs::path& dir) {
  fs::path p = dir / "q.jsonl";
  std::ofstream f(p);
  f << R"({"id": "a", "problem": "Simplify $\\frac{6}{8}$.", "answer": "\\frac{3}{4}"})" << "\n"
    << R"({"id": "b", "problem": "Expand $(x+1)^2$.", "answer": "x^2+2x+1"})" << "\n";
  return p;
}

std::string eval_args(const fs::path& q, const fs::path& out) {
  return "eval -m " + tiny_model() + " --data " + q.string() +
         " --question-field problem --answer-field answer --id-field id --budgets 8 --samples 2 --temperature 1"
         " -n 4 -t 1 --ctx 256 --out " + out.string();
}

TEST(EvalJudge, JudgeVerdictsAreRecordedApartFromTheAccuracy) {
  AlwaysGoldJudge judge;
  fs::path dir = temp_dir("judge");
  fs::path q = write_questions(dir);
  CliRun r = run_s1(eval_args(q, dir / "out") + " --judge http://127.0.0.1:" + std::to_string(judge.port) + "/v1#judge");
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = read_jsonl(dir / "out" / "samples.jsonl");
  ASSERT_EQ(lines.size(), 4u);
  for (const auto& j : lines) {
    ASSERT_TRUE(j.contains("judge_correct")) << j.dump();
    EXPECT_EQ(j["judge_correct"], true);
    EXPECT_EQ(j["judge_answer"], j["gold"]);  // option 1 is the gold
    EXPECT_FALSE(j.contains("judge_error"));
  }
  {
    std::lock_guard<std::mutex> l(judge.mu);
    ASSERT_EQ(judge.bodies.size(), 4u);
    EXPECT_EQ(judge.bodies[0]["model"], "judge");
    EXPECT_EQ(judge.bodies[0]["temperature"], 0.0);
  }
  auto summary = nlohmann::json::parse(slurp(dir / "out" / "summary.json"));
  const auto& p = summary["points"][0];
  EXPECT_EQ(p["judge_accuracy"], 1.0);
  EXPECT_EQ(p["judged"], 4);
  EXPECT_TRUE(p["accuracy"].is_number());  // the headline stays the deterministic grade
  EXPECT_TRUE(summary.contains("judge"));
  EXPECT_NE(r.out.find("judge"), std::string::npos) << r.out;
  EXPECT_NE(slurp(dir / "out" / "report.html").find("<th>judge</th>"), std::string::npos);

  // --resume: finished lines (judge fields included) are kept, nothing is asked again
  CliRun again = run_s1(eval_args(q, dir / "out") + " --resume --judge http://127.0.0.1:" +
                        std::to_string(judge.port) + "/v1#judge");
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(read_jsonl(dir / "out" / "samples.jsonl").size(), 4u);
  {
    std::lock_guard<std::mutex> l(judge.mu);
    EXPECT_EQ(judge.bodies.size(), 4u);
  }
  EXPECT_EQ(nlohmann::json::parse(slurp(dir / "out" / "summary.json"))["points"][0]["judge_accuracy"], 1.0);
  fs::remove_all(dir);
}

// A judge that accepts the connection and never answers: with --request-timeout 1 and
// --retries 0 each sample records judge_error after about a second (the default of 600 s
// would hold this test for 40 minutes), and the deterministic verdicts are all there.
struct SilentJudge {
  httplib::Server svr;
  int port = 0;
  std::thread th;
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  SilentJudge() {
    svr.Post("/v1/chat/completions", [this](const httplib::Request&, httplib::Response& res) {
      std::unique_lock<std::mutex> l(mu);
      cv.wait_for(l, std::chrono::seconds(60), [this] { return stopping; });
      res.status = 503;
    });
    port = svr.bind_to_any_port("127.0.0.1");
    th = std::thread([this] { svr.listen_after_bind(); });
    while (!svr.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~SilentJudge() {
    {
      std::lock_guard<std::mutex> l(mu);
      stopping = true;
    }
    cv.notify_all();
    svr.stop();
    if (th.joinable()) th.join();
  }
};

TEST(EvalJudge, ASilentJudgeTimesOutPerRequest) {
  SilentJudge judge;
  fs::path dir = temp_dir("silent-judge");
  fs::path q = write_questions(dir);
  CliRun r = run_s1(eval_args(q, dir / "out") + " --request-timeout 1 --retries 0 --judge http://127.0.0.1:" +
                    std::to_string(judge.port) + "/v1#judge");
  ASSERT_NE(r.code, 127) << r.err;
  const auto samples = read_jsonl(dir / "out" / "samples.jsonl");
  ASSERT_EQ(samples.size(), 4u) << r.err;
  for (const auto& j : samples) {
    EXPECT_TRUE(j.contains("judge_error")) << j.dump();
    EXPECT_TRUE(j.contains("correct")) << j.dump();
  }
  CliRun bad = run_s1(eval_args(q, dir / "out2") + " --request-timeout 0");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("--request-timeout"), std::string::npos) << bad.err;
  fs::remove_all(dir);
}

TEST(EvalJudge, WithoutJudgeThereAreNoJudgeFields) {
  fs::path dir = temp_dir("no-judge");
  fs::path q = write_questions(dir);
  CliRun r = run_s1(eval_args(q, dir / "out"));
  ASSERT_EQ(r.code, 0) << r.err;
  for (const auto& j : read_jsonl(dir / "out" / "samples.jsonl"))
    for (const char* k : {"judge_correct", "judge_answer", "judge_error"}) EXPECT_FALSE(j.contains(k)) << k;
  auto summary = nlohmann::json::parse(slurp(dir / "out" / "summary.json"));
  EXPECT_FALSE(summary["points"][0].contains("judge_accuracy"));
  EXPECT_FALSE(summary.contains("judge"));
  EXPECT_EQ(slurp(dir / "out" / "report.html").find("<th>judge</th>"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace s1::eval::test
