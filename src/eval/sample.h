// One sample of an evaluation as it is journaled in samples.jsonl: its key, the prompt,
// the whole output split into thinking / end / answer, where each Wait went and whether a
// budget cut the thinking, the extracted answer and its verdict, token counts, or the
// error that stopped it.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eval/plan.h"

namespace s1 {
class Tokenizer;
}

namespace s1::eval {

struct WaitEvent {
  int64_t token_position = 0;  // thinking tokens before the ignore string
  int64_t char_offset = 0;     // byte offset of the ignore string in thinking_text
  std::string text;            // the ignore string ("" when the end was only masked)
};

struct SampleRecord {
  SampleKey key;
  uint64_t seed = 0;
  std::string prompt;  // the prompt text after the chat template
  // The whole response as s1's harness returns it: start + thinking + end + answer.
  std::string output;
  std::string start_text, thinking_text, end_text, answer_text;
  bool controlled = true;
  bool forced_end = false;        // a limit (budget / context) ended the thinking
  std::string end_cause = "none"; // "model", "budget", "context", "none"
  std::vector<WaitEvent> waits;
  std::string stop_reason;
  // Thinking / answer tokens counted as s1's eval/compute_sample_stats.py counts them (the
  // x-axis of the paper's plots): the tokenized text between the first line and the last
  // line before the end delimiter; the answer after the delimiter's line.
  int64_t thinking_tokens = 0, answer_tokens = 0;
  // The generator's own counts (ids it produced as thinking / answer; endpoint: the
  // server's completion tokens).
  int64_t engine_thinking_tokens = 0, engine_answer_tokens = 0, generated_tokens = 0;
  double seconds = 0;
  std::string gold;
  std::optional<std::string> extracted;
  std::string canonical;  // grading::canonical of the extracted answer ("" when none)
  bool correct = false;
  std::string grade_method;
  std::optional<std::string> error;  // set: the sample failed; the fields above are partial
  // The optional LLM judge (--judge), reported apart from `correct`: its verdict and the
  // option it mapped the answer to, or why its request failed (the sample stays finished).
  std::optional<bool> judge_correct;
  std::optional<std::string> judge_answer, judge_error;
  nlohmann::json extra = nlohmann::json::object();  // rejection attempts, endpoint requests

  bool ok() const { return !error.has_value(); }
};

nlohmann::json to_json(const SampleRecord& r);
// Throws s1::Error naming the missing / mistyped field.
SampleRecord sample_from_json(const nlohmann::json& j);

// compute_sample_stats.py's split of a response (§3.5): thinking = the lines of the part
// before `think_end` without its first and last line; answer = after `think_end`, without
// the rest of its line ("" when the response has no `think_end`).
struct StatsSplit {
  std::string thinking, answer;
};
StatsSplit stats_split(std::string_view response, std::string_view think_end);
// Their token counts with `tok` (special tokens recognised, as tok.tokenize does).
void count_stats_tokens(SampleRecord& r, const Tokenizer& tok, std::string_view think_end);

}  // namespace s1::eval
