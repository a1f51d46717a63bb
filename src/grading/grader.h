// Answer checking: what a response commits to, and whether it equals the gold answer.
// Deterministic and in C++ (normalisation, exact rationals, numeric evaluation with a
// tolerance, tuples / intervals / sets); an LLM judge is separate and optional (judge.h).
// Used by the evaluation (verdicts, majority voting on canonical answers) and by the
// curation pipeline (grading short-answer attempts). src/grading/README.md lists the rules.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace s1::grading {

enum class AnswerKind {
  Math,            // free-form (MATH500, AMC): LaTeX expressions, numbers, tuples, intervals, sets
  Integer,         // AIME: an integer 0..999, leading zeros allowed ("042" == 42)
  MultipleChoice,  // GPQA: a letter A-D (A-E accepted)
};

// "math" | "integer" | "choice" (also "aime", "mc", "multiple_choice"); nullopt otherwise.
std::optional<AnswerKind> parse_kind(std::string_view name);
const char* kind_name(AnswerKind kind);  // "math" | "integer" | "choice"

struct Verdict {
  std::optional<std::string> extracted;  // the answer text taken from the response
  bool correct = false;
  // How it was decided: "exact" (same text), "normalised" (same text after normalisation),
  // "rational" (same exact number), "numeric" (within 1e-6 relative), "symbolic" (same
  // values at three points), "structure" (tuple / set / interval / matrix element-wise),
  // "integer", "choice", "mismatch" (compared, different), "none" (nothing extracted).
  std::string method;
};

// The part of a response that holds the answer: the text after the last
// "<|im_start|>answer" (s1); else after the last "<|im_start|>" minus its first line (s1);
// else after the last "</think>" (R1 / QwQ / Qwen3); else the whole response.
std::string_view answer_segment(std::string_view response);

// The answer a response commits to, within answer_segment(): the last \boxed{} / \fbox{}
// (balanced braces; also "\boxed 5"), else the last "Final Answer:" / "Answer:" line, else
// the last "the answer is ..." phrase; for MultipleChoice a letter from those, or a
// segment that is just a letter ("(B)").
std::optional<std::string> extract_answer(std::string_view response, AnswerKind kind);

// Whether two answers are the same mathematical object (answer first, gold second; the
// relation is symmetric except where noted in the README).
bool equivalent(std::string_view answer, std::string_view gold, AnswerKind kind);

struct Comparison {
  bool equal = false;
  std::string method;  // as Verdict::method
};
Comparison compare(std::string_view answer, std::string_view gold, AnswerKind kind);

// A canonical form for majority voting: equivalent answers map to the same string
// where the checker can tell (numbers to reduced rationals, irrational values to 9
// significant digits, sets sorted, normalised LaTeX otherwise). A key, not for display.
std::string canonical(std::string_view answer, AnswerKind kind);

// extract_answer + compare.
Verdict grade(std::string_view response, std::string_view gold, AnswerKind kind);

}  // namespace s1::grading
