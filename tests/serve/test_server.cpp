// `s1 serve` as a real process, driven over loopback HTTP with cpp-httplib's client: the
// endpoints and their OpenAI shapes, streaming, budget forcing per request, errors, the
// key, the queue bound (503), cancellation on disconnect, and a bounded load test.
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <fstream>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// The tiny model, made once by the binary itself (`s1 make-model --shape qwen2.5-tiny`).
const std::string& model_dir() {
  static std::string dir = [] {
    auto d = (std::filesystem::temp_directory_path() / ("s1-serve-test-" + std::to_string(::getpid())) / "tiny").string();
    std::filesystem::create_directories(std::filesystem::path(d).parent_path());
    std::string cmd = std::string(S1_BINARY) + " make-model --shape qwen2.5-tiny --seed 5 --out " + d + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("make-model failed: " + cmd);
    return d;
  }();
  return dir;
}

struct CleanUp {
  ~CleanUp() {
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::temp_directory_path() / ("s1-serve-test-" + std::to_string(::getpid())), ec);
  }
} cleanup;

// `s1 serve -m tiny --port 0 ARGS...`; the port is read from its "listening on" line.
class ServerProcess {
 public:
  explicit ServerProcess(std::vector<std::string> extra) {
    std::vector<std::string> args = {S1_BINARY, "serve", "-m", model_dir(), "--port", "0", "-t", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe");
    err_path_ = std::filesystem::path(model_dir()).parent_path() / ("server-" + std::to_string(++count_) + ".err");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      FILE* e = std::fopen(err_path_.c_str(), "w");
      if (e) dup2(fileno(e), 2);
      close(out[0]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    out_ = out[0];
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      char buf[256];
      ssize_t n = read(out_, buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, size_t(n));
    }
    std::smatch m;
    if (!std::regex_search(line, m, std::regex("listening on http://127\\.0\\.0\\.1:(\\d+)")))
      throw std::runtime_error("the server did not start: '" + line + "' " + stderr_text());
    port = std::stoi(m[1]);
  }
  ~ServerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int st = 0;
      waitpid(pid_, &st, 0);
    }
    if (out_ >= 0) close(out_);
  }
  // Stops the server with SIGTERM and returns its exit status (0: a clean stop).
  int stop() {
    kill(pid_, SIGTERM);
    int st = 0;
    waitpid(pid_, &st, 0);
    pid_ = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  std::string stderr_text() const {
    std::ifstream f(err_path_);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60, 0);
    return c;
  }
  int port = 0;

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string err_path_;
  static inline int count_ = 0;
};

std::string model_id() { return std::filesystem::path(model_dir()).filename().string(); }

json chat_body(const std::string& q, json extra = json::object()) {
  json b = {{"model", model_id()}, {"messages", {{{"role", "user"}, {"content", q}}}}, {"max_tokens", 16},
            {"seed", 1}, {"temperature", 0.8}};
  b.update(extra);
  return b;
}

httplib::Result post(httplib::Client& c, const std::string& path, const json& body, httplib::Headers h = {}) {
  return c.Post(path.c_str(), h, body.dump(), "application/json");
}

// The data events of an SSE body, "[DONE]" included as a string.
std::vector<json> sse_events(const std::string& body, bool* done) {
  std::vector<json> ev;
  *done = false;
  size_t at = 0;
  while (true) {
    size_t end = body.find("\n\n", at);
    if (end == std::string::npos) break;
    std::string block = body.substr(at, end - at);
    at = end + 2;
    if (block.rfind("data: ", 0) != 0) continue;  // comments (": keep-alive")
    std::string data = block.substr(6);
    if (data == "[DONE]") {
      *done = true;
      continue;
    }
    ev.push_back(json::parse(data));
  }
  return ev;
}

