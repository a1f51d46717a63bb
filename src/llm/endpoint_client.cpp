// An OpenAI-compatible endpoint over HTTP(S) with libcurl: /v1/completions for raw
// prompts, /v1/chat/completions for messages. Failures are classified (retryable or not)
// and retryable ones are retried with exponential backoff, honouring Retry-After.
#include <curl/curl.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "llm/client.h"

namespace s1::llm {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct HttpReply {
  long status = 0;
  std::string body;
  double retry_after_s = -1;
};

size_t on_body(char* p, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(p, size * n);
  return size * n;
}
size_t on_header(char* p, size_t size, size_t n, void* user) {
  std::string h(p, size * n);
  auto* r = static_cast<HttpReply*>(user);
  static const std::string key = "retry-after:";
  if (h.size() > key.size()) {
    std::string head = h.substr(0, key.size());
    for (auto& c : head) c = char(std::tolower(static_cast<unsigned char>(c)));
    if (head == key) {
      try {
        r->retry_after_s = std::stod(h.substr(key.size()));
      } catch (...) {
      }
    }
  }
  return size * n;
}

// One HTTP exchange. Throws a retryable ClientError when no answer came.
HttpReply http(const std::string& method, const std::string& url, const std::string& body, const std::string& key,
               double timeout_s) {
  global_init();
  CURL* c = curl_easy_init();
  if (!c) throw ClientError("cannot create an HTTP handle", 0, true);
  HttpReply r;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Accept: application/json");
  std::string auth = "Authorization: Bearer " + key;
  if (!key.empty()) headers = curl_slist_append(headers, auth.c_str());
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // thread-safe timeouts
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, long(timeout_s * 1000));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
  if (method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, long(body.size()));
  }
  CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK) throw ClientError(cat(method, " ", url, ": ", curl_easy_strerror(rc)), 0, true);
  return r;
}

// The server's own words from an OpenAI-style error body, else the start of the body.
std::string error_message(const std::string& body) {
  try {
    auto j = nlohmann::json::parse(body);
    if (j.contains("error")) {
      const auto& e = j["error"];
      if (e.is_object() && e.contains("message") && e["message"].is_string()) return e["message"];
      if (e.is_string()) return e;
    }
  } catch (...) {
  }
  return body.substr(0, 300);
}

class EndpointClient : public Client {
 public:
  explicit EndpointClient(EndpointOptions o) : o_(std::move(o)) {
    std::string& u = o_.base_url;
    if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0)
      fail("endpoint '", u, "': expected a URL starting with http:// or https://");
    while (!u.empty() && u.back() == '/') u.pop_back();
    if (u.size() < 3 || u.substr(u.size() - 3) != "/v1") u += "/v1";
  }

  Response complete(const Request& req) override {
    const std::string& model = model_name();
    nlohmann::json body = req.to_json();
    body["model"] = model;
    for (auto& [k, v] : o_.extra_body.items()) body[k] = v;
    bool chat = !req.messages.empty();
    std::string url = o_.base_url + (chat ? "/chat/completions" : "/completions");
    HttpReply r = with_retries([&] { return http("POST", url, body.dump(), o_.api_key, o_.timeout_s); }, url);
    return parse(r.body, chat, url);
  }

  std::string id() const override { return "endpoint:" + o_.base_url + "#" + o_.model; }

 private:
  template <typename F>
  HttpReply with_retries(F&& once, const std::string& url) {
    double wait = o_.backoff_s;
    for (int attempt = 0;; ++attempt) {
      bool last = attempt >= o_.max_retries;
      try {
        HttpReply r = once();
        if (r.status >= 200 && r.status < 300) return r;
        bool retryable = r.status == 408 || r.status == 429 || r.status >= 500;
        std::string what = cat(url, ": HTTP ", r.status, ": ", error_message(r.body));
        if (!retryable || last) throw ClientError(what, int(r.status), retryable);
        sleep_for(r.retry_after_s >= 0 ? r.retry_after_s : wait);
      } catch (const ClientError& e) {
        if (!e.retryable || last) throw;
        if (e.http_status == 0) sleep_for(wait);
      }
      wait *= 2;
    }
  }

  static void sleep_for(double s) {
    std::this_thread::sleep_for(std::chrono::milliseconds(int64_t(std::min(s, 300.0) * 1000)));
  }

  const std::string& model_name() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!o_.model.empty()) return o_.model;
    std::string url = o_.base_url + "/models";
    HttpReply r = with_retries([&] { return http("GET", url, "", o_.api_key, o_.timeout_s); }, url);
    try {
      auto j = nlohmann::json::parse(r.body);
      o_.model = j.at("data").at(0).at("id").get<std::string>();
    } catch (const std::exception& e) {
      throw ClientError(cat(url, ": no model id in the answer (", e.what(), "); name one with URL#model"), 0, false);
    }
    return o_.model;
  }

  static Response parse(const std::string& text, bool chat, const std::string& url) {
    Response r;
    try {
      auto j = nlohmann::json::parse(text);
      const auto& c = j.at("choices").at(0);
      if (chat) {
        const auto& m = c.at("message");
        if (m.contains("content") && m["content"].is_string()) r.text = m["content"];
        if (m.contains("reasoning_content") && m["reasoning_content"].is_string()) r.reasoning = m["reasoning_content"];
      } else {
        r.text = c.at("text").get<std::string>();
      }
      if (c.contains("finish_reason") && c["finish_reason"].is_string()) r.finish_reason = c["finish_reason"];
      if (c.contains("stop_reason") && c["stop_reason"].is_string()) r.stop = c["stop_reason"];  // vLLM
      if (j.contains("usage") && j["usage"].is_object()) {
        const auto& u = j["usage"];
        if (u.contains("prompt_tokens") && u["prompt_tokens"].is_number_integer()) r.prompt_tokens = u["prompt_tokens"];
        if (u.contains("completion_tokens") && u["completion_tokens"].is_number_integer())
          r.completion_tokens = u["completion_tokens"];
      }
    } catch (const std::exception& e) {
      throw ClientError(cat(url, ": not an OpenAI-shaped answer (", e.what(), ")"), 0, false);
    }
    return r;
  }

  EndpointOptions o_;
  std::mutex mu_;
};

}  // namespace

std::unique_ptr<Client> make_endpoint_client(const EndpointOptions& opts) {
  return std::make_unique<EndpointClient>(opts);
}

}  // namespace s1::llm
