#include "control/record.h"

namespace s1::control {

nlohmann::json to_json(const IgnoreEvent& e) {
  return {{"position", e.position}, {"output_position", e.output_position}, {"text", e.text}, {"reason", e.reason}};
}

nlohmann::json to_json(const ThinkingRecord& r) {
  nlohmann::json ignores = nlohmann::json::array();
  for (const auto& e : r.ignores) ignores.push_back(to_json(e));
  return {
      {"preamble_text", r.preamble_text},
      {"start_text", r.start_text},
      {"thinking_text", r.thinking_text},
      {"end_text", r.end_text},
      {"answer_text", r.answer_text},
      {"thinking_tokens", r.thinking_tokens()},
      {"answer_tokens", r.answer_tokens()},
      {"thinking_ids", r.thinking_ids},
      {"answer_ids", r.answer_ids},
      {"end_ids", r.end_ids},
      {"opened_in_prompt", r.opened_in_prompt},
      {"closed_in_prompt", r.closed_in_prompt},
      {"thinking_ended", r.thinking_ended},
      {"forced_end", r.forced_end},
      {"end_cause", r.end_cause},
      {"ignores", ignores},
      {"rounds", r.rounds},
      {"budget_used", r.budget_used},
      {"max_thinking", r.max_thinking},
      {"budget_mode", r.mode},
      {"stop_reason", r.stop_reason},
      {"stop_phase", r.stop_phase},
  };
}

}  // namespace s1::control
