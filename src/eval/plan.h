// What a sweep runs: methods x budgets x questions x samples, each cell one sample with a
// stable key (method, budget, question id, sample index) under which it is journaled.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eval/dataset.h"

namespace s1::eval {

// --control values. Budget forcing and the paper's baselines (s1 §5.2) plus no control.
enum class Method { Budget, TokenPrompt, StepPrompt, ClassLong, ClassShort, Rejection, None };
Method parse_method(std::string_view name);  // budget|token-prompt|step-prompt|class-long|class-short|rejection|none
const char* method_name(Method m);
// Whether the method is run once per budget (its budget is a cap or a number in the
// prompt); class-long / class-short / none run once, with no budget.
bool method_uses_budget(Method m);

// One point of the sweep: a method at a budget (nullopt: the method takes none).
struct RunPoint {
  Method method = Method::Budget;
  std::optional<int64_t> budget;
  std::string label() const;  // "budget@512", "class-long"
};
// Methods x budgets in the order given; duplicates removed.
std::vector<RunPoint> expand_points(const std::vector<Method>& methods, const std::vector<int64_t>& budgets);

// The sample key of samples.jsonl.
struct SampleKey {
  std::string method;
  std::optional<int64_t> budget;
  std::string question_id;
  int sample = 0;
  bool operator<(const SampleKey& o) const;
  bool operator==(const SampleKey& o) const;
  std::string str() const;  // for messages
};

// How a run point shapes the prompt and the thinking limits.
struct PointSettings {
  std::string question_suffix;         // appended to the question (conditional-length prompts)
  std::optional<int64_t> max_thinking; // a hard cap (budget forcing / rejection); nullopt: "auto"
  bool controlled = true;              // false: plain generation (method none)
  bool rejection = false;
  // The requested bounds [a_min, a_max] of the Control metric (s1 §3.2); nullopt a_max:
  // no bound was requested (Control is undefined).
  int64_t a_min = 0;
  std::optional<int64_t> a_max;
};
// step_tokens: thinking tokens one step of the step-conditional prompt stands for, so a
// budget of B tokens asks for "up to B / step_tokens steps". class_bound: the a_max of the
// class-conditional prompts (the largest budget of the sweep; nullopt if none).
PointSettings point_settings(const RunPoint& p, int64_t min_thinking, int64_t step_tokens,
                             std::optional<int64_t> class_bound);

// "256,512,1k" -> numbers (k = x1000); throws naming the bad entry.
std::vector<int64_t> parse_budget_list(const std::string& s);

}  // namespace s1::eval
