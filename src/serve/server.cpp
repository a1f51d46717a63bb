#include "serve/server.h"

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

#include "core/error.h"
#include "serve/response.h"

namespace s1::serve {

using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  res.set_content(dump(error_body(e)), "application/json");
}

bool ends_with_bearer(const std::string& header, const std::string& key) {
  const std::string want = "Bearer " + key;
  // constant-time compare: the key is a secret
  if (header.size() != want.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < want.size(); ++i) diff |= uint8_t(header[i] ^ want[i]);
  return diff == 0;
}

// How long a non-streamed request is answered the ordinary way before the server commits
// to a chunked 200 and starts writing whitespace (valid before a JSON value) to notice a
// client that went away: cpp-httplib 0.11 has no Request::is_connection_closed().
constexpr auto kPlainWait = 1000ms;
constexpr auto kHeartbeat = 500ms;

}  // namespace

struct Server::Impl {
  Engine& engine;
  std::shared_ptr<const ChatTemplate> tmpl;
  ServerOptions opts;
  httplib::Server http;
  std::atomic<uint64_t> counter{0};
  uint64_t salt = std::random_device{}() * 0x9E3779B97F4A7C15ull ^ uint64_t(std::time(nullptr));
  std::mt19937_64 seeds{std::random_device{}()};
  std::mutex seeds_mu;

  Impl(Engine& e, std::shared_ptr<const ChatTemplate> t, ServerOptions o) : engine(e), tmpl(std::move(t)), opts(std::move(o)) {}

  std::string new_id(const char* prefix) {
    char buf[40];
    const uint64_t n = counter.fetch_add(1) + 1;
    std::snprintf(buf, sizeof buf, "%s%016llx%08llx", prefix, (unsigned long long)(salt ^ (n * 0xBF58476D1CE4E5B9ull)),
                  (unsigned long long)n);
    return buf;
  }

  void routes();
  void completion(Endpoint ep, const httplib::Request& req, httplib::Response& res);
  // The request's prompt ids, max_tokens and budget: a ready spec, or a 4xx.
  std::variant<GenerationSpec, ApiError> prepare(const ParsedRequest& r);
  void stream(const ResponseMeta& meta, bool include_usage, std::shared_ptr<Job> job, httplib::Response& res);
  void whole(const ResponseMeta& meta, std::shared_ptr<Job> job, httplib::Response& res);
};

Server::Server(Engine& engine, std::shared_ptr<const ChatTemplate> tmpl, ServerOptions opts)
    : impl_(std::make_unique<Impl>(engine, std::move(tmpl), std::move(opts))) {
  impl_->routes();
}
Server::~Server() { stop(); }

int Server::bind() {
  auto& o = impl_->opts;
  int port = o.port == 0 ? impl_->http.bind_to_any_port(o.host) : (impl_->http.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port <= 0) fail("cannot listen on ", o.host, ":", o.port, " (address in use, or not an address of this machine)");
  return port;
}
void Server::run() { impl_->http.listen_after_bind(); }
void Server::stop() {
  if (impl_) impl_->http.stop();
}

void Server::Impl::routes() {
  const EngineOptions& eo = engine.options();
  const size_t threads = opts.http_threads > 0 ? size_t(opts.http_threads) : size_t(eo.parallel) + eo.max_queue + 4;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which lets a second server
  // bind the same port silently and share its connections.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const void*>(&yes), sizeof yes);
  });
  http.set_payload_max_length(opts.max_body);
  http.set_read_timeout(30, 0);
  http.set_write_timeout(30, 0);
  http.set_keep_alive_max_count(100);

  // The key guards /v1/*; /health stays open (a load balancer's probe has no key).
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (opts.api_key.empty() || req.path.rfind("/v1/", 0) != 0) return httplib::Server::HandlerResponse::Unhandled;
    if (ends_with_bearer(req.get_header_value("Authorization"), opts.api_key))
      return httplib::Server::HandlerResponse::Unhandled;
    send_error(res, {401, "missing or wrong API key: send 'Authorization: Bearer <key>'", "invalid_request_error", "",
                     "invalid_api_key"});
    return httplib::Server::HandlerResponse::Handled;
  });
  // Statuses httplib sets itself (404 no route, 413 body too large, 400 bad HTTP) get an
  // OpenAI error body too.
  http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    ApiError e{res.status, "", "invalid_request_error", "", ""};
    if (res.status == 404) e.message = "no such endpoint: " + req.method + " " + req.path.substr(0, 200), e.code = "not_found";
    else if (res.status == 413) e.message = "the request body is too large", e.code = "request_too_large";
    else e.message = "bad request (HTTP status " + std::to_string(res.status) + ")";
    send_error(res, e);
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = std::string("internal error: ") + e.what();
    } catch (...) {
    }
    send_error(res, {500, what, "server_error", "", ""});
  });

  http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    EngineStats s = engine.stats();
    json j = {{"status", "ok"},
              {"model", opts.limits.model_id},
              {"slots", {{"total", s.slots}, {"active", s.active}}},
              {"queue", {{"waiting", s.queued}, {"max", s.max_queue}}},
              {"requests", {{"completed", s.completed}, {"cancelled", s.cancelled}, {"rejected", s.rejected}, {"failed", s.failed}}},
              {"tokens_generated", s.tokens_generated}};
    res.set_content(dump(j), "application/json");
  });
  auto models = [this](const httplib::Request&, httplib::Response& res) {
    json m = {{"id", opts.limits.model_id}, {"object", "model"}, {"created", int64_t(0)}, {"owned_by", "s1.cpp"},
              {"max_model_len", engine.options().ctx}};
    res.set_content(dump(json{{"object", "list"}, {"data", json::array({m})}}), "application/json");
  };
  http.Get("/v1/models", models);
  http.Get("/v1/models/(.+)", [this](const httplib::Request& req, httplib::Response& res) {
    if (req.matches[1] != opts.limits.model_id) {
      send_error(res, {404, "The model '" + std::string(req.matches[1]).substr(0, 200) + "' does not exist",
                       "invalid_request_error", "model", "model_not_found"});
      return;
    }
    res.set_content(dump(json{{"id", opts.limits.model_id}, {"object", "model"}, {"created", int64_t(0)}, {"owned_by", "s1.cpp"}}),
                    "application/json");
  });
  http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    completion(Endpoint::Chat, req, res);
  });
  http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    completion(Endpoint::Completions, req, res);
  });
}

