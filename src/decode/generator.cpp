#include "decode/generator.h"

#include <vector>

#include "decode/decode_session.h"

namespace s1 {

// The loop itself lives in DecodeSession (split into steps for the server's scheduler);
// generating one sequence is running its steps back to back.
GenerateResult generate(Model& model, KVCache& kv, std::span<const int32_t> prompt, const GenerateParams& params,
                        Controller* ctl, const std::function<void(int32_t)>& on_token) {
  DecodeSession session(model, kv, std::vector<int32_t>(prompt.begin(), prompt.end()), params, ctl);
  session.prefill();
  while (auto id = session.next_token()) {
    if (on_token) on_token(*id);
    if (session.needs_feed()) session.feed();
  }
  return session.result();
}

}  // namespace s1
