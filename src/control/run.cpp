#include "control/run.h"

#include <algorithm>

#include "core/error.h"

namespace s1::control {

ControlledRun generate_controlled(Model& model, KVCache& kv, const Tokenizer& tok, std::span<const int32_t> prompt,
                                  GenerateParams gp, const BudgetConfig* cfg,
                                  const std::function<void(int32_t)>& on_token,
                                  std::shared_ptr<const TokenTraits> traits) {
  const int64_t cached = kv.pos();
  if (cached >= int64_t(prompt.size()))
    fail("the KV cache holds ", cached, " tokens, not a prefix of the ", prompt.size(), "-token prompt");
  auto rest = prompt.subspan(size_t(cached));
  ControlledRun out;
  if (!cfg) {
    out.gen = generate(model, kv, rest, gp, nullptr, on_token);
    return out;
  }
  BudgetConfig c = *cfg;
  c.eos_ids = gp.stop_ids;
  c.context_tokens = kv.max_ctx();
  BudgetForcingController ctl(std::move(c), tok, std::move(traits));
  ctl.set_cached_prefix(std::vector<int32_t>(prompt.begin(), prompt.begin() + cached));
  gp.max_new_tokens = ctl.output_bound();
  out.gen = generate(model, kv, rest, gp, &ctl, on_token);
  out.record = ctl.finish(out.gen);
  out.controlled = true;
  return out;
}

void rewind_to_prompt(KVCache& kv, std::span<const int32_t> prompt) {
  kv.truncate(std::min<int64_t>(kv.pos(), int64_t(prompt.size()) - 1));
}

RejectionRun rejection_sample(Model& model, KVCache& kv, const Tokenizer& tok, std::span<const int32_t> prompt,
                              GenerateParams gp, BudgetConfig cfg, int max_tries,
                              std::shared_ptr<const TokenTraits> traits) {
  if (!cfg.max_thinking) fail("rejection sampling needs a thinking budget (--max-thinking)");
  if (max_tries < 1) fail("rejection sampling needs at least one try, got ", max_tries);
  if (!traits) traits = TokenTraits::build(tok);
  RejectionRun out;
  const uint64_t seed0 = gp.sampling.seed;
  BudgetConfig attempt_cfg = cfg;
  attempt_cfg.reject_at = *cfg.max_thinking;
  for (int t = 0; t < max_tries; ++t) {
    gp.sampling.seed = seed0 + uint64_t(t);
    rewind_to_prompt(kv, prompt);
    ControlledRun r = generate_controlled(model, kv, tok, prompt, gp, &attempt_cfg, {}, traits);
    const bool ok = r.gen.stop_reason != "rejected";
    out.attempts.push_back({gp.sampling.seed, r.record.thinking_tokens(), ok, r.gen.stop_reason});
    if (ok) {
      out.run = std::move(r);
      out.accepted = true;
      return out;
    }
  }
  gp.sampling.seed = seed0 + uint64_t(max_tries);
  rewind_to_prompt(kv, prompt);
  out.run = generate_controlled(model, kv, tok, prompt, gp, &cfg, {}, traits);
  out.attempts.push_back({gp.sampling.seed, out.run.record.thinking_tokens(), false, out.run.gen.stop_reason});
  return out;
}

std::string response_text(const ControlledRun& r, const Tokenizer& tok) {
  if (r.controlled) return r.record.end_text + r.record.answer_text;
  std::vector<int32_t> ids = r.gen.output_ids;
  if (r.gen.stop_reason == "eos" && !ids.empty()) ids.pop_back();
  return tok.decode(ids);
}

VotedRuns sample_and_vote(Model& model, KVCache& kv, const Tokenizer& tok, std::span<const int32_t> prompt,
                          const GenerateParams& gp, const BudgetConfig* cfg, int k, const AnswerExtractor& extractor,
                          int rejection_tries) {
  if (k < 1) fail("--samples must be >= 1, got ", k);
  if (rejection_tries > 0 && !cfg) fail("rejection sampling needs a budget configuration");
  auto traits = TokenTraits::build(tok);
  VotedRuns out;
  for (int i = 0; i < k; ++i) {
    GenerateParams g = gp;
    g.sampling.seed = gp.sampling.seed + uint64_t(i) * 1000003u;  // apart from rejection's seed + t
    rewind_to_prompt(kv, prompt);
    if (rejection_tries > 0) {
      out.rejection.push_back(rejection_sample(model, kv, tok, prompt, g, *cfg, rejection_tries, traits));
      out.samples.push_back(out.rejection.back().run);
    } else {
      out.samples.push_back(generate_controlled(model, kv, tok, prompt, g, cfg, {}, traits));
    }
    out.answers.push_back(extractor.extract(response_text(out.samples.back(), tok)));
  }
  out.vote = majority_vote(out.answers);
  return out;
}

}  // namespace s1::control
