// s1 serve: the OpenAI-compatible HTTP server (src/serve) with budget forcing per request.
// Only wiring here: open the model as `s1 generate` does, pick the thinking delimiters,
// start the engine (scheduler) and the HTTP server, stop both on SIGINT / SIGTERM.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <pthread.h>
#include <thread>

#include "cli/common.h"
#include "control/delimiters.h"
#include "control/token_traits.h"
#include "core/error.h"
#include "llm/engine.h"
#include "serve/server.h"

namespace s1::cli {

namespace {

struct ServeOptions {
  std::string model, host = "127.0.0.1", api_key, alias, family, chat_template, quant;
  int port = 8080, parallel = 1, threads = 0;
  size_t max_queue = 16, max_body = 1 << 20;
  int64_t ctx = 0, max_tokens_limit = 0;
};

std::string model_id_of(const std::string& path) {
  std::filesystem::path p(path);
  if (!p.has_filename()) p = p.parent_path();  // "dir/"
  std::string name = p.filename().string();
  return name.empty() ? "s1" : name;
}

int run_serve(const ServeOptions& o) {
  if (o.parallel < 1) fail("--parallel must be >= 1, got ", o.parallel);
  if (o.port < 0 || o.port > 65535) fail("--port must be 0..65535, got ", o.port);
  if (o.max_body < 64) fail("--max-body must be at least 64 bytes, got ", o.max_body);

  // Block the stop signals in every thread; one thread waits for them (sigwait) and stops
  // the server, so no work happens inside a signal handler.
  sigset_t stop_set;
  sigemptyset(&stop_set);
  sigaddset(&stop_set, SIGINT);
  sigaddset(&stop_set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client that left must not kill the server

  llm::EngineOptions eo;
  eo.threads = o.threads;
  eo.chat_template = o.chat_template;
  eo.quant = o.quant;
  llm::Engine opened = llm::Engine::open(o.model, eo);
  const ModelConfig& cfg = opened.model->config();

  serve::ModelContext mc;
  mc.model = opened.model.get();
  mc.tok = &opened.tokenizer;
  mc.traits = control::TokenTraits::build(opened.tokenizer);
  mc.stop_ids = opened.stop_ids;
  mc.valid_vocab = opened.valid_vocab;
  const control::Family fam = o.family.empty() ? control::detect_family(opened.chat_template.source(), opened.tokenizer)
                                               : control::parse_family(o.family);
  mc.delimiters = control::family_delimiters(fam);
  mc.has_delimiters = fam != control::Family::None;

  serve::EngineOptions engine_opts;
  engine_opts.parallel = o.parallel;
  engine_opts.max_queue = o.max_queue;
  engine_opts.ctx = o.ctx > 0 ? o.ctx : std::min<int64_t>(cfg.max_position, 8192);
  if (engine_opts.ctx > cfg.max_position)
    std::fprintf(stderr, "s1: warning: --ctx %lld is beyond the model's %lld positions\n", (long long)engine_opts.ctx,
                 (long long)cfg.max_position);

  serve::ServerOptions so;
  so.host = o.host;
  so.port = o.port;
  so.api_key = o.api_key;
  if (so.api_key.empty())
    if (const char* k = std::getenv("S1_API_KEY")) so.api_key = k;
  so.max_body = o.max_body;
  so.limits.model_id = o.alias.empty() ? model_id_of(o.model) : o.alias;
  so.limits.max_tokens_limit = o.max_tokens_limit > 0 ? o.max_tokens_limit : engine_opts.ctx;

  serve::Engine engine(mc, engine_opts);
  serve::Server server(engine, std::make_shared<ChatTemplate>(std::move(opened.chat_template)), so);
  const int port = server.bind();
  if (so.host != "127.0.0.1" && so.host != "localhost" && so.host != "::1" && so.api_key.empty())
    std::fprintf(stderr, "s1: warning: listening on %s without --api-key: anyone who can reach it can use it\n",
                 so.host.c_str());
  std::fprintf(stderr, "s1 serve: model '%s' (thinking family %s), %d slot%s, queue %zu, context %lld, max_tokens <= %lld\n",
               so.limits.model_id.c_str(), control::family_name(fam), o.parallel, o.parallel == 1 ? "" : "s",
               o.max_queue, (long long)engine_opts.ctx, (long long)so.limits.max_tokens_limit);
  // Tests and scripts read the bound port from this line (--port 0 picks a free one).
  std::printf("listening on http://%s:%d\n", so.host.c_str(), port);
  std::fflush(stdout);

  std::atomic<bool> run_returned{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop_set, &sig);
    if (!run_returned) std::fprintf(stderr, "s1 serve: stopping (signal %d)\n", sig);
    // cpp-httplib ignores stop() until its accept loop has started, so a signal that
    // arrives in between would be lost: repeat until run() has returned.
    while (!run_returned) {
      server.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  server.run();
  run_returned = true;
  // run() also returns when listening fails; wake the waiter so it can be joined.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  engine.stop();
  return 0;
}

}  // namespace

void add_serve(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* c = app.add_subcommand("serve", "OpenAI-compatible HTTP server with budget forcing per request");
  c->add_option("-m,--model", o->model, "Model: a Hugging Face folder or a .gguf file")->required();
  c->add_option("--host", o->host, "Address to bind (default 127.0.0.1: this machine only)");
  c->add_option("--port", o->port, "Port (0: any free port; the bound one is printed)");
  c->add_option("--api-key", o->api_key, "Require 'Authorization: Bearer KEY' on /v1/* (or set S1_API_KEY)");
  c->add_option("--parallel", o->parallel, "Requests generated at once (one KV cache each)");
  c->add_option("--max-queue", o->max_queue, "Requests waiting for a slot; more get 503");
  c->add_option("--ctx", o->ctx, "Context per request, prompt + completion (default: model's, at most 8192)");
  c->add_option("--max-body", o->max_body, "Largest request body in bytes (larger: 413)");
  c->add_option("--max-tokens-limit", o->max_tokens_limit, "Largest max_tokens a request may ask for (default: --ctx)");
  c->add_option("--alias", o->alias, "Model id clients use (default: the model folder / file name)");
  c->add_option("--family", o->family, "Thinking delimiters: s1, s1-steps, r1, none (default: detected)");
  c->add_option("--chat-template", o->chat_template, "chatml or a .jinja file (default: the model's)");
  c->add_option("-t,--threads", o->threads, "CPU threads for the model (0: all cores)");
  add_quant_option(c, o->quant);
  cmds.emplace_back(c, [o] { return run_serve(*o); });
}

}  // namespace s1::cli