struct Streamed {
  int status = 0;
  std::vector<json> events;
  bool done = false;
  std::string reasoning, content;
};
Streamed stream(httplib::Client& c, const std::string& path, const json& body) {
  auto r = post(c, path, body);
  Streamed s;
  if (!r) return s;
  s.status = r->status;
  EXPECT_EQ(r->get_header_value("Content-Type").rfind("text/event-stream", 0), 0u);
  s.events = sse_events(r->body, &s.done);
  for (const auto& e : s.events) {
    if (!e.contains("choices") || e["choices"].empty()) continue;
    const json& ch = e["choices"][0];
    if (ch.contains("delta")) {
      if (ch["delta"].contains("reasoning_content")) s.reasoning += ch["delta"]["reasoning_content"].get<std::string>();
      if (ch["delta"].contains("content")) s.content += ch["delta"]["content"].get<std::string>();
    } else if (ch.contains("text")) {
      s.content += ch["text"].get<std::string>();
      if (ch.contains("reasoning_content")) s.reasoning += ch["reasoning_content"].get<std::string>();
    }
  }
  return s;
}

void expect_error(const httplib::Result& r, int status, const std::string& param = "", const std::string& code = "") {
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, status) << r->body;
  json j = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r->body;
  ASSERT_TRUE(j.contains("error")) << r->body;
  const json& e = j["error"];
  EXPECT_TRUE(e["message"].is_string() && !e["message"].get<std::string>().empty()) << r->body;
  EXPECT_TRUE(e["type"].is_string()) << r->body;
  EXPECT_TRUE(e.contains("param") && e.contains("code")) << r->body;
  if (!param.empty()) {
    EXPECT_EQ(e["param"], param) << r->body;
  }
  if (!code.empty()) {
    EXPECT_EQ(e["code"], code) << r->body;
  }
}

// One shared server for the request / response tests.
ServerProcess& server() {
  static ServerProcess s({"--parallel", "2", "--max-queue", "4", "--ctx", "512", "--max-tokens-limit", "256",
                          "--max-body", "65536"});
  return s;
}

TEST(ServeHttp, HealthAndModels) {
  auto c = server().client();
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(json::parse(h->body)["status"], "ok");
  auto m = c.Get("/v1/models");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  json j = json::parse(m->body);
  EXPECT_EQ(j["object"], "list");
  ASSERT_EQ(j["data"].size(), 1u);
  EXPECT_EQ(j["data"][0]["id"], model_id());
  EXPECT_EQ(j["data"][0]["object"], "model");
}

