// Budget forcing as a controller of the decoding loop (decode/controller.h): the shape of
// llama.cpp's reasoning-budget sampler, plus the minimum side (s1's ignored ends).
//
//   IDLE ──start delimiter emitted──▶ THINKING          (the model opens the block itself)
//   START: force think_start ───────▶ THINKING          (the default; skipped when the prompt opened it)
//   THINKING: every token counts. The model samples an end token:
//       thinking < min, or ignores remain  → refuse it, force the ignore string ("Wait")
//       otherwise                          → END (the rest of think_end is forced)
//     budget (or context) reached          → END (force "\n"? + end text), never inside a
//                                            UTF-8 character: the last slots are masked
//   END: force the queued tokens ───▶ ANSWER
//   ANSWER: ordinary sampling until a stop id or the answer limit
//
// Forced tokens go through the KV cache like sampled ones: a "Wait" costs its own tokens
// and nothing else. The ThinkingRecord is written by these transitions.
#pragma once
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/budget_config.h"
#include "control/record.h"
#include "control/token_matcher.h"
#include "control/token_traits.h"
#include "decode/controller.h"
#include "decode/generator.h"
#include "tokenizer/tokenizer.h"

namespace s1::control {

// The token ids of every string in a BudgetConfig (special tokens recognized).
struct TokenPlan {
  std::vector<int32_t> start, end, end_text, newline, ignore;
  // think_start / think_end without trailing whitespace: the start the model may write
  // itself (IDLE), and the stop used when no stop strings are given.
  std::vector<int32_t> start_marker, end_marker;
  std::vector<std::vector<int32_t>> stops;        // think_end when no stop strings are given
  static TokenPlan resolve(const BudgetConfig& cfg, const Tokenizer& tok);
};

enum class Phase { Idle, Start, Thinking, End, Answer };
const char* phase_name(Phase p);

class BudgetForcingController : public Controller {
 public:
  // Validates cfg (s1::Error on a bad setting). traits: shared between controllers of the
  // same tokenizer; built here when null (~20 ms for a 150K vocabulary).
  BudgetForcingController(BudgetConfig cfg, const Tokenizer& tok, std::shared_ptr<const TokenTraits> traits = nullptr);

  // Tokens already in the KV cache before the prompt given to generate() (prefix reuse):
  // they are part of the prompt for finding an opened or closed thinking block.
  void set_cached_prefix(std::vector<int32_t> prefix) { prefix_ = std::move(prefix); }

  void on_prompt(std::span<const int32_t> prompt) override;
  std::optional<int32_t> forced_token() override;
  void shape_logits(std::span<float> logits) override;
  bool accept_sampled(int32_t token) override;
  void on_token(int32_t token, bool forced) override;
  std::optional<std::string> stop_reason() const override;

  // The record of the generation that just ran (texts decoded, the stop reason taken from r).
  ThinkingRecord finish(const GenerateResult& r) const;

  Phase phase() const { return phase_; }
  int64_t thinking_tokens() const { return int64_t(rec_.thinking_ids.size()); }
  const TokenPlan& plan() const { return plan_; }
  const BudgetConfig& config() const { return cfg_; }
  // The most output tokens this configuration can produce: a safe max_new_tokens.
  int64_t output_bound() const;

 private:
  void start_thinking();
  int64_t slots_left() const;     // thinking tokens that may still be emitted before a forced end
  int64_t budget_slots() const;   // the same, counting only the budget
  int64_t context_slots() const;  // the same, counting only the room left in the context
  int round_min() const;          // tokens a round must have before it may end (vLLM min_tokens)
  bool is_eos(int32_t id) const;
  bool should_suppress() const;
  void suppress();
  bool natural_end(int32_t token, const TokenMatcher* trigger);
  void begin_forced_end(const char* cause);
  void add_thinking(int32_t id, bool sampled);

  BudgetConfig cfg_;
  const Tokenizer& tok_;
  std::shared_ptr<const TokenTraits> traits_;
  TokenPlan plan_;
  TokenMatcher start_matcher_;
  std::vector<TokenMatcher> stop_matchers_;
  std::vector<int32_t> prefix_;

  Phase phase_ = Phase::Idle;
  std::deque<int32_t> queue_;  // forced tokens still to emit: start, ignore string or end text
  ThinkingRecord rec_;
  int64_t prompt_tokens_ = 0, emitted_ = 0, idle_tokens_ = 0;
  int64_t block_ = 0;             // tokens in the thinking block, injected ones included
  int64_t round_sampled_ = 0;     // sampled tokens of the current round
  int64_t readme_remaining_ = 0;  // the README's shrinking budget
  int64_t readme_used_ = 0;
  int suppressions_ = 0;
  int pending_utf8_ = 0;          // bytes missing from the thinking's last character
  int32_t last_visible_ = -1;     // last token with bytes, prompt included (for the "\n" rule)
  bool accept_end_token_ = false; // the sampled token being emitted is part of the end delimiter
  bool step_suppressed_ = false;  // an end was refused at this step (refuse further ones silently)
  bool step_biased_ = false;      // end_bias already added at this step
};

}  // namespace s1::control
