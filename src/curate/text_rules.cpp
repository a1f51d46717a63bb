#include "curate/text_rules.h"

#include <array>

namespace s1::curate {
namespace {
bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool contains(std::string_view s, std::string_view t) { return s.find(t) != std::string_view::npos; }
}  // namespace

std::string normalize_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (unsigned char c : s) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : char(c));
  }
  return out;
}

std::vector<uint64_t> word_ngram_hashes(std::string_view text, int n) {
  std::string norm = normalize_text(text);
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < norm.size()) {
    size_t j = norm.find(' ', i);
    if (j == std::string::npos) j = norm.size();
    words.emplace_back(norm.data() + i, j - i);
    i = j + 1;
  }
  std::vector<uint64_t> out;
  if (int(words.size()) < n) return out;
  out.reserve(words.size() - n + 1);
  for (size_t k = 0; k + n <= words.size(); ++k) {
    uint64_t h = 1469598103934665603ull;
    for (int w = 0; w < n; ++w) {
      if (w) h = (h ^ ' ') * 1099511628211ull;
      for (unsigned char c : words[k + w]) h = (h ^ c) * 1099511628211ull;
    }
    out.push_back(h);
  }
  return out;
}

bool has_numbered_figure(std::string_view q) {
  for (size_t k = 0; k < q.size(); ++k) {
    if (q[k] != 'p') continue;
    size_t j = k + 1;
    while (j < q.size() && is_digit(q[j])) ++j;
    size_t nd = j - k - 1;
    if (nd >= 1 && nd <= 3 && q[k + 1] != '0' && j < q.size() && q[j] == '.') return true;
  }
  return false;
}

bool has_bolded_number(std::string_view q) {
  // \*\*(?=.*\d)[^\s\]]*\*\* : "**", a digit later on the same line, then a run of
  // characters that are neither whitespace nor ']' containing the closing "**".
  for (size_t i = 0; i + 1 < q.size(); ++i) {
    if (q[i] != '*' || q[i + 1] != '*') continue;
    size_t start = i + 2;
    bool digit = false;
    for (size_t k = start; k < q.size() && q[k] != '\n'; ++k)
      if (is_digit(q[k])) {
        digit = true;
        break;
      }
    if (!digit) continue;
    size_t e = start;
    while (e < q.size() && !is_space(q[e]) && q[e] != ']') ++e;
    for (size_t k = start; k + 1 < e; ++k)
      if (q[k] == '*' && q[k + 1] == '*') return true;
  }
  return false;
}

std::string quality_reason(std::string_view q, std::string_view source_type) {
  bool asy = contains(q, "[asy]");
  if (asy && contains(source_type, "AIME")) return "";
  if (asy) return "asy_figure";
  if (contains(q, "![Image]")) return "image_reference";
  if (has_numbered_figure(q)) return "numbered_figure";
  if (has_bolded_number(q)) return "bolded_number";
  return "";
}

std::optional<std::string> api_error_marker(std::string_view text) {
  static const std::array<std::string_view, 9> kMarkers = {
      "RESOURCE_EXHAUSTED", "Internal Server Error", "Rate limit exceeded", "rate_limit_exceeded",
      "429 Too Many Requests", "503 Service Unavailable", "\"error\": {", "Error code: ", "overloaded_error"};
  // Only the start of a response: a trace that merely discusses errors is not one.
  std::string_view head = text.substr(0, 300);
  for (auto m : kMarkers)
    if (contains(head, m)) return std::string(m);
  return std::nullopt;
}

}  // namespace s1::curate
