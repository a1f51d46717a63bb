// Answer extraction: which part of a response is its answer (s1's rules, with two of
// its bugs fixed; see README.md).
#include <algorithm>
#include <cctype>
#include <vector>

#include "grading/choice.h"
#include "grading/grader.h"

namespace s1::grading {

namespace {

constexpr int kMaxBoxedTries = 32;  // earlier \boxed candidates tried when the last is unbalanced

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool starts_with_ci(std::string_view s, std::string_view p) {
  if (s.size() < p.size()) return false;
  for (size_t i = 0; i < p.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(p[i])))
      return false;
  return true;
}

bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// Strips what surrounds an answer in prose: math delimiters, bold markers, a final period,
// Minerva's "The final answer is ... I hope it is correct."
std::string clean(std::string_view s) {
  s = trim(s);
  for (int round = 0; round < 8; ++round) {
    std::string_view before = s;
    for (std::string_view lead : {"the final answer is", "final answer is", "the answer is", "answer is"})
      if (starts_with_ci(s, lead)) s.remove_prefix(lead.size());
    for (std::string_view tail : {"I hope it is correct.", "I hope it is correct"})
      if (ends_with(s, tail)) s.remove_suffix(tail.size());
    s = trim(s);
    if (!s.empty() && s.front() == ':') s.remove_prefix(1);  // "the answer is: 5"
    s = trim(s);
    while (!s.empty() && (s.back() == '.' || s.back() == ',')) s.remove_suffix(1);
    s = trim(s);
    for (auto [open, close] : {std::pair<std::string_view, std::string_view>{"$$", "$$"},
                               {"$", "$"},
                               {"\\(", "\\)"},
                               {"\\[", "\\]"},
                               {"**", "**"}}) {
      if (s.size() >= open.size() + close.size() && s.substr(0, open.size()) == open && ends_with(s, close))
        s = trim(s.substr(open.size(), s.size() - open.size() - close.size()));
    }
    // a lone leading "$" or "**" left by a sentence ("**Answer:** $5$.")
    for (std::string_view mark : {"**", "$"}) {
      if (s.substr(0, mark.size()) == mark && s.find(mark, mark.size()) == std::string_view::npos)
        s.remove_prefix(mark.size());
      if (ends_with(s, mark) && s.find(mark) == s.size() - mark.size()) s.remove_suffix(mark.size());
    }
    s = trim(s);
    if (s == before) break;
  }
  return std::string(s);
}

// The braced argument starting at `open` (s[open] == '{'); nullopt when unbalanced.
std::optional<std::string_view> braced(std::string_view s, size_t open) {
  int depth = 0;
  for (size_t i = open; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '{' || s[i + 1] == '}')) {
      ++i;  // \{ and \} are characters, not groups
      continue;
    }
    if (s[i] == '{') ++depth;
    if (s[i] == '}' && --depth == 0) return s.substr(open + 1, i - open - 1);
  }
  return std::nullopt;
}

// The content of the \boxed (or \fbox) at `at`, whose name has `name_len` characters.
std::optional<std::string> boxed_at(std::string_view s, size_t at, size_t name_len) {
  size_t i = at + name_len;
  if (i < s.size() && is_letter(s[i])) return std::nullopt;  // \boxedx: another command
  size_t j = i;
  while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
  if (j < s.size() && s[j] == '{') {
    auto inner = braced(s, j);
    if (!inner) return std::nullopt;
    return clean(*inner);
  }
  if (j > i) {  // "\boxed 5$": s1 takes the text up to the next '$'
    size_t end = s.find_first_of("$\n", j);
    std::string content = clean(s.substr(j, end == std::string_view::npos ? std::string_view::npos : end - j));
    if (!content.empty()) return content;
  }
  return std::nullopt;
}

std::optional<std::string> last_boxed(std::string_view s) {
  // candidates from the last backwards: \boxed and \fbox both count, the later one wins
  std::vector<std::pair<size_t, size_t>> found;  // (position, name length)
  size_t end = s.size();
  int tries = 0;
  while (tries < kMaxBoxedTries) {
    size_t b = s.rfind("\\boxed", end == 0 ? 0 : end - 1);
    size_t f = s.rfind("\\fbox", end == 0 ? 0 : end - 1);
    if (end == 0) break;
    size_t at;
    size_t len;
    if (b != std::string_view::npos && (f == std::string_view::npos || b > f)) {
      at = b;
      len = 6;
    } else if (f != std::string_view::npos) {
      at = f;
      len = 5;
    } else {
      break;
    }
    if (auto content = boxed_at(s, at, len)) return content;
    ++tries;
    end = at;
  }
  return std::nullopt;
}

