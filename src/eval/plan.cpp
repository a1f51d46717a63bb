#include "eval/plan.h"

#include <algorithm>
#include <tuple>

#include "control/methods.h"
#include "core/error.h"

namespace s1::eval {

Method parse_method(std::string_view name) {
  if (name == "budget") return Method::Budget;
  if (name == "token-prompt") return Method::TokenPrompt;
  if (name == "step-prompt") return Method::StepPrompt;
  if (name == "class-long") return Method::ClassLong;
  if (name == "class-short") return Method::ClassShort;
  if (name == "rejection") return Method::Rejection;
  if (name == "none") return Method::None;
  fail("--control '", name, "': expected budget, token-prompt, step-prompt, class-long, class-short, rejection or none");
}

const char* method_name(Method m) {
  switch (m) {
    case Method::Budget: return "budget";
    case Method::TokenPrompt: return "token-prompt";
    case Method::StepPrompt: return "step-prompt";
    case Method::ClassLong: return "class-long";
    case Method::ClassShort: return "class-short";
    case Method::Rejection: return "rejection";
    case Method::None: return "none";
  }
  return "budget";
}

bool method_uses_budget(Method m) {
  return m == Method::Budget || m == Method::TokenPrompt || m == Method::StepPrompt || m == Method::Rejection;
}

std::string RunPoint::label() const {
  std::string s = method_name(method);
  if (budget) {
    s += '@';
    s += std::to_string(*budget);
  }
  return s;
}

std::vector<RunPoint> expand_points(const std::vector<Method>& methods, const std::vector<int64_t>& budgets) {
  std::vector<RunPoint> out;
  auto add = [&](RunPoint p) {
    for (const auto& q : out)
      if (q.method == p.method && q.budget == p.budget) return;
    out.push_back(p);
  };
  for (Method m : methods) {
    if (!method_uses_budget(m)) {
      add({m, std::nullopt});
      continue;
    }
    if (budgets.empty()) fail("--control ", method_name(m), " needs --budgets");
    for (int64_t b : budgets) add({m, b});
  }
  return out;
}

bool SampleKey::operator<(const SampleKey& o) const {
  return std::tie(method, budget, question_id, sample) < std::tie(o.method, o.budget, o.question_id, o.sample);
}
bool SampleKey::operator==(const SampleKey& o) const {
  return std::tie(method, budget, question_id, sample) == std::tie(o.method, o.budget, o.question_id, o.sample);
}
std::string SampleKey::str() const {
  std::string s = method;
  if (budget) {
    s += '@';
    s += std::to_string(*budget);
  }
  s += " question ";
  s += question_id;
  s += " sample ";
  s += std::to_string(sample);
  return s;
}

PointSettings point_settings(const RunPoint& p, int64_t min_thinking, int64_t step_tokens,
                             std::optional<int64_t> class_bound) {
  using control::ControlMethod;
  PointSettings s;
  s.a_min = min_thinking;
  switch (p.method) {
    case Method::Budget:
      s.max_thinking = p.budget;
      s.a_max = p.budget;
      break;
    case Method::Rejection:
      s.max_thinking = p.budget;
      s.rejection = true;
      s.a_max = p.budget;
      break;
    case Method::TokenPrompt:
      // s1's token-conditional control: the number in the prompt, thinking bounded only by
      // the context ("auto"); Control measures whether the model keeps to it.
      s.question_suffix = control::conditional_prompt_suffix(ControlMethod::TokenPrompt, *p.budget);
      s.a_max = p.budget;
      break;
    case Method::StepPrompt:
      s.question_suffix = control::conditional_prompt_suffix(
          ControlMethod::StepPrompt, std::max<int64_t>(1, *p.budget / std::max<int64_t>(1, step_tokens)));
      s.a_max = p.budget;
      break;
    case Method::ClassLong:
      s.question_suffix = control::conditional_prompt_suffix(ControlMethod::ClassLong);
      s.a_max = class_bound;
      break;
    case Method::ClassShort:
      s.question_suffix = control::conditional_prompt_suffix(ControlMethod::ClassShort);
      s.a_max = class_bound;
      break;
    case Method::None:
      s.controlled = false;
      s.a_min = 0;
      break;
  }
  return s;
}

std::vector<int64_t> parse_budget_list(const std::string& s) {
  std::vector<int64_t> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    std::string item = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? s.size() + 1 : comma + 1;
    if (item.empty()) fail("--budgets '", s, "': empty entry");
    int64_t mult = 1;
    if (item.back() == 'k' || item.back() == 'K') {
      mult = 1000;
      item.pop_back();
    }
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(item, &used);
    } catch (...) {
      used = 0;
    }
    if (item.empty() || used != item.size() || v < 0 || v > (1ll << 40))
      fail("--budgets: '", item, "' is not a number of tokens >= 0");
    out.push_back(v * mult);
  }
  return out;
}

}  // namespace s1::eval