TEST(ServeHttp, ChatNonStreamed) {
  auto c = server().client();
  auto r = post(c, "/v1/chat/completions", chat_body("What is 1+1?"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(j["model"], model_id());
  EXPECT_TRUE(j["created"].is_number_integer());
  const json& ch = j["choices"][0];
  EXPECT_EQ(ch["index"], 0);
  EXPECT_EQ(ch["message"]["role"], "assistant");
  EXPECT_TRUE(ch["message"]["content"].is_string());
  EXPECT_TRUE(ch["message"]["reasoning_content"].is_null());  // no budget asked, the template opens no block
  EXPECT_EQ(ch["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["completion_tokens"], 16);
  EXPECT_GT(j["usage"]["prompt_tokens"].get<int>(), 5);
  EXPECT_EQ(j["usage"]["total_tokens"], j["usage"]["prompt_tokens"].get<int>() + 16);
  EXPECT_EQ(j["usage"]["completion_tokens_details"]["reasoning_tokens"], 0);
  // a seed reproduces the answer
  auto again = post(c, "/v1/chat/completions", chat_body("What is 1+1?"));
  ASSERT_TRUE(again);
  EXPECT_EQ(json::parse(again->body)["choices"][0]["message"]["content"], ch["message"]["content"]);
}

TEST(ServeHttp, ChatStreamedMatchesNonStreamed) {
  auto c = server().client();
  auto whole = post(c, "/v1/chat/completions", chat_body("Say something", {{"max_tokens", 24}, {"seed", 3}}));
  ASSERT_TRUE(whole);
  json w = json::parse(whole->body);
  Streamed s = stream(c, "/v1/chat/completions",
                      chat_body("Say something", {{"max_tokens", 24}, {"seed", 3}, {"stream", true},
                                                  {"stream_options", {{"include_usage", true}}}}));
  ASSERT_EQ(s.status, 200);
  EXPECT_TRUE(s.done);
  ASSERT_GE(s.events.size(), 3u);
  EXPECT_EQ(s.events[0]["object"], "chat.completion.chunk");
  EXPECT_EQ(s.events[0]["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(s.content, w["choices"][0]["message"]["content"]);
  // the last chunk carries usage (choices empty), the one before it finish_reason
  const json& last = s.events.back();
  EXPECT_TRUE(last["choices"].empty());
  EXPECT_EQ(last["usage"]["completion_tokens"], 24);
  EXPECT_EQ(s.events[s.events.size() - 2]["choices"][0]["finish_reason"], "length");
  for (const auto& e : s.events) EXPECT_EQ(e["id"], s.events[0]["id"]);
}

TEST(ServeHttp, ThinkingBudgetPerRequest) {
  auto c = server().client();
  // The random model never closes thinking itself, so the cap is what ends it.
  for (const char* name : {"max_thinking_tokens", "thinking_token_budget", "thinking_budget_tokens"}) {
    for (int budget : {4, 12}) {
      auto r = post(c, "/v1/chat/completions", chat_body("Think", {{"max_tokens", 48}, {name, budget}}));
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 200) << r->body;
      json j = json::parse(r->body);
      EXPECT_EQ(j["usage"]["completion_tokens_details"]["reasoning_tokens"], budget) << name;
      EXPECT_TRUE(j["choices"][0]["message"]["reasoning_content"].is_string()) << name;
      EXPECT_EQ(j["thinking"]["forced_end"], true);
      EXPECT_EQ(j["thinking"]["end_cause"], "budget");
    }
  }
}

TEST(ServeHttp, ThinkingStreamedAsItsOwnDeltas) {
  auto c = server().client();
  json extra = {{"max_tokens", 40}, {"max_thinking_tokens", 16}, {"seed", 4}};
  auto whole = post(c, "/v1/chat/completions", chat_body("Think", extra));
  ASSERT_TRUE(whole);
  json w = json::parse(whole->body);
  extra["stream"] = true;
  Streamed s = stream(c, "/v1/chat/completions", chat_body("Think", extra));
  ASSERT_EQ(s.status, 200);
  EXPECT_TRUE(s.done);
  EXPECT_FALSE(s.reasoning.empty());
  EXPECT_EQ(s.reasoning, w["choices"][0]["message"]["reasoning_content"]);
  EXPECT_EQ(s.content, w["choices"][0]["message"]["content"]);
  // reasoning deltas all come before the first content delta
  bool seen_content = false;
  for (const auto& e : s.events) {
    if (e["choices"].empty()) continue;
    const json& d = e["choices"][0]["delta"];
    if (d.contains("content") && !d["content"].get<std::string>().empty()) seen_content = true;
    if (d.contains("reasoning_content")) {
      EXPECT_FALSE(seen_content);
    }
  }
}

TEST(ServeHttp, Completions) {
  auto c = server().client();
  json b = {{"model", model_id()}, {"prompt", "Once upon a time"}, {"max_tokens", 8}, {"seed", 2}};
  auto r = post(c, "/v1/completions", b);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["id"].get<std::string>().rfind("cmpl-", 0), 0u);
  EXPECT_TRUE(j["choices"][0]["text"].is_string());
  EXPECT_EQ(j["usage"]["completion_tokens"], 8);
  b["stream"] = true;
  Streamed s = stream(c, "/v1/completions", b);
  ASSERT_EQ(s.status, 200);
  EXPECT_TRUE(s.done);
  EXPECT_EQ(s.events[0]["object"], "text_completion");
  EXPECT_EQ(s.content, j["choices"][0]["text"]);
}

// A raw prompt that opens s1's thinking block is continued as raw text (vLLM's behaviour),
// so a client doing budget forcing by continuation requests sees the thinking in `text`.
TEST(ServeHttp, CompletionsKeepThinkingInText) {
  auto c = server().client();
  json b = {{"model", model_id()},
            {"prompt", "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<|im_start|>think"},
            {"max_tokens", 8},
            {"seed", 4}};
  auto r = post(c, "/v1/completions", b);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  EXPECT_FALSE(j["choices"][0]["text"].get<std::string>().empty());
  EXPECT_FALSE(j["choices"][0].contains("reasoning_content"));
  EXPECT_EQ(j["usage"]["completion_tokens"], 8);
  EXPECT_EQ(j["usage"]["completion_tokens_details"]["reasoning_tokens"], 0);
}

TEST(ServeHttp, RequestErrorsAreOpenAIErrors) {
  auto c = server().client();
  expect_error(c.Post("/v1/chat/completions", "{not json", "application/json"), 400, "", "invalid_json");
  expect_error(post(c, "/v1/chat/completions", chat_body("x", {{"temperature", "hot"}})), 400, "temperature");
  expect_error(post(c, "/v1/chat/completions", chat_body("x", {{"model", "gpt-4o"}})), 404, "model", "model_not_found");
  expect_error(post(c, "/v1/chat/completions", chat_body("x", {{"max_tokens", 257}})), 400, "max_tokens");
  expect_error(post(c, "/v1/chat/completions", chat_body("x", {{"n", 3}})), 400, "n");
  // 600 words do not fit a 512-token context
  std::string longq;
  for (int i = 0; i < 600; ++i) longq += "word ";
  expect_error(post(c, "/v1/chat/completions", chat_body(longq)), 400, "messages", "context_length_exceeded");
  // prompt + max_tokens beyond the context
  expect_error(post(c, "/v1/chat/completions", chat_body("x", {{"max_tokens", 256}, {"messages", {{{"role", "user"}, {"content", longq.substr(0, 1600)}}}}})),
               400, "max_tokens", "context_length_exceeded");
  expect_error(post(c, "/v1/completions", json{{"model", model_id()}, {"prompt", {1, 2, 999999}}}), 400, "prompt");
  // a body over --max-body
  expect_error(c.Post("/v1/chat/completions", std::string(70000, ' '), "application/json"), 413);
  expect_error(c.Get("/v1/nothing"), 404);
  // nothing in a request names a file to read: a "path" as a model or template value is just a name
  expect_error(post(c, "/v1/chat/completions", chat_body("x", {{"model", "/etc/passwd"}})), 404, "model");
  // the server is still fine
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
}

TEST(ServeHttp, StopString) {
  auto c = server().client();
  auto full = post(c, "/v1/chat/completions", chat_body("Write", {{"max_tokens", 32}, {"seed", 8}}));
  ASSERT_TRUE(full);
  std::string text = json::parse(full->body)["choices"][0]["message"]["content"];
  // an ASCII character past the start (a multi-byte cut would not be valid JSON text)
  size_t at = 2;
  while (at < text.size() && !std::isalnum(uint8_t(text[at]))) ++at;
  ASSERT_LT(at, text.size()) << text;
  std::string stop = text.substr(at, 1);
  auto r = post(c, "/v1/chat/completions", chat_body("Write", {{"max_tokens", 32}, {"seed", 8}, {"stop", stop}}));
  ASSERT_TRUE(r);
  json j = json::parse(r->body);
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(j["choices"][0]["message"]["content"], text.substr(0, text.find(stop)));
}

TEST(ServeHttp, ApiKey) {
  ServerProcess s({"--api-key", "sekret"});
  auto c = s.client();
  expect_error(post(c, "/v1/chat/completions", chat_body("x")), 401, "", "invalid_api_key");
  expect_error(post(c, "/v1/chat/completions", chat_body("x"), {{"Authorization", "Bearer wrong"}}), 401);
  expect_error(c.Get("/v1/models"), 401);
  auto ok = post(c, "/v1/chat/completions", chat_body("x"), {{"Authorization", "Bearer sekret"}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  auto h = c.Get("/health");  // open: a load balancer's probe has no key
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(s.stop(), 0) << s.stderr_text();  // SIGTERM stops it cleanly
}

TEST(ServeHttp, PortInUseIsAnError) {
  // A second server on a taken port must fail (no silent SO_REUSEPORT sharing).
  const std::string cmd = "timeout 30 " + std::string(S1_BINARY) + " serve -m " + model_dir() + " -t 1 --port " +
                          std::to_string(server().port) + " >/dev/null 2>&1";
  const int st = std::system(cmd.c_str());
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 1) << st;
}

json health(const ServerProcess& s) {
  auto c = s.client();
  auto h = c.Get("/health");
  return h && h->status == 200 ? json::parse(h->body) : json();
}

// Polls /health until pred holds (bounded: generation on the tiny model takes milliseconds).
bool wait_health(const ServerProcess& s, const std::function<bool(const json&)>& pred) {
  for (int i = 0; i < 200; ++i) {
    json h = health(s);
    if (!h.is_null() && pred(h)) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

TEST(ServeHttp, FullQueueIs503AndDisconnectCancels) {
  ServerProcess s({"--parallel", "1", "--max-queue", "0", "--ctx", "16384"});
  // A long streamed request holds the only slot until we hang up.
  std::atomic<bool> started{false}, hang_up{false};
  std::thread holder([&] {
    httplib::Client c("127.0.0.1", s.port);
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/chat/completions";
    req.body = chat_body("go", {{"max_tokens", 16000}, {"stream", true}}).dump();
    req.set_header("Content-Type", "application/json");
    req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) {
      started = true;
      return !hang_up.load();  // false: the client closes the connection
    };
    httplib::Response res;
    httplib::Error err;
    c.send(req, res, err);
  });
  while (!started) std::this_thread::sleep_for(5ms);
  auto c = s.client();
  auto busy = post(c, "/v1/chat/completions", chat_body("x"));
  expect_error(busy, 503, "", "server_busy");
  hang_up = true;
  holder.join();
  EXPECT_TRUE(wait_health(s, [](const json& h) { return h["requests"]["cancelled"] == 1 && h["slots"]["active"] == 0; }))
      << health(s).dump();
  // the slot is free again
  auto ok = post(c, "/v1/chat/completions", chat_body("x"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;

  // A non-streamed request whose client hangs up is cancelled too: after a second the
  // server starts its whitespace heartbeat, and the client closes on the first bytes.
  {
    httplib::Client impatient("127.0.0.1", s.port);
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/chat/completions";
    req.body = chat_body("go", {{"max_tokens", 16000}}).dump();
    req.set_header("Content-Type", "application/json");
    std::string first;
    req.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
      first.assign(d, n);
      return false;
    };
    httplib::Response res;
    httplib::Error err;
    impatient.send(req, res, err);
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(first.find_first_not_of(' '), std::string::npos) << first;  // only heartbeat spaces so far
  }
  EXPECT_TRUE(wait_health(s, [](const json& h) { return h["requests"]["cancelled"] == 2 && h["slots"]["active"] == 0; }))
      << health(s).dump();
}

// 32 requests from 4 client threads (this test process is the second process) on a server
// with 2 slots and a queue of 2: every answer is a complete 200 or a 503, and the server is
// healthy and idle afterwards.
TEST(ServeLoad, ConcurrentClientsAllAnswered) {
  ServerProcess s({"--parallel", "2", "--max-queue", "2", "--ctx", "1024"});
  std::atomic<int> next{0}, ok{0}, busy{0}, bad{0};
  std::mutex mu;
  std::vector<std::string> problems;
  auto worker = [&] {
    httplib::Client c("127.0.0.1", s.port);
    c.set_read_timeout(30, 0);
    for (int i; (i = next++) < 32;) {
      json b = chat_body("load " + std::to_string(i), {{"max_tokens", 12 + i % 7}, {"seed", i}});
      const bool streamed = i % 2 == 1;
      if (i % 3 == 0) b["max_thinking_tokens"] = 4;
      if (streamed) b["stream"] = true;
      auto r = post(c, "/v1/chat/completions", b);
      std::string problem;
      if (!r) problem = "no answer";
      else if (r->status == 503) ++busy;
      else if (r->status != 200) problem = "status " + std::to_string(r->status) + " " + r->body;
      else if (streamed) {
        bool done = false;
        auto ev = sse_events(r->body, &done);
        if (!done || ev.empty()) problem = "incomplete stream";
        else ++ok;
      } else {
        json j = json::parse(r->body, nullptr, false);
        if (!j.is_object() || j["usage"]["completion_tokens"] != 12 + i % 7) problem = "bad body " + r->body;
        else ++ok;
      }
      if (!problem.empty()) {
        ++bad;
        std::lock_guard lk(mu);
        problems.push_back(problem);
      }
    }
  };
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) ts.emplace_back(worker);
  for (auto& t : ts) t.join();
  EXPECT_EQ(bad, 0) << (problems.empty() ? "" : problems[0]);
  EXPECT_EQ(ok + busy, 32);
  EXPECT_GT(ok, 0);
  EXPECT_TRUE(wait_health(s, [](const json& h) { return h["slots"]["active"] == 0 && h["queue"]["waiting"] == 0; }));
  json h = health(s);
  EXPECT_EQ(h["requests"]["completed"], ok.load());
  EXPECT_EQ(h["requests"]["rejected"], busy.load());
  EXPECT_EQ(s.stop(), 0) << s.stderr_text();
}

}  // namespace
