// One way to ask a language model for text, whoever answers: the local engine or any
// OpenAI-compatible endpoint (vLLM, SGLang, llama.cpp's server, `s1 serve`, OpenAI).
// The evaluation harness (budget forcing by continuation requests) and the curation
// pipeline (traces, attempts, grading, classification) both talk to a Client.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace s1 {
class Tokenizer;
}

namespace s1::llm {

struct Message {
  std::string role;  // "system" | "user" | "assistant"
  std::string content;
};

struct Request {
  // Non-empty: a chat request (the answering side applies its chat template).
  std::vector<Message> messages;
  // Otherwise: raw text continued as-is (/v1/completions), special tokens written as text
  // (e.g. "<|im_start|>think") are parsed as special tokens.
  std::string prompt;
  int64_t max_tokens = 1024;
  int64_t min_tokens = 0;  // vLLM / llama.cpp extension; sent only when > 0
  double temperature = 0.0;
  double top_p = 1.0;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;  // stop strings; the text returned excludes them

  // Canonical JSON of every field above: the key of a response cache.
  nlohmann::json to_json() const;
};

struct Response {
  std::string text;
  std::string finish_reason;  // "stop" (stop string or end of sequence) | "length"
  std::string stop;           // the stop string that ended it, when known ("" otherwise)
  std::string reasoning;      // chat: a server's separate reasoning_content, when it sends one
  int64_t prompt_tokens = 0, completion_tokens = 0;
};

// A failed request. `retryable`: worth trying again later (connection failure, timeout,
// HTTP 429 / 5xx); not: the request itself is wrong (HTTP 4xx) — retrying cannot help.
class ClientError : public Error {
 public:
  ClientError(const std::string& what, int http_status, bool retryable)
      : Error(what), http_status(http_status), retryable(retryable) {}
  int http_status;  // 0 when no HTTP answer came
  bool retryable;
};

class Client {
 public:
  virtual ~Client() = default;
  // Thread-safe: callers may issue requests from several threads (the local engine
  // serialises them; an endpoint serves them concurrently). Throws ClientError.
  virtual Response complete(const Request& req) = 0;
  // Who answers, for logs and cache keys: "endpoint:<url>#<model>" or "local:<path>".
  virtual std::string id() const = 0;
  // The tokenizer of the answering model when this side has it (the local engine),
  // for exact token counts; nullptr for endpoints.
  virtual const Tokenizer* tokenizer() const { return nullptr; }
};

struct EndpointOptions {
  std::string base_url;    // e.g. "http://127.0.0.1:8080/v1" (a trailing "/v1" is added when missing)
  std::string model;       // the "model" field of requests; "" asks GET /models for the first one
  std::string api_key;     // sent as "Authorization: Bearer ..." when non-empty
  double timeout_s = 600;  // per request
  int max_retries = 4;     // retryable failures are retried with exponential backoff ...
  double backoff_s = 1.0;  // ... starting here (doubled each time, Retry-After honoured)
  // Merged into every request body: server-specific fields, e.g. vLLM's
  // {"skip_special_tokens": false, "spaces_between_special_tokens": false} as s1 sets them.
  nlohmann::json extra_body = nlohmann::json::object();
};
std::unique_ptr<Client> make_endpoint_client(const EndpointOptions& opts);

struct LocalOptions {
  std::string model_path;          // HF folder or .gguf
  int threads = 0;                 // 0: all cores
  int64_t max_context = 8192;      // KV cache length
  std::string chat_template;       // "" (the model's), "chatml", or a .jinja path
  std::string quant;               // "" or "q8_0"
};
std::unique_ptr<Client> make_local_client(const LocalOptions& opts);

// "--llm" specifications on the command line: "local:PATH" or "http(s)://host:port[/v1][#model]".
// The API key comes from the environment variable OPENAI_API_KEY when set.
// Endpoint specs start from endpoint_defaults (timeout, retries), then take the URL, the
// model and the key.
std::unique_ptr<Client> make_client(const std::string& spec, const LocalOptions& local_defaults = {},
                                    const EndpointOptions& endpoint_defaults = {});

}  // namespace s1::llm
