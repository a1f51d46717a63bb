#include "llm/client.h"

namespace s1::llm {

nlohmann::json Request::to_json() const {
  nlohmann::json j;
  if (!messages.empty()) {
    j["messages"] = nlohmann::json::array();
    for (const auto& m : messages) j["messages"].push_back({{"role", m.role}, {"content", m.content}});
  } else {
    j["prompt"] = prompt;
  }
  j["max_tokens"] = max_tokens;
  if (min_tokens > 0) j["min_tokens"] = min_tokens;
  j["temperature"] = temperature;
  j["top_p"] = top_p;
  if (seed) j["seed"] = *seed;
  if (!stop.empty()) j["stop"] = stop;
  return j;
}

}  // namespace s1::llm
