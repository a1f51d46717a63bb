// The optional LLM judge, as s1 used it (tasks/openai_math/utils.py with
// PROCESSOR=gpt-4o-mini): the model is shown a list of options — the gold answer first,
// then the other answers already extracted for the same question — and the attempt, and
// answers with the 1-based index of the option the attempt matches, or -1. The attempt is
// correct when it maps to option 1. s1 skipped the judge when both sides are digit strings
// (compared as integers). Off by default everywhere; callers report it next to, never
// instead of, the deterministic verdict. The prompt text is ours (a few-shot prompt that
// follows s1's description and its final instruction).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llm/client.h"

namespace s1::grading {

// s1's options list: [gold] + the other answers (deduplicated, in first-seen order, gold removed).
std::vector<std::string> judge_options(std::string_view gold, const std::vector<std::string>& other_answers);

// s1's rendering of the options: ['o1', 'o2'] (quotes added, nothing escaped).
std::string format_options(const std::vector<std::string>& options);

// The whole prompt sent as one user message.
std::string judge_prompt(std::string_view attempt, const std::vector<std::string>& options);

// The 1-based index in a reply, or -1 ("-1", out of range, anything but an integer).
int parse_judge_reply(std::string_view reply, size_t option_count);

struct JudgeOptions {
  double temperature = 0.0;  // s1 sampled gpt-4o-mini at 0.5; 0 keeps verdicts reproducible
  int64_t max_tokens = 1024;
};

struct JudgeResult {
  int index = -1;        // 1-based option, -1: no match
  bool correct = false;  // index == 1 (the gold)
  std::string mapped;    // the option it chose, or the attempt unchanged (s1 votes on this)
  std::string reply;     // the judge's raw text
};

// Asks the client; throws llm::ClientError when the request fails after its retries.
JudgeResult judge(llm::Client& client, std::string_view attempt, const std::vector<std::string>& options,
                  const JudgeOptions& opts = {});

// What s1 passes as the attempt: the extracted answer, else the answer segment itself
// (its last 4,000 characters, to bound the prompt).
std::string judge_attempt(std::string_view response, const std::optional<std::string>& extracted);

}  // namespace s1::grading
