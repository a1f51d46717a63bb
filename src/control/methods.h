// The paper's test-time control methods other than budget forcing itself (s1 §5.2,
// eval/commands.sh): conditional-length prompts and rejection sampling; parallel sampling
// with majority voting lives in control/run.h.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace s1::control {

enum class ControlMethod {
  Budget,       // budget forcing only
  TokenPrompt,  // token-conditional: "\n\nThink for up to N tokens."
  StepPrompt,   // step-conditional: "\n\nThink for up to N steps."
  ClassLong,    // class-conditional, long
  ClassShort,   // class-conditional, short
  Rejection,    // rejection sampling on thinking length
};
ControlMethod parse_control_method(std::string_view name);  // budget|token-prompt|step-prompt|class-long|class-short|rejection
const char* control_method_name(ControlMethod m);
bool needs_prompt_n(ControlMethod m);  // token-prompt and step-prompt put a number in the prompt

// The exact suffix s1's task utils append to the question (PROMPTTOKEN / PROMPTSTEP /
// PROMPTLONG / PROMPTSHORT); "" for budget and rejection.
std::string conditional_prompt_suffix(ControlMethod m, int64_t n = 0);
inline std::string conditional_question(ControlMethod m, const std::string& question, int64_t n = 0) {
  return question + conditional_prompt_suffix(m, n);
}

}  // namespace s1::control
