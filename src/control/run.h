// Running generations under control, for the CLI, the evaluation and the server: one
// budget-forced generation, rejection sampling on thinking length, and parallel sampling
// with majority voting. Samples of one prompt share its KV cache: the cache is cut back
// to the prompt (KVCache::truncate) instead of being prefilled again.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "control/answer.h"
#include "control/budget_forcing.h"
#include "decode/generator.h"
#include "model/model.h"

namespace s1::control {

struct ControlledRun {
  GenerateResult gen;
  ThinkingRecord record;    // meaningful when controlled
  bool controlled = false;  // false: plain generation (cfg was null)
};

// One generation of `prompt`. cfg null: plain generation with gp as given. Otherwise the
// controller runs with cfg, whose eos_ids / context_tokens are taken from gp.stop_ids and
// kv.max_ctx(), and gp.max_new_tokens becomes the controller's bound (its limits end the
// run). kv must be empty or hold a prefix of `prompt` (kept: only the rest is prefilled).
ControlledRun generate_controlled(Model& model, KVCache& kv, const Tokenizer& tok, std::span<const int32_t> prompt,
                                  GenerateParams gp, const BudgetConfig* cfg,
                                  const std::function<void(int32_t)>& on_token = {},
                                  std::shared_ptr<const TokenTraits> traits = nullptr);

// Cuts a cache that holds `prompt` followed by anything back to the prompt minus its last
// token, so the next generation of the same prompt prefills one token.
void rewind_to_prompt(KVCache& kv, std::span<const int32_t> prompt);

struct RejectionAttempt {
  uint64_t seed = 0;
  int64_t thinking_tokens = 0;
  bool accepted = false;
  std::string stop_reason;
};
struct RejectionRun {
  ControlledRun run;  // the accepted attempt (or the budget-forced fallback)
  std::vector<RejectionAttempt> attempts;
  bool accepted = false;
};

// s1's rejection sampling (vllm_causallms.py, rejection_sample=true): sample until the
// thinking fits the budget cfg.max_thinking, where s1 counts the stop token, so thinking
// <= budget - 1 is accepted and an attempt is abandoned as soon as it reaches the budget.
// Seeds gp.seed, gp.seed + 1, ...; after max_tries rejections, one more attempt is
// budget-forced (accepted = false) where s1 would loop for ever.
RejectionRun rejection_sample(Model& model, KVCache& kv, const Tokenizer& tok, std::span<const int32_t> prompt,
                              GenerateParams gp, BudgetConfig cfg, int max_tries,
                              std::shared_ptr<const TokenTraits> traits = nullptr);

// The text a sample's answer is read from: the end text and answer of a controlled run
// (so s1's forced "Final Answer:" counts), the whole output of a plain one.
std::string response_text(const ControlledRun& r, const Tokenizer& tok);

struct VotedRuns {
  std::vector<ControlledRun> samples;
  std::vector<RejectionRun> rejection;  // per sample, when rejection sampling was used
  std::vector<std::optional<std::string>> answers;
  Vote vote;
};

// Parallel sampling with majority voting (s1's maj@k baseline): k samples with seeds
// gp.seed + i * 1000003 (apart from the seed + t of rejection tries), each budget-forced by cfg (or plain when null, or rejection-
// sampled with max_tries when rejection_tries > 0), answers extracted and voted.
VotedRuns sample_and_vote(Model& model, KVCache& kv, const Tokenizer& tok, std::span<const int32_t> prompt,
                          const GenerateParams& gp, const BudgetConfig* cfg, int k, const AnswerExtractor& extractor,
                          int rejection_tries = 0);

}  // namespace s1::control
