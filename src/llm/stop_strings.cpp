#include "llm/stop_strings.h"

#include <algorithm>

namespace s1::llm {

bool StopMatcher::push(const std::string& piece) {
  if (hit_) return true;
  // Only the window that can contain a new match is searched: the new text plus the
  // longest stop string's length of what came before.
  size_t longest = 0;
  for (const auto& s : stops_) longest = std::max(longest, s.size());
  size_t from = text_.size() > longest ? text_.size() - longest : 0;
  text_ += piece;
  for (size_t i = 0; i < stops_.size(); ++i) {
    if (stops_[i].empty()) continue;
    size_t at = text_.find(stops_[i], from);
    if (at != std::string::npos && (!hit_ || at < hit_->first)) hit_ = {at, i};
  }
  return hit_.has_value();
}

}  // namespace s1::llm
