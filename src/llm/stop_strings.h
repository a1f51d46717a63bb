// Stop strings for the local engine: text is matched as it is decoded, so generation
// ends at the token that completes a stop string, and the text returned is cut before it
// (OpenAI's and vLLM's behaviour: the stop string is not part of the completion).
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace s1::llm {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}
  // Adds decoded text; true once any stop string has appeared in the text so far.
  bool push(const std::string& piece);
  bool stopped() const { return hit_.has_value(); }
  // The text before the first stop string (all text when none matched).
  std::string text() const { return hit_ ? text_.substr(0, hit_->first) : text_; }
  // The stop string that matched ("" when none).
  std::string which() const { return hit_ ? stops_[hit_->second] : ""; }

 private:
  std::vector<std::string> stops_;
  std::string text_;
  std::optional<std::pair<size_t, size_t>> hit_;  // (offset in text, index in stops)
};

}  // namespace s1::llm
