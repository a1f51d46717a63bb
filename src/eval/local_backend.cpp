// The local engine: one KV cache reused across samples (the common prefix of consecutive
// prompts, e.g. the system prompt, is kept), budget forcing by control/run.h.
#include <algorithm>
#include <chrono>

#include "control/run.h"
#include "control/token_traits.h"
#include "core/error.h"
#include "eval/backend.h"
#include "llm/engine.h"

namespace s1::eval {
namespace {

class LocalBackend : public Backend {
 public:
  LocalBackend(llm::Engine& e, GenOptions o, int64_t ctx)
      : e_(e), o_(std::move(o)), kv_(*e.model, std::max<int64_t>(ctx, 1)),
        traits_(control::TokenTraits::build(e.tokenizer)) {}

  bool concurrent() const override { return false; }
  std::string id() const override { return "local:" + e_.model->path(); }
  int64_t context_tokens() const override { return kv_.max_ctx(); }

  SampleRecord generate(const std::string& prompt_text, const PointSettings& point, int64_t max_thinking,
                        uint64_t seed) override {
    const Tokenizer& tok = e_.tokenizer;
    std::vector<int32_t> prompt = tok.encode(prompt_text);
    if (prompt.empty()) fail("the prompt is empty");
    if (int64_t(prompt.size()) >= kv_.max_ctx())
      fail("the prompt has ", prompt.size(), " tokens, the context ", kv_.max_ctx(), " (--ctx)");
    reuse_prefix(prompt);

    GenerateParams gp;
    gp.max_new_tokens = o_.answer_limit;
    gp.sampling.temperature = float(o_.temperature);
    gp.sampling.top_p = float(o_.top_p);
    gp.sampling.seed = seed;
    gp.stop_ids = e_.stop_ids;
    gp.valid_vocab = e_.valid_vocab;

    auto t0 = std::chrono::steady_clock::now();
    SampleRecord r;
    r.prompt = prompt_text;
    r.controlled = point.controlled;
    control::ControlledRun run;
    if (!point.controlled) {
      run = control::generate_controlled(*e_.model, kv_, tok, prompt, gp, nullptr, {}, traits_);
    } else {
      control::BudgetConfig cfg;
      cfg.delimiters = o_.delimiters;
      cfg.max_thinking = max_thinking;
      cfg.min_thinking = std::min(o_.min_thinking, max_thinking);
      cfg.num_ignore = o_.num_ignore;
      cfg.ignore_str = o_.ignore_str;
      cfg.mode = o_.mode;
      cfg.answer_limit = o_.answer_limit;
      cfg.end_bias = o_.end_bias;
      cfg.validate();
      if (point.rejection) {
        control::RejectionRun rs = control::rejection_sample(*e_.model, kv_, tok, prompt, gp, cfg, o_.reject_tries, traits_);
        nlohmann::json attempts = nlohmann::json::array();
        for (const auto& a : rs.attempts)
          attempts.push_back({{"seed", a.seed}, {"thinking_tokens", a.thinking_tokens}, {"accepted", a.accepted},
                              {"stop_reason", a.stop_reason}});
        r.extra["rejection"] = {{"accepted", rs.accepted}, {"attempts", attempts}};
        run = std::move(rs.run);
      } else {
        run = control::generate_controlled(*e_.model, kv_, tok, prompt, gp, &cfg, {}, traits_);
      }
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cached_ = prompt;
    cached_.insert(cached_.end(), run.gen.output_ids.begin(), run.gen.output_ids.end());
    r.stop_reason = run.gen.stop_reason;
    r.generated_tokens = int64_t(run.gen.output_ids.size());
    if (run.controlled) {
      const control::ThinkingRecord& rec = run.record;
      r.start_text = rec.preamble_text + rec.start_text;
      r.thinking_text = rec.thinking_text;
      r.end_text = rec.end_text;
      r.answer_text = rec.answer_text;
      r.forced_end = rec.forced_end;
      r.end_cause = rec.end_cause;
      r.engine_thinking_tokens = rec.thinking_tokens();
      r.engine_answer_tokens = rec.answer_tokens();
      for (const auto& ig : rec.ignores) {
        WaitEvent w;
        w.token_position = ig.position;
        size_t n = size_t(std::clamp<int64_t>(ig.position, 0, int64_t(rec.thinking_ids.size())));
        w.char_offset = int64_t(tok.decode(std::span<const int32_t>(rec.thinking_ids.data(), n)).size());
        w.text = ig.text;
        r.waits.push_back(std::move(w));
      }
    } else {
      std::vector<int32_t> ids = run.gen.output_ids;
      if (run.gen.stop_reason == "eos" && !ids.empty()) ids.pop_back();
      std::string text = tok.decode(ids);
      // a plain run of a reasoning model writes its own delimiters: split at the end one
      const std::string& end = o_.delimiters.think_end;
      size_t at = end.empty() ? std::string::npos : text.find(end);
      if (at == std::string::npos) {
        r.answer_text = text;
      } else {
        r.thinking_text = text.substr(0, at);
        r.end_text = end;
        r.answer_text = text.substr(at + end.size());
        r.end_cause = "model";
      }
      r.engine_answer_tokens = int64_t(ids.size());
    }
    r.output = r.start_text + r.thinking_text + r.end_text + r.answer_text;
    return r;
  }

 private:
  // Keeps the longest prefix the cache holds and the new prompt share (at least one
  // prompt token is left to prefill, for the first logits).
  void reuse_prefix(const std::vector<int32_t>& prompt) {
    size_t n = 0, lim = std::min({cached_.size(), prompt.size() - 1, size_t(kv_.pos())});
    while (n < lim && cached_[n] == prompt[n]) ++n;
    kv_.truncate(int64_t(n));
  }

  llm::Engine& e_;
  GenOptions o_;
  KVCache kv_;
  std::shared_ptr<const control::TokenTraits> traits_;
  std::vector<int32_t> cached_;  // what the cache's positions hold (a prefix of it)
};

}  // namespace

std::unique_ptr<Backend> make_local_backend(llm::Engine& engine, const GenOptions& opts, int64_t ctx) {
  return std::make_unique<LocalBackend>(engine, opts, ctx);
}

std::vector<std::string> thinking_stops(const control::Delimiters& d, const std::vector<std::string>& answer_stops) {
  std::vector<std::string> out;
  for (const auto* list : {&d.stops, &answer_stops})
    for (const auto& s : *list)
      if (!s.empty() && std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  return out;
}

}  // namespace s1::eval