// The text after the last "answer:" (any case; "**Final Answer:**", "Answer :" too): the
// rest of its line, or the next non-empty line when the marker ends its line.
std::optional<std::string> after_answer_marker(std::string_view s) {
  size_t best = std::string_view::npos;
  for (size_t at = s.size(); at > 0;) {
    size_t p = at - 1;
    // search backwards for "answer" case-insensitively
    size_t found = std::string_view::npos;
    for (size_t i = p + 1; i-- > 0;) {
      if (i + 6 <= s.size() && starts_with_ci(s.substr(i), "answer")) {
        found = i;
        break;
      }
    }
    if (found == std::string_view::npos) break;
    size_t j = found + 6;
    while (j < s.size() && (s[j] == ' ' || s[j] == '*' || s[j] == '\t')) ++j;
    if (j < s.size() && s[j] == ':') {
      best = j + 1;
      break;
    }
    at = found;
  }
  if (best == std::string_view::npos) return std::nullopt;
  std::string_view rest = s.substr(best);
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string line = clean(rest.substr(0, nl));
    while (line.rfind("**", 0) == 0) line = clean(std::string_view(line).substr(2));
    if (!line.empty()) return line;
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return std::nullopt;
}

// The text after the last "answer is" up to the end of its sentence.
std::optional<std::string> after_answer_is(std::string_view s) {
  size_t found = std::string_view::npos;
  for (size_t i = s.size(); i-- > 0;) {
    if (starts_with_ci(s.substr(i), "answer is")) {
      found = i;
      break;
    }
  }
  if (found == std::string_view::npos) return std::nullopt;
  std::string_view rest = s.substr(found + 9);
  size_t nl = rest.find('\n');
  rest = rest.substr(0, nl);
  // end of sentence: ". " or a final '.', but not a decimal point
  for (size_t i = 0; i + 1 < rest.size(); ++i)
    if (rest[i] == '.' && is_space(rest[i + 1])) {
      rest = rest.substr(0, i);
      break;
    }
  std::string a = clean(rest);
  if (a.empty()) return std::nullopt;
  return a;
}

bool is_choice_letter(char c) { return c >= 'A' && c <= 'E'; }

std::optional<std::string> extract_choice(std::string_view seg) {
  auto as_letter = [](const std::optional<std::string>& a) -> std::optional<std::string> {
    if (!a) return std::nullopt;
    if (auto c = choice_letter(*a)) return std::string(1, *c);
    return std::nullopt;
  };
  if (auto b = as_letter(last_boxed(seg))) return b;
  if (auto a = as_letter(after_answer_marker(seg))) return a;
  if (auto a = as_letter(after_answer_is(seg))) return a;
  std::string_view t = trim(seg);
  if (t.size() <= 40)
    if (auto c = choice_letter(t)) return std::string(1, *c);
  return std::nullopt;
}

}  // namespace

// A choice letter at the start of a short text: "B", "(B)", "B)", "B.", "\text{B}",
// "**B**", "B: 42", "option B"; lowercase only when alone or in parentheses.
std::optional<char> choice_letter(std::string_view text) {
  std::string_view s = trim(text);
  for (int round = 0; round < 6; ++round) {
    std::string_view before = s;
    for (std::string_view p : {"\\text{", "\\textbf{", "\\mathrm{", "\\mathbf{", "**", "$", "\\(", "option ",
                               "Option ", "choice ", "Choice ", "{"})
      if (s.substr(0, p.size()) == p) s = trim(s.substr(p.size()));
    if (s == before) break;
  }
  if (s.empty()) return std::nullopt;
  bool paren = false;
  if (s[0] == '(' || s[0] == '[') {
    paren = true;
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  char c = s[0];
  std::string_view after = s.substr(1);
  char up = char(std::toupper(static_cast<unsigned char>(c)));
  if (!is_choice_letter(up)) return std::nullopt;
  if (!after.empty() && (is_letter(after[0]) || std::isdigit(static_cast<unsigned char>(after[0]))))
    return std::nullopt;  // a word ("Because"), not a letter
  if (c != up) {  // lowercase: alone, or "(b)"
    std::string_view rest = trim(after);
    bool alone = rest.empty() || rest == "." || rest == ")" || rest == "}" || rest == "$";
    if (!alone && !(paren && !after.empty() && after[0] == ')')) return std::nullopt;
  }
  return up;
}

std::string_view answer_segment(std::string_view r) {
  constexpr std::string_view kAnswer = "<|im_start|>answer", kStart = "<|im_start|>", kThinkEnd = "</think>";
  if (size_t at = r.rfind(kAnswer); at != std::string_view::npos) {
    std::string_view rest = r.substr(at + kAnswer.size());
    if (!rest.empty() && rest[0] == '\n') rest.remove_prefix(1);
    return rest;
  }
  if (size_t at = r.rfind(kStart); at != std::string_view::npos) {
    std::string_view rest = r.substr(at + kStart.size());
    size_t nl = rest.find('\n');
    return nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  }
  if (size_t at = r.rfind(kThinkEnd); at != std::string_view::npos) return r.substr(at + kThinkEnd.size());
  return r;
}

std::optional<std::string> extract_answer(std::string_view response, AnswerKind kind) {
  std::string_view seg = answer_segment(response);
  if (kind == AnswerKind::MultipleChoice) return extract_choice(seg);
  if (auto b = last_boxed(seg)) return b;
  if (auto a = after_answer_marker(seg)) return a;
  if (auto a = after_answer_is(seg)) return a;
  return std::nullopt;
}

}  // namespace s1::grading
