#include "grading/grader.h"

#include <algorithm>
#include <cctype>

#include "grading/choice.h"
#include "grading/normalize.h"
#include "grading/structure.h"

namespace s1::grading {

namespace {

// Longer answers are compared as text only: no answer is this long, and it bounds the
// work an adversarial response can cause.
constexpr size_t kMaxAnswer = 20000;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// "042" -> "42", "-0" -> "0", "+7" -> "7"; nullopt when not an integer.
std::optional<std::string> integer_text(std::string_view raw) {
  std::string n = normalize(raw);
  std::string_view s = trim(n);
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  size_t first = s.find_first_not_of('0');
  if (first == std::string_view::npos) return std::string("0");
  return (neg ? "-" : "") + std::string(s.substr(first));
}

Comparison compare_math(std::string_view answer, std::string_view gold) {
  const std::string na = normalize(answer), ng = normalize(gold);
  if (na.empty() || ng.empty()) return {false, "mismatch"};
  Match m = compare_shapes(parse_shape(na), parse_shape(ng));
  return {m.equal, m.equal ? m.method : "mismatch"};
}

}  // namespace

std::optional<AnswerKind> parse_kind(std::string_view name) {
  if (name == "math") return AnswerKind::Math;
  if (name == "integer" || name == "aime" || name == "int") return AnswerKind::Integer;
  if (name == "choice" || name == "mc" || name == "multiple_choice" || name == "gpqa")
    return AnswerKind::MultipleChoice;
  return std::nullopt;
}

const char* kind_name(AnswerKind kind) {
  switch (kind) {
    case AnswerKind::Math:
      return "math";
    case AnswerKind::Integer:
      return "integer";
    case AnswerKind::MultipleChoice:
      return "choice";
  }
  return "math";
}

Comparison compare(std::string_view answer, std::string_view gold, AnswerKind kind) {
  answer = trim(answer);
  gold = trim(gold);
  if (answer.empty() || gold.empty()) return {false, "mismatch"};
  if (kind == AnswerKind::MultipleChoice) {
    auto a = choice_letter(answer), g = choice_letter(gold);
    return {a && g && *a == *g, a && g && *a == *g ? "choice" : "mismatch"};
  }
  if (answer == gold) return {true, "exact"};
  if (answer.size() > kMaxAnswer || gold.size() > kMaxAnswer) return {false, "mismatch"};
  if (kind == AnswerKind::Integer) {
    auto a = integer_text(answer), g = integer_text(gold);
    if (a && g) return {*a == *g, *a == *g ? "integer" : "mismatch"};
    // not both plain integers ("42.0", "\frac{84}{2}"): the general checker decides
  }
  return compare_math(answer, gold);
}

bool equivalent(std::string_view answer, std::string_view gold, AnswerKind kind) {
  return compare(answer, gold, kind).equal;
}

std::string canonical(std::string_view answer, AnswerKind kind) {
  answer = trim(answer);
  if (kind == AnswerKind::MultipleChoice) {
    if (auto c = choice_letter(answer)) return std::string(1, *c);
    return std::string(answer);
  }
  if (answer.size() > kMaxAnswer) return std::string(answer);
  if (kind == AnswerKind::Integer)
    if (auto i = integer_text(answer)) return *i;
  return canonical_shape(parse_shape(normalize(answer)));
}

Verdict grade(std::string_view response, std::string_view gold, AnswerKind kind) {
  Verdict v;
  v.extracted = extract_answer(response, kind);
  if (!v.extracted) {
    v.method = "none";
    return v;
  }
  Comparison c = compare(*v.extracted, gold, kind);
  v.correct = c.equal;
  v.method = c.method;
  return v;
}

}  // namespace s1::grading
