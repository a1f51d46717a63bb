// The optional LLM judge: s1's options list and reply parsing; the request it sends and
// how the reply maps the attempt, through a real HTTP endpoint on loopback (cpp-httplib)
// that answers like an OpenAI-compatible server; the plumbing through the local engine
// (a tiny random model: its reply is noise, the path is real); `s1 grade --judge`.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "grading/judge.h"
#include "llm/client.h"
#include "model/make_model.h"

namespace {

namespace fs = std::filesystem;
using s1::grading::judge_options;
using s1::grading::parse_judge_reply;

TEST(GradingJudge, OptionsAndReplies) {
  EXPECT_EQ(judge_options("7", {"3", "7", "3", "\\frac{1}{2}"}), (std::vector<std::string>{"7", "3", "\\frac{1}{2}"}));
  EXPECT_EQ(s1::grading::format_options({"\\text{Evelyn}", "3"}), "['\\text{Evelyn}', '3']");  // nothing escaped
  EXPECT_EQ(parse_judge_reply("1", 3), 1);
  EXPECT_EQ(parse_judge_reply(" 3\n", 3), 3);
  EXPECT_EQ(parse_judge_reply("4", 3), -1);
  EXPECT_EQ(parse_judge_reply("0", 3), -1);
  EXPECT_EQ(parse_judge_reply("-1", 3), -1);
  EXPECT_EQ(parse_judge_reply("Option 2", 3), -1);
  EXPECT_EQ(parse_judge_reply("", 3), -1);
  EXPECT_EQ(parse_judge_reply("99999999999999999999", 3), -1);
  std::string p = s1::grading::judge_prompt("0.5", {"\\frac{1}{2}", "3"});
  EXPECT_NE(p.find("Respond with only the index of the matching option starting from 1 or -1 if there is "
                   "absolutely no reasonable match. Do not include a rationale."),
            std::string::npos);
  const std::string tail = "    Options: ['\\frac{1}{2}', '3']\n    Attempt: 0.5";
  ASSERT_GT(p.size(), tail.size());
  EXPECT_EQ(p.substr(p.size() - tail.size()), tail);
  EXPECT_EQ(s1::grading::judge_attempt("x \\boxed{5}", std::string("5")), "5");
  EXPECT_EQ(s1::grading::judge_attempt("<|im_start|>answer\n  five  ", std::nullopt), "five");
}

struct FakeJudge {
  httplib::Server svr;
  int port = 0;
  std::thread th;
  std::mutex mu;
  std::vector<nlohmann::json> bodies;
  std::string reply = "1";
  void start() {
    svr.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> l(mu);
      bodies.push_back(nlohmann::json::parse(req.body));
      nlohmann::json r = {{"id", "j"},
                          {"object", "chat.completion"},
                          {"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", reply}}},
                                        {"finish_reason", "stop"}}}},
                          {"usage", {{"prompt_tokens", 100}, {"completion_tokens", 1}}}};
      res.set_content(r.dump(), "application/json");
    });
    port = svr.bind_to_any_port("127.0.0.1");
    th = std::thread([this] { svr.listen_after_bind(); });
    while (!svr.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeJudge() {
    svr.stop();
    if (th.joinable()) th.join();
  }
  std::string spec() const { return "http://127.0.0.1:" + std::to_string(port) + "/v1#judge-model"; }
};

TEST(GradingJudge, EndpointRequestAndMapping) {
  FakeJudge s;
  s.reply = "2";
  s.start();
  auto client = s1::llm::make_client(s.spec());
  auto opts = judge_options("\\frac{1}{2}", {"3"});
  auto r = s1::grading::judge(*client, "three", opts);
  EXPECT_EQ(r.index, 2);
  EXPECT_FALSE(r.correct);
  EXPECT_EQ(r.mapped, "3");
  EXPECT_EQ(r.reply, "2");
  ASSERT_EQ(s.bodies.size(), 1u);
  const auto& b = s.bodies[0];
  EXPECT_EQ(b["model"], "judge-model");
  ASSERT_EQ(b["messages"].size(), 1u);  // s1: no system message
  EXPECT_EQ(b["messages"][0]["role"], "user");
  EXPECT_NE(b["messages"][0]["content"].get<std::string>().find("Options: ['\\frac{1}{2}', '3']\n    Attempt: three"),
            std::string::npos);
  EXPECT_EQ(b["temperature"], 0.0);

  s.reply = "1";
  r = s1::grading::judge(*client, "0.5", opts);
  EXPECT_TRUE(r.correct);
  EXPECT_EQ(r.mapped, "\\frac{1}{2}");
  s.reply = "-1";
  r = s1::grading::judge(*client, "banana", opts);
  EXPECT_FALSE(r.correct);
  EXPECT_EQ(r.mapped, "banana");  // s1: "-1" leaves the answer unchanged
}

