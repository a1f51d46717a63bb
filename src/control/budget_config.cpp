#include "control/budget_config.h"

#include <algorithm>

#include "core/error.h"

namespace s1::control {

BudgetMode parse_budget_mode(std::string_view name) {
  if (name == "harness") return BudgetMode::Harness;
  if (name == "readme") return BudgetMode::Readme;
  fail("unknown budget mode '", name, "' (known: harness, readme)");
}

const char* budget_mode_name(BudgetMode m) { return m == BudgetMode::Harness ? "harness" : "readme"; }

void BudgetConfig::validate() const {
  if (max_thinking && *max_thinking < 0) fail("--max-thinking must be >= 0 (or auto), got ", *max_thinking);
  if (min_thinking < 0) fail("--min-thinking must be >= 0, got ", min_thinking);
  if (num_ignore < 0) fail("--num-ignore must be >= 0, got ", num_ignore);
  if (answer_limit < 0) fail("the answer limit must be >= 0, got ", answer_limit);
  if (min_thinking > effective_max_thinking())
    fail("--min-thinking (", min_thinking, ") is larger than the thinking budget (", effective_max_thinking(),
         max_thinking ? ")" : ", the answer limit -n, used when --max-thinking is not given)");
  if (delimiters.think_end.empty() && delimiters.stops.empty())
    fail("no end-of-thinking delimiter: give --think-end (or --family s1|r1)");
  if (force_start && delimiters.think_start.empty()) fail("no thinking start delimiter: give --think-start (or --family s1|r1)");
  if (reject_at && *reject_at < 1) fail("rejection sampling needs a thinking budget >= 1, got ", *reject_at);
  if (context_reserve < 0) fail("context reserve must be >= 0");
}

int64_t auto_thinking_budget(int64_t max_gen_toks, int64_t longest_prompt, int64_t start_tokens, int64_t end_tokens) {
  return std::max<int64_t>(0, max_gen_toks - longest_prompt - start_tokens - end_tokens - 100);
}

int64_t auto_thinking_budget(int64_t max_gen_toks, int64_t longest_prompt, const Delimiters& d, const Tokenizer& tok) {
  return auto_thinking_budget(max_gen_toks, longest_prompt, int64_t(tok.encode(d.think_start).size()),
                              int64_t(tok.encode(d.end_text).size()));
}

}  // namespace s1::control
