// s1 bench-wait: what one s1 "Wait" round costs inside our decoding loop, against what the
// authors' multi-call loop pays for it. Ours: the "Wait" tokens go through the KV cache
// that already holds the context, then a few tokens are decoded. Theirs (a new vLLM
// generate call per round): the whole context + "Wait" is prefilled again, then the same
// tokens are decoded. Both are timed on the same context; medians of --runs runs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>

#include "cli/common.h"
#include "core/error.h"

namespace s1::cli {
namespace {

struct BenchWaitOptions {
  std::string model, quant, wait = "Wait";
  int64_t context = 4096, decode = 8;
  int runs = 3, threads = 0;
  bool json = false;
};

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int32_t argmax(const std::vector<float>& l) { return int32_t(std::max_element(l.begin(), l.end()) - l.begin()); }

struct RoundTime {
  double first = 0, total = 0;  // feeding `first` alone; that plus the decoded tokens
};

// Feeds `first` through kv (one call: a prefill when it is long), then decodes n tokens greedily.
RoundTime timed_round(Model& m, KVCache& kv, std::span<const int32_t> first, int64_t n, std::vector<float>& logits,
                      int64_t valid) {
  RoundTime t;
  const double t0 = now_s();
  m.forward(kv, first, logits.data());
  t.first = now_s() - t0;
  for (int64_t i = 0; i < n; ++i) {
    std::fill(logits.begin() + valid, logits.end(), -1e30f);
    int32_t id = argmax(logits);
    m.forward(kv, std::span<const int32_t>(&id, 1), logits.data());
  }
  t.total = now_s() - t0;
  return t;
}

int run_bench_wait(const BenchWaitOptions& o) {
  if (o.context < 1 || o.decode < 0 || o.runs < 1) fail("--context and --runs must be >= 1, --decode >= 0");
  auto be = make_cpu_backend(o.threads);
  const int threads = be->threads();
  auto model = Model::load(o.model, std::shared_ptr<Backend>(std::move(be)), load_options(o.quant));
  const ModelConfig& c = model->config();
  std::optional<Tokenizer> tok = try_load_tokenizer(o.model);
  const int64_t valid = tok ? std::min<int64_t>(tok->vocab_size(), c.vocab_size) : c.vocab_size;
  std::vector<int32_t> wait = tok ? tok->encode(o.wait) : std::vector<int32_t>{14190};
  if (wait.empty()) fail("--wait: the ignore string tokenizes to nothing");

  // The context's values do not change the time: random ids stand for prompt + thinking.
  std::mt19937 rng(1);
  std::uniform_int_distribution<int32_t> pick(0, int32_t(std::min<int64_t>(valid, 150000) - 1));
  std::vector<int32_t> context(size_t(o.context));
  for (auto& t : context) t = pick(rng);
  std::vector<int32_t> with_wait = context;
  with_wait.insert(with_wait.end(), wait.begin(), wait.end());
  const int64_t cap = int64_t(with_wait.size()) + o.decode + 1;
  std::vector<float> logits(size_t(c.vocab_size));

  if (!o.json) std::fprintf(stderr, "prefilling the %lld-token context once...\n", (long long)o.context);
  KVCache kv(*model, cap);
  model->forward(kv, context, logits.data());

  std::vector<double> ours, theirs, inject, prefill;
  for (int r = 0; r < o.runs; ++r) {
    kv.truncate(o.context);  // back to "the model just tried to end thinking"
    const RoundTime a = timed_round(*model, kv, wait, o.decode, logits, valid);
    KVCache fresh(*model, cap);
    const RoundTime b = timed_round(*model, fresh, with_wait, o.decode, logits, valid);
    ours.push_back(a.total);
    inject.push_back(a.first);
    theirs.push_back(b.total);
    prefill.push_back(b.first);
    if (!o.json)
      std::fprintf(stderr, "run %d/%d: in-loop Wait round %.3f s, re-prefill round %.3f s (%.1fx)\n", r + 1, o.runs,
                   a.total, b.total, b.total / a.total);
  }
  const double a = median(ours), b = median(theirs);
  nlohmann::ordered_json j;
  j["model"] = o.model;
  j["threads"] = threads;
  j["context_tokens"] = o.context;
  j["wait_tokens"] = wait.size();
  j["decoded_tokens"] = o.decode;
  j["runs"] = o.runs;
  j["in_loop_wait_round_s"] = ours;
  j["reprefill_round_s"] = theirs;
  j["in_loop_median_s"] = a;
  j["reprefill_median_s"] = b;
  j["ratio_reprefill_over_in_loop"] = b / a;
  // The two first steps alone: "Wait" through the kept cache vs the whole context again.
  j["wait_inject_median_s"] = median(inject);
  j["context_reprefill_median_s"] = median(prefill);
  j["ratio_first_step"] = median(prefill) / median(inject);
  if (o.json) {
    std::cout << j.dump() << "\n";
  } else {
    std::printf("context %lld tokens, \"%s\" = %zu token(s), then %lld decoded tokens; %d threads; medians of %d runs\n",
                (long long)o.context, o.wait.c_str(), wait.size(), (long long)o.decode, threads, o.runs);
    std::printf("in-loop Wait round (KV cache kept)     %.3f s\n", a);
    std::printf("re-prefill round (s1's multi-call loop) %.3f s\n", b);
    std::printf("ratio                                  %.1fx\n", b / a);
    std::printf("first step alone: Wait %.3f s vs re-prefill %.3f s (%.0fx)\n", median(inject), median(prefill),
                median(prefill) / median(inject));
  }
  return 0;
}

}  // namespace

void add_bench_wait(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds) {
  auto o = std::make_shared<BenchWaitOptions>();
  CLI::App* c = app.add_subcommand("bench-wait", "Time one budget-forcing Wait round against re-prefilling the context");
  c->add_option("-m,--model", o->model, "Model: a Hugging Face folder or a .gguf file")->required();
  c->add_option("--context", o->context, "Tokens already in the cache (prompt + thinking)")->capture_default_str();
  c->add_option("--decode", o->decode, "Tokens decoded after the Wait")->capture_default_str();
  c->add_option("--wait", o->wait, "The ignore string")->capture_default_str();
  c->add_option("--runs", o->runs, "Runs (the median is reported)")->capture_default_str();
  c->add_option("-t,--threads", o->threads, "Threads (default: all cores)");
  c->add_flag("--json", o->json, "Print one JSON object");
  add_quant_option(c, o->quant);
  cmds.emplace_back(c, [o] { return run_bench_wait(*o); });
}

}  // namespace s1::cli
