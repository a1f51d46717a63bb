// What budget forcing is asked to do: delimiters, the thinking limits, the ignored ends
// and their string, which of s1's two budget accountings to follow, the answer limit.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/delimiters.h"

namespace s1::control {

// s1 counts the thinking budget in two ways; both are replicated inside one continuous
// decode (see README.md, "The two accountings").
enum class BudgetMode {
  // The evaluation harness (vllm_causallms.py), behind the paper's numbers: every Wait
  // round may use the whole budget and the thinking is cut to the budget afterwards, so
  // the budget bounds the whole thinking block, injected "Wait" tokens included.
  Harness,
  // The README loop: the remaining budget shrinks by each round's sampled tokens (its
  // stop token included); injected "Wait" tokens are not counted; a round is only
  // continued while the remaining budget is > 0.
  Readme,
};
BudgetMode parse_budget_mode(std::string_view name);  // "harness" | "readme"
const char* budget_mode_name(BudgetMode m);

struct BudgetConfig {
  Delimiters delimiters = family_delimiters(Family::S1);
  bool force_start = true;  // force think_start when the prompt has not opened the block

  // Thinking tokens allowed; nullopt: answer_limit, as the harness bounds thinking by
  // max_gen_toks when max_tokens_thinking is not given.
  std::optional<int64_t> max_thinking;
  int64_t min_thinking = 0;     // an earlier end is suppressed (and ignore_str appended)
  int num_ignore = 0;           // ends suppressed regardless of length (s1's thinking_n_ignore)
  std::string ignore_str = "Wait";  // appended at each suppressed end; "" = only mask the end
  BudgetMode mode = BudgetMode::Harness;
  int64_t answer_limit = 32768;  // tokens after the end delimiter (s1's max_gen_toks)

  // Filled in by the drivers (control/run.h) from the generation's parameters:
  std::vector<int32_t> eos_ids;  // stop ids; during thinking they are an attempt to end it
  int64_t context_tokens = 0;    // KV cache size (0: unknown); thinking ends early enough
  int64_t context_reserve = 16;  // that the end text and this many answer tokens still fit

  // Rejection sampling: thinking that reaches this many tokens is rejected (the run stops
  // with reason "rejected"); an end before it is accepted. s1 accepts len(ids) <= budget
  // with the stop token counted, i.e. thinking <= budget - 1: reject_at = budget.
  std::optional<int64_t> reject_at;

  // Added to the logits of the end-of-thinking tokens during thinking. For tests and demos
  // of the early-end paths on random-weight models, which rarely end thinking themselves.
  float end_bias = 0;

  int64_t effective_max_thinking() const { return max_thinking.value_or(answer_limit); }
  // Throws s1::Error naming the bad setting (e.g. min > max, negative limits).
  void validate() const;
};

// s1's "auto" budget: max_gen_toks - the longest prompt of the batch - the tokens of
// think_start - the tokens of the forced end text - 100 (vllm_causallms.py). Never
// below 0 (the harness would crash: vLLM rejects max_tokens < 1).
int64_t auto_thinking_budget(int64_t max_gen_toks, int64_t longest_prompt, int64_t start_tokens, int64_t end_tokens);
// The same with the delimiter lengths taken from the tokenizer.
int64_t auto_thinking_budget(int64_t max_gen_toks, int64_t longest_prompt, const Delimiters& d, const Tokenizer& tok);

}  // namespace s1::control
