#include "control/methods.h"

#include "core/error.h"

namespace s1::control {

ControlMethod parse_control_method(std::string_view name) {
  if (name == "budget") return ControlMethod::Budget;
  if (name == "token-prompt") return ControlMethod::TokenPrompt;
  if (name == "step-prompt") return ControlMethod::StepPrompt;
  if (name == "class-long") return ControlMethod::ClassLong;
  if (name == "class-short") return ControlMethod::ClassShort;
  if (name == "rejection") return ControlMethod::Rejection;
  fail("unknown --control '", name, "' (known: budget, token-prompt, step-prompt, class-long, class-short, rejection)");
}

const char* control_method_name(ControlMethod m) {
  switch (m) {
    case ControlMethod::Budget: return "budget";
    case ControlMethod::TokenPrompt: return "token-prompt";
    case ControlMethod::StepPrompt: return "step-prompt";
    case ControlMethod::ClassLong: return "class-long";
    case ControlMethod::ClassShort: return "class-short";
    case ControlMethod::Rejection: return "rejection";
  }
  return "?";
}

bool needs_prompt_n(ControlMethod m) { return m == ControlMethod::TokenPrompt || m == ControlMethod::StepPrompt; }

std::string conditional_prompt_suffix(ControlMethod m, int64_t n) {
  switch (m) {
    case ControlMethod::TokenPrompt:
      if (n <= 0) fail("token-conditional control needs a positive token count, got ", n);
      return "\n\nThink for up to " + std::to_string(n) + " tokens.";
    case ControlMethod::StepPrompt:
      if (n <= 0) fail("step-conditional control needs a positive step count, got ", n);
      return "\n\nThink for up to " + std::to_string(n) + " steps.";
    case ControlMethod::ClassLong:
      return "\n\nAnswer after a long amount of thinking. If you feel like you are finished early, spend the extra "
             "time trying to double-check your work until you are absolutely sure that you have the correct answer.";
    case ControlMethod::ClassShort:
      return "\n\nAnswer after a short amount of thinking. Do not spend excessive time double-checking your work.";
    default:
      return "";
  }
}

}  // namespace s1::control
