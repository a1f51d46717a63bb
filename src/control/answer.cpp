#include "control/answer.h"

#include <cctype>
#include <map>

namespace s1::control {

namespace {

std::string clean(std::string_view s) {
  auto drop = [](char c) { return std::isspace(static_cast<unsigned char>(c)) || c == '$'; };
  while (!s.empty() && drop(s.front())) s.remove_prefix(1);
  while (!s.empty() && (drop(s.back()) || s.back() == '.')) s.remove_suffix(1);
  return std::string(s);
}

std::optional<std::string> last_boxed(std::string_view r) {
  const size_t at = r.rfind("\\boxed{");
  if (at == std::string_view::npos) return std::nullopt;
  size_t i = at + 7, depth = 1;
  const size_t begin = i;
  for (; i < r.size(); ++i) {
    if (r[i] == '{') ++depth;
    if (r[i] == '}' && --depth == 0) return clean(r.substr(begin, i - begin));
  }
  return std::nullopt;  // unbalanced: the response was cut
}

std::optional<std::string> after_last(std::string_view r, std::string_view marker) {
  const size_t at = r.rfind(marker);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = r.substr(at + marker.size());
  // the rest of the line, or the next non-empty line when the marker ends its line
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string line = clean(rest.substr(0, nl));
    if (!line.empty()) return line;
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> SimpleAnswerExtractor::extract(std::string_view r) const {
  if (auto b = last_boxed(r)) return b;
  if (auto f = after_last(r, "Final Answer:")) return f;
  return after_last(r, "Answer:");
}

Vote majority_vote(const std::vector<std::optional<std::string>>& answers) {
  std::map<std::string, std::pair<int, int>> seen;  // answer -> (count, first index)
  Vote v;
  for (int i = 0; i < int(answers.size()); ++i) {
    if (!answers[size_t(i)]) continue;
    ++v.voters;
    auto [it, fresh] = seen.try_emplace(*answers[size_t(i)], 0, i);
    ++it->second.first;
  }
  for (const auto& [ans, cf] : seen)
    if (cf.first > v.count || (cf.first == v.count && cf.second < v.first_index)) {
      v.answer = ans;
      v.count = cf.first;
      v.first_index = cf.second;
    }
  return v;
}

}  // namespace s1::control