TEST(GradingJudge, LocalEnginePlumbing) {
  fs::path dir = fs::temp_directory_path() / ("s1-judge-tiny-" + std::to_string(::getpid()));
  s1::MakeModelOptions o;
  o.shape = "qwen2.5-tiny";
  o.out = dir.string();
  o.seed = 3;
  o.tokenizer_dir = std::string(S1_REPO_DATA) + "/tokenizers/qwen2.5";
  s1::make_model(o);
  {
    s1::llm::LocalOptions lo;
    lo.threads = 1;
    lo.max_context = 2048;
    auto client = s1::llm::make_client("local:" + dir.string(), lo);
    s1::grading::JudgeOptions jo;
    jo.max_tokens = 4;
    auto r = s1::grading::judge(*client, "0.5", judge_options("\\frac{1}{2}", {"3"}), jo);
    // random weights: the reply is noise; whatever it is, it maps to an option or to the attempt
    EXPECT_TRUE(r.index == -1 || r.index == 1 || r.index == 2);
    EXPECT_EQ(r.correct, r.index == 1);
    EXPECT_FALSE(r.mapped.empty());
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(GradingJudge, GradeCommandReportsTheJudgeApart) {
  FakeJudge s;
  s.reply = "1";
  s.start();
  fs::path dir = fs::temp_directory_path() / ("s1-judge-cli-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    std::ofstream(dir / "in.jsonl") << "{\"response\": \"\\\\boxed{0.50}\", \"gold\": \"\\\\frac{1}{2}\"}\n"
                                       "{\"response\": \"\\\\boxed{half}\", \"gold\": \"\\\\frac{1}{2}\"}\n"
                                       "{\"response\": \"\\\\boxed{12}\", \"gold\": \"12\"}\n";
  }
  std::string cmd = std::string(S1_BINARY) + " grade " + (dir / "in.jsonl").string() + " --judge '" + s.spec() +
                    "' > " + (dir / "out").string() + " 2> " + (dir / "err").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream out(dir / "out");
  std::vector<nlohmann::json> lines;
  for (std::string l; std::getline(out, l);) lines.push_back(nlohmann::json::parse(l));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(lines[0]["correct"].get<bool>());
  EXPECT_TRUE(lines[0]["judge_correct"].get<bool>());
  EXPECT_FALSE(lines[1]["correct"].get<bool>());       // the deterministic verdict is unchanged ...
  EXPECT_TRUE(lines[1]["judge_correct"].get<bool>());  // ... the judge's is reported apart
  EXPECT_EQ(lines[1]["judge_answer"], "\\frac{1}{2}");
  EXPECT_TRUE(lines[2]["judge_correct"].get<bool>());  // digits: compared as integers, no request
  EXPECT_FALSE(lines[2].contains("judge_reply"));
  EXPECT_EQ(s.bodies.size(), 2u);
  // the second request's options hold the first line's (judged) answer
  EXPECT_NE(s.bodies[1]["messages"][0]["content"].get<std::string>().find("Options: ['\\frac{1}{2}']"),
            std::string::npos);
  std::ifstream err(dir / "err");
  std::stringstream es;
  es << err.rdbuf();
  EXPECT_NE(es.str().find("LLM judge endpoint:"), std::string::npos) << es.str();
  EXPECT_NE(es.str().find("3 of 3 correct"), std::string::npos) << es.str();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
