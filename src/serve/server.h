// The HTTP side of `s1 serve` (cpp-httplib): routes, the bearer key, body-size limit,
// OpenAI error bodies, prompt building (chat template, tokenizer, context check), budget
// forcing per request, and the hand-over to the Engine, streamed (SSE) or not.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "chat/chat_template.h"
#include "serve/engine.h"
#include "serve/request.h"

namespace s1::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback unless told otherwise
  int port = 8080;                 // 0: any free port (bind() says which)
  std::string api_key;             // "": no key needed
  size_t max_body = 1 << 20;       // bytes; larger bodies: 413
  RequestLimits limits;            // model id, max_tokens limit, ...
  int http_threads = 0;            // 0: --parallel + --max-queue + 4
};

class Server {
 public:
  // tmpl may be null (a model without a chat template: /v1/chat/completions answers 400).
  Server(Engine& engine, std::shared_ptr<const ChatTemplate> tmpl, ServerOptions opts);
  ~Server();
  // Binds the socket; returns the port. Throws s1::Error when it cannot.
  int bind();
  // Serves until stop() (from another thread or a signal handler's thread).
  void run();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace s1::serve
