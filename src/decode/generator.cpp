#include "decode/generator.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include "core/error.h"

namespace s1 {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

GenerateResult generate(Model& model, KVCache& kv, std::span<const int32_t> prompt, const GenerateParams& params,
                        Controller* ctl, const std::function<void(int32_t)>& on_token) {
  if (prompt.empty()) fail("the prompt is empty: at least one token is needed to start generation");
  if (params.max_new_tokens < 0) fail("max new tokens must be >= 0");
  const int64_t V = model.config().vocab_size;
  const int64_t valid = params.valid_vocab > 0 ? std::min(params.valid_vocab, V) : V;
  Sampler sampler(params.sampling, valid);
  std::vector<float> logits(size_t(V), 0.0f);
  GenerateResult r;

  if (ctl) ctl->on_prompt(prompt);
  auto t0 = std::chrono::steady_clock::now();
  if (kv.pos() + int64_t(prompt.size()) > kv.max_ctx())
    fail("the prompt (", prompt.size(), " tokens) does not fit the context (", kv.max_ctx() - kv.pos(), " free)");
  model.forward(kv, prompt, logits.data());
  r.prefill_tokens = int64_t(prompt.size());
  r.prefill_seconds = seconds_since(t0);

  auto t1 = std::chrono::steady_clock::now();
  auto is_stop = [&](int32_t id) { return std::find(params.stop_ids.begin(), params.stop_ids.end(), id) != params.stop_ids.end(); };
  while (true) {
    if (int64_t(r.output_ids.size()) >= params.max_new_tokens) {
      r.stop_reason = "length";
      break;
    }
    if (ctl) {
      if (auto why = ctl->stop_reason()) {
        r.stop_reason = *why;
        break;
      }
    }
    std::optional<int32_t> forced = ctl ? ctl->forced_token() : std::nullopt;
    int32_t id;
    if (forced) {
      id = *forced;
      if (id < 0 || id >= V) fail("controller forced token id ", id, ", outside the vocabulary");
    } else {
      if (ctl) ctl->shape_logits(logits);
      id = sampler.sample(logits);
      if (ctl && ((is_stop(id) && !ctl->allow_stop(id)) || !ctl->accept_sampled(id))) {
        // The controller refused the token: that id is masked for this step, and the
        // controller either forces what comes next or the sampler picks another token.
        logits[size_t(id)] = -std::numeric_limits<float>::infinity();
        continue;
      }
    }
    r.output_ids.push_back(id);
    if (ctl) ctl->on_token(id, forced.has_value());
    if (on_token) on_token(id);
    if (!forced && is_stop(id)) {
      r.stop_reason = "eos";
      break;
    }
    if (ctl) {
      if (auto why = ctl->stop_reason()) {
        r.stop_reason = *why;
        break;
      }
    }
    // The last token is not fed back: the cache holds prompt + output[:-1], and a
    // caller that continues feeds the last token first.
    if (int64_t(r.output_ids.size()) >= params.max_new_tokens) {
      r.stop_reason = "length";
      break;
    }
    if (kv.pos() >= kv.max_ctx()) {
      r.stop_reason = "context";
      break;
    }
    model.forward(kv, std::span<const int32_t>(&id, 1), logits.data());
    ++r.decode_tokens;
  }
  r.decode_seconds = seconds_since(t1);
  return r;
}

}  // namespace s1
