// The endpoint client against a real HTTP server on loopback (cpp-httplib in a thread):
// request shape, model discovery, retries with backoff on 429/5xx, no retry on 4xx.
#include <gtest/gtest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "llm/client.h"

namespace {

struct Server {
  httplib::Server svr;
  int port = 0;
  std::thread th;
  std::atomic<int> calls{0};
  nlohmann::json last_body;
  std::string last_auth;
  std::mutex mu;

  Server() {}
  void start() {
    port = svr.bind_to_any_port("127.0.0.1");
    th = std::thread([this] { svr.listen_after_bind(); });
    while (!svr.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Server() {
    svr.stop();
    if (th.joinable()) th.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
  void record(const httplib::Request& req) {
    std::lock_guard<std::mutex> l(mu);
    ++calls;
    last_body = nlohmann::json::parse(req.body);
    last_auth = req.get_header_value("Authorization");
  }
};

std::string completion(const std::string& text, const std::string& finish) {
  return nlohmann::json{{"id", "c1"},
                        {"object", "text_completion"},
                        {"choices", {{{"index", 0}, {"text", text}, {"finish_reason", finish}}}},
                        {"usage", {{"prompt_tokens", 7}, {"completion_tokens", 3}}}}
      .dump();
}

}  // namespace

TEST(EndpointClient, SendsOpenAIRequestAndParsesAnswer) {
  Server s;
  s.svr.Post("/v1/completions", [&](const httplib::Request& req, httplib::Response& res) {
    s.record(req);
    res.set_content(completion("<|im_start|>think\nhmm", "length"), "application/json");
  });
  s.start();
  s1::llm::EndpointOptions o;
  o.base_url = s.url();  // "/v1" is added
  o.model = "m1";
  o.api_key = "sekret";
  o.extra_body = {{"skip_special_tokens", false}};
  auto c = s1::llm::make_endpoint_client(o);
  s1::llm::Request req;
  req.prompt = "Q";
  req.max_tokens = 3;
  req.stop = {"<|im_start|>", "<|im_end|>"};
  req.seed = 9;
  auto r = c->complete(req);
  EXPECT_EQ(r.text, "<|im_start|>think\nhmm");
  EXPECT_EQ(r.finish_reason, "length");
  EXPECT_EQ(r.prompt_tokens, 7);
  EXPECT_EQ(r.completion_tokens, 3);
  EXPECT_EQ(s.last_body["model"], "m1");
  EXPECT_EQ(s.last_body["prompt"], "Q");
  EXPECT_EQ(s.last_body["max_tokens"], 3);
  EXPECT_EQ(s.last_body["seed"], 9);
  EXPECT_EQ(s.last_body["stop"].size(), 2u);
  EXPECT_EQ(s.last_body["skip_special_tokens"], false);
  EXPECT_EQ(s.last_auth, "Bearer sekret");
}

TEST(EndpointClient, ChatUsesMessagesAndDiscoversTheModel) {
  Server s;
  s.svr.Get("/v1/models", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"object":"list","data":[{"id":"served-model","object":"model"}]})", "application/json");
  });
  s.svr.Post("/v1/chat/completions", [&](const httplib::Request& req, httplib::Response& res) {
    s.record(req);
    res.set_content(
        R"({"choices":[{"index":0,"message":{"role":"assistant","content":"4","reasoning_content":"2+2"},"finish_reason":"stop"}]})",
        "application/json");
  });
  s.start();
  auto c = s1::llm::make_client(s.url() + "/v1");
  s1::llm::Request req;
  req.messages = {{"user", "2+2?"}};
  auto r = c->complete(req);
  EXPECT_EQ(r.text, "4");
  EXPECT_EQ(r.reasoning, "2+2");
  EXPECT_EQ(s.last_body["model"], "served-model");
  EXPECT_EQ(s.last_body["messages"][0]["content"], "2+2?");
}

TEST(EndpointClient, RetriesOverloadThenSucceeds) {
  Server s;
  s.svr.Post("/v1/completions", [&](const httplib::Request& req, httplib::Response& res) {
    s.record(req);
    if (s.calls <= 2) {
      res.status = s.calls == 1 ? 429 : 503;
      res.set_header("Retry-After", "0");
      res.set_content(R"({"error":{"message":"busy"}})", "application/json");
      return;
    }
    res.set_content(completion("ok", "stop"), "application/json");
  });
  s.start();
  s1::llm::EndpointOptions o;
  o.base_url = s.url();
  o.model = "m";
  o.backoff_s = 0.01;
  auto c = s1::llm::make_endpoint_client(o);
  s1::llm::Request req;
  req.prompt = "x";
  EXPECT_EQ(c->complete(req).text, "ok");
  EXPECT_EQ(s.calls.load(), 3);
}

TEST(EndpointClient, BadRequestIsNotRetried) {
  Server s;
  s.svr.Post("/v1/completions", [&](const httplib::Request& req, httplib::Response& res) {
    s.record(req);
    res.status = 400;
    res.set_content(R"({"error":{"message":"max_tokens is too large"}})", "application/json");
  });
  s.start();
  s1::llm::EndpointOptions o;
  o.base_url = s.url();
  o.model = "m";
  o.backoff_s = 0.01;
  auto c = s1::llm::make_endpoint_client(o);
  s1::llm::Request req;
  req.prompt = "x";
  try {
    c->complete(req);
    FAIL() << "expected an error";
  } catch (const s1::llm::ClientError& e) {
    EXPECT_EQ(e.http_status, 400);
    EXPECT_FALSE(e.retryable);
    EXPECT_NE(std::string(e.what()).find("max_tokens is too large"), std::string::npos);
  }
  EXPECT_EQ(s.calls.load(), 1);
}

TEST(EndpointClient, UnreachableServerIsRetryableAfterRetries) {
  // A port that was free a moment ago and now has no listener: bound, then closed.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(fd);
  s1::llm::EndpointOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(port);
  o.model = "m";
  o.max_retries = 1;
  o.backoff_s = 0.01;
  o.timeout_s = 10;
  auto c = s1::llm::make_endpoint_client(o);
  s1::llm::Request req;
  req.prompt = "x";
  try {
    c->complete(req);
    FAIL() << "expected an error";
  } catch (const s1::llm::ClientError& e) {
    EXPECT_TRUE(e.retryable);
    EXPECT_EQ(e.http_status, 0);
  }
}

TEST(EndpointClient, MalformedAnswerIsAnError) {
  Server s;
  s.svr.Post("/v1/completions", [&](const httplib::Request& req, httplib::Response& res) {
    res.set_content("{\"choices\": []}", "application/json");
  });
  s.start();
  s1::llm::EndpointOptions o;
  o.base_url = s.url();
  o.model = "m";
  auto c = s1::llm::make_endpoint_client(o);
  s1::llm::Request req;
  req.prompt = "x";
  EXPECT_THROW(c->complete(req), s1::llm::ClientError);
}
