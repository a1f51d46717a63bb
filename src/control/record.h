// What happened in one generation under budget forcing, written by the controller's state
// machine as it goes (not reconstructed from text afterwards): the ids of each part, where
// each ignored end was, whether a budget ended thinking, and why generation stopped.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace s1::control {

struct IgnoreEvent {
  int64_t position = 0;         // thinking tokens before the ignore string (where it begins)
  int64_t output_position = 0;  // index in the generation's output ids
  std::string text;             // the ignore string ("" when the end was only masked)
  std::string reason;           // "min" (thinking was shorter than --min-thinking) or "ignore"
};

struct ThinkingRecord {
  // The output ids split into consecutive parts: preamble (before the model opened the
  // block itself), start delimiter, thinking, end delimiter (or forced end text), answer.
  std::vector<int32_t> preamble_ids, start_ids, thinking_ids, end_ids, answer_ids;
  std::string preamble_text, start_text, thinking_text, end_text, answer_text;
  bool opened_in_prompt = false;  // the prompt already opened the block
  bool closed_in_prompt = false;  // the prompt already closed it (e.g. enable_thinking=false)
  bool thinking_started = false;
  bool thinking_ended = false;
  bool forced_end = false;           // a limit ended thinking (the end text was forced)
  std::string end_cause = "none";    // "model", "budget", "context", or "none" (never ended)
  std::vector<IgnoreEvent> ignores;
  int rounds = 0;                    // thinking rounds (1 + ignored ends) once thinking started
  int64_t budget_used = 0;           // by the accounting in use (README: stop tokens in, Waits out)
  int64_t max_thinking = 0;          // the effective thinking budget
  std::string mode;                  // "harness" | "readme"
  std::string stop_reason;           // of the whole generation: "eos", "length", "context", "rejected"
  std::string stop_phase;            // "idle", "start", "thinking", "end", "answer"

  int64_t thinking_tokens() const { return int64_t(thinking_ids.size()); }
  int64_t answer_tokens() const { return int64_t(answer_ids.size()); }
};

nlohmann::json to_json(const IgnoreEvent& e);
// Every field above, ids included.
nlohmann::json to_json(const ThinkingRecord& r);

}  // namespace s1::control