std::variant<GenerationSpec, ApiError> Server::Impl::prepare(const ParsedRequest& r) {
  const ModelContext& mc = engine.model();
  const Tokenizer& tok = *mc.tok;
  const int64_t ctx = engine.options().ctx;
  GenerationSpec spec;
  if (r.endpoint == Endpoint::Chat) {
    if (!tmpl) return bad_request("this model has no chat template: use /v1/completions", "messages");
    std::string text;
    try {
      text = tmpl->apply(r.messages, true, r.template_kwargs);
    } catch (const std::exception& e) {
      return bad_request(std::string("the chat template rejected the messages: ") + e.what(), "messages");
    }
    spec.prompt = tok.encode(text);
  } else if (r.prompt_text) {
    if (tok.add_bos())
      if (auto b = tok.token_id(tok.bos_token())) spec.prompt.push_back(*b);
    auto body = tok.encode(*r.prompt_text);
    spec.prompt.insert(spec.prompt.end(), body.begin(), body.end());
  } else {
    for (int32_t id : r.prompt_ids)
      if (id >= mc.valid_vocab)
        return bad_request("prompt token id " + std::to_string(id) + " is outside the vocabulary (" +
                               std::to_string(mc.valid_vocab) + ")",
                           "prompt");
    spec.prompt = r.prompt_ids;
  }
  const int64_t n = int64_t(spec.prompt.size());
  if (n == 0) return bad_request("the prompt is empty", r.endpoint == Endpoint::Chat ? "messages" : "prompt");
  if (n >= ctx)
    return bad_request("This model's maximum context length is " + std::to_string(ctx) + " tokens; the prompt has " +
                           std::to_string(n) + " tokens",
                       r.endpoint == Endpoint::Chat ? "messages" : "prompt", "context_length_exceeded");
  if (r.max_tokens && n + *r.max_tokens > ctx)
    return bad_request("This model's maximum context length is " + std::to_string(ctx) + " tokens; you requested " +
                           std::to_string(n + *r.max_tokens) + " tokens (" + std::to_string(n) + " in the prompt, " +
                           std::to_string(*r.max_tokens) + " for the completion)",
                       "max_tokens", "context_length_exceeded");
  spec.max_tokens = r.max_tokens.value_or(std::min(opts.limits.max_tokens_limit, ctx - n));
  spec.min_tokens = std::min(r.min_tokens, spec.max_tokens);
  spec.sampling = r.sampling;
  if (!r.seed_given) {
    std::lock_guard lk(seeds_mu);
    spec.sampling.seed = seeds();
  }
  spec.stop = r.stop;

  if (r.thinking.requested && !mc.has_delimiters)
    return bad_request("budget forcing needs thinking delimiters, and none are known for this model (start the server "
                       "with --family s1|r1)",
                       "max_thinking_tokens");
  // /v1/completions continues raw text as vLLM does (the thinking stays in `text`), so that
  // clients doing budget forcing by continuation requests (s1's harness, `s1 eval
  // --endpoint`) see exactly what the model wrote; only budget fields turn control on.
  if (mc.has_delimiters && (r.endpoint == Endpoint::Chat || r.thinking.requested)) {
    const ThinkingParams& t = r.thinking;
    control::BudgetConfig cfg;
    cfg.delimiters = mc.delimiters;
    if (t.end_str) cfg.delimiters.end_text = *t.end_str;
    cfg.force_start = t.requested;  // otherwise only a prompt that opened the block is read
    cfg.max_thinking = t.max_thinking;
    cfg.min_thinking = t.min_thinking;
    cfg.num_ignore = t.num_ignore;
    if (t.ignore_str) cfg.ignore_str = *t.ignore_str;
    if (t.budget_mode) cfg.mode = control::parse_budget_mode(*t.budget_mode);
    cfg.answer_limit = spec.max_tokens;
    try {
      cfg.validate();
    } catch (const std::exception& e) {
      return bad_request(std::string("bad thinking budget: ") + e.what(), "min_thinking_tokens");
    }
    if (t.min_thinking > spec.max_tokens)
      return bad_request("'min_thinking_tokens' is above max_tokens (" + std::to_string(spec.max_tokens) + ")",
                         "min_thinking_tokens");
    spec.budget = std::move(cfg);
  }
  return spec;
}

