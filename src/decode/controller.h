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
  // Whether any sampled token may be emitted. false: it is masked for this step and the
  // loop asks again (forced_token first, then shape_logits and sampling on the masked
  // logits). Budget forcing turns the model's end of thinking (a delimiter that is no
  // stop id, e.g. s1's <|im_start|>) into "Wait" this way, with the exact distribution
  // that masking the delimiter before sampling would give.
  virtual bool accept_sampled(int32_t token) { return true; }
  virtual void on_token(int32_t token, bool forced) {}
  // A controller can end generation (e.g. its own answer-phase limit). Asked before each
  // step and right after each emitted token (so the token that ends it is not fed back).
  virtual std::optional<std::string> stop_reason() const { return std::nullopt; }
};

}  // namespace s1
