#include "grading/judge.h"

#include <algorithm>
#include <cctype>

#include "grading/grader.h"

namespace s1::grading {

namespace {

// Worked examples: equal in value despite notation; different values never match; order
// and brackets of tuples and intervals matter; sets and solution lists do not.
constexpr const char* kInstructions =
    "Look at the attempt of a student at a math problem and at the numbered options below. Decide which "
    "option the student's final answer is equal to. Treat differences of notation, simplification, units, "
    "formatting and surrounding words as equal (for example 0.5 and \\frac{1}{2}, 10\\% and 10, x = 3 and 3, "
    "5 \\text{ cm} and 5). Values must agree exactly: different numbers, a different order of a tuple, or "
    "different interval endpoints do not match. The order of the elements of a set or of a list of "
    "solutions does not matter.\n"
    "\n"
    "Examples:\n"
    "\n"
    "    Options: ['3', '5']\n"
    "    Attempt: The answer is $3$.\n"
    "\n"
    "1\n"
    "\n"
    "    Options: ['\\frac{\\sqrt{3}}{2}', '\\frac{1}{2}']\n"
    "    Attempt: 0.5\n"
    "\n"
    "2\n"
    "\n"
    "    Options: ['(1, 2)', '(2, 1)']\n"
    "    Attempt: x = 2 and y = 1, so the point is (2,1)\n"
    "\n"
    "2\n"
    "\n"
    "    Options: ['10', '12']\n"
    "    Attempt: 11\n"
    "\n"
    "-1\n"
    "\n"
    "    Options: ['\\text{Evelyn}', 'Angela']\n"
    "    Attempt: Evelyn\n"
    "\n"
    "1\n"
    "\n"
    "    Options: ['x^2 + 2x + 1']\n"
    "    Attempt: (x+1)^2\n"
    "\n"
    "1\n"
    "\n"
    "    Options: ['[2, 5)', '[2, 5]']\n"
    "    Attempt: 2 \\le x < 5\n"
    "\n"
    "1\n"
    "\n"
    "    Options: ['\\{1, 3\\}', '1']\n"
    "    Attempt: 3, 1\n"
    "\n"
    "1\n"
    "\n"
    "    Options: ['4']\n"
    "    Attempt: I am not sure.\n"
    "\n"
    "-1\n"
    "\n"
    "---\n"
    "\n"
    "Respond with only the index of the matching option starting from 1 or -1 if there is absolutely no "
    "reasonable match. Do not include a rationale.\n"
    "\n";

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<std::string> judge_options(std::string_view gold, const std::vector<std::string>& other_answers) {
  std::vector<std::string> out{std::string(gold)};
  for (const auto& a : other_answers)
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  return out;
}

std::string format_options(const std::vector<std::string>& options) {
  std::string s = "[";
  for (size_t i = 0; i < options.size(); ++i) {
    if (i) s += ", ";
    s += "'" + options[i] + "'";
  }
  return s + "]";
}

std::string judge_prompt(std::string_view attempt, const std::vector<std::string>& options) {
  return std::string(kInstructions) + "    Options: " + format_options(options) + "\n    Attempt: " +
         std::string(attempt);
}

int parse_judge_reply(std::string_view reply, size_t option_count) {
  std::string_view r = trim(reply);
  if (r.empty() || r.size() > 6) return -1;
  if (!std::all_of(r.begin(), r.end(), [](char c) { return c >= '0' && c <= '9'; })) return -1;
  int v = std::stoi(std::string(r));
  return (v >= 1 && size_t(v) <= option_count) ? v : -1;
}

std::string judge_attempt(std::string_view response, const std::optional<std::string>& extracted) {
  if (extracted) return *extracted;
  std::string_view seg = answer_segment(response);
  if (seg.size() > 4000) seg = seg.substr(seg.size() - 4000);
  return std::string(trim(seg));
}

JudgeResult judge(llm::Client& client, std::string_view attempt, const std::vector<std::string>& options,
                  const JudgeOptions& opts) {
  llm::Request req;
  req.messages = {{"user", judge_prompt(attempt, options)}};  // s1: no system message
  req.temperature = opts.temperature;
  req.max_tokens = opts.max_tokens;
  if (opts.temperature == 0) req.seed = 0;
  llm::Response resp = client.complete(req);
  JudgeResult r;
  r.reply = resp.text;
  r.index = parse_judge_reply(resp.text, options.size());
  r.correct = r.index == 1;
  r.mapped = r.index >= 1 ? options[size_t(r.index - 1)] : std::string(attempt);
  return r;
}

}  // namespace s1::grading
