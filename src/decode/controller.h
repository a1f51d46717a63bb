// The hook through which a controller steers generation. The loop asks it, before each
// step, whether a token is forced (then that token is emitted without sampling) and
// lets it reshape the logits (forbid tokens) otherwise; it is told every token emitted.
// Budget forcing (control/) is one such controller: forced tokens ("Wait", the end
// delimiter) go through the same KV cache as sampled ones, so nothing is re-prefilled.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace s1 {

class Controller {
 public:
  virtual ~Controller() = default;
  virtual void on_prompt(std::span<const int32_t> prompt) {}
  // A token to emit next without sampling, or nothing.
  virtual std::optional<int32_t> forced_token() { return std::nullopt; }
  // Edit the logits before sampling (set -inf to forbid a token).
  virtual void shape_logits(std::span<float> logits) {}
  // Whether a sampled stop token (eos) may end generation now; a controller that must
  // keep the model thinking returns false and usually forces something instead.
  virtual bool allow_stop(int32_t token) { return true; }
  virtual void on_token(int32_t token, bool forced) {}
  // A controller can end generation (e.g. its own answer-phase limit).
  virtual std::optional<std::string> stop_reason() const { return std::nullopt; }
};

}  // namespace s1