void Server::Impl::completion(Endpoint ep, const httplib::Request& req, httplib::Response& res) {
  if (req.body.size() > opts.max_body) return send_error(res, {413, "the request body is too large", "invalid_request_error", "", "request_too_large"});
  ParseResult pr = parse_request(ep, req.body, opts.limits);
  if (auto* e = std::get_if<ApiError>(&pr)) return send_error(res, *e);
  const ParsedRequest& r = std::get<ParsedRequest>(pr);
  auto prepared = prepare(r);
  if (auto* e = std::get_if<ApiError>(&prepared)) return send_error(res, *e);
  auto job = std::make_shared<Job>(std::move(std::get<GenerationSpec>(prepared)));
  if (auto e = engine.submit(job)) {
    res.set_header("Retry-After", "1");
    return send_error(res, *e);
  }
  ResponseMeta meta{ep, new_id(ep == Endpoint::Chat ? "chatcmpl-" : "cmpl-"), int64_t(std::time(nullptr)), opts.limits.model_id};
  if (r.stream) stream(meta, r.include_usage, std::move(job), res);
  else whole(meta, std::move(job), res);
}

void Server::Impl::stream(const ResponseMeta& meta, bool include_usage, std::shared_ptr<Job> job, httplib::Response& res) {
  struct State {
    bool started = false;
  };
  auto st = std::make_shared<State>();
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream",
      [meta, include_usage, job, st](size_t, httplib::DataSink& sink) -> bool {
        // A failed write means the client went away: the job is cancelled, the engine drops it.
        auto put = [&](const std::string& s) {
          if (sink.write(s.data(), s.size())) return true;
          job->cancel();
          return false;
        };
        if (!st->started) {
          st->started = true;
          return put(sse(first_chunk(meta, include_usage)));
        }
        bool finished = false;
        Delta d = job->take(kHeartbeat * 2, &finished);
        if (!d.reasoning.empty() && !put(sse(delta_chunk(meta, d.reasoning, "", include_usage)))) return false;
        if (!d.content.empty() && !put(sse(delta_chunk(meta, "", d.content, include_usage)))) return false;
        if (!finished) {
          // An SSE comment (ignored by clients) while nothing comes: a queued request
          // notices a client that left before its first token.
          if (d.empty() && !put(": keep-alive\n\n")) return false;
          return true;
        }
        if (job->error()) {
          if (!put(sse(error_body(*job->error())))) return false;
        } else {
          if (!put(sse(final_chunk(meta, job->outcome().finish_reason, include_usage)))) return false;
          if (include_usage && !put(sse(usage_chunk(meta, job->outcome())))) return false;
        }
        if (!put(sse_done())) return false;
        sink.done();
        return true;
      },
      [job](bool) {
        if (!job->finished()) job->cancel();  // the response ended early (client gone, server stopping)
      });
}

void Server::Impl::whole(const ResponseMeta& meta, std::shared_ptr<Job> job, httplib::Response& res) {
  auto t0 = std::chrono::steady_clock::now();
  bool finished = false;
  while (!finished && std::chrono::steady_clock::now() - t0 < kPlainWait) job->take(50ms, &finished);
  if (finished) {
    if (job->error()) return send_error(res, *job->error());
    res.set_content(dump(response_json(meta, job->outcome())), "application/json");
    return;
  }
  // Still generating: commit to a chunked 200 and write a space now and then; a write
  // that fails means the client left, and the job is cancelled.
  res.set_chunked_content_provider(
      "application/json",
      [meta, job](size_t, httplib::DataSink& sink) -> bool {
        bool done = false;
        job->take(kHeartbeat, &done);
        if (!done) {
          if (sink.write(" ", 1)) return true;
          job->cancel();
          return false;
        }
        // An error after the 200 was sent can only be reported in the body.
        const std::string body = job->error() ? dump(error_body(*job->error())) : dump(response_json(meta, job->outcome()));
        if (!sink.write(body.data(), body.size())) return false;
        sink.done();
        return true;
      },
      [job](bool) {
        if (!job->finished()) job->cancel();
      });
}

}  // namespace s1::serve
