// The decoding loop: prefill the prompt, then sample (or take a forced token), emit,
// and feed it back one token at a time through the KV cache.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "decode/controller.h"
#include "decode/sampler.h"
#include "model/model.h"

namespace s1 {

struct GenerateParams {
  int64_t max_new_tokens = 256;
  SamplingParams sampling;
  std::vector<int32_t> stop_ids;   // end generation when sampled (not emitted into the cache)
  int64_t valid_vocab = 0;         // ids >= this are never sampled; 0: the model's vocab
};

struct GenerateResult {
  std::vector<int32_t> output_ids;  // what followed the prompt (a sampled stop id included)
  std::string stop_reason;          // "eos", "length", "context", or a controller's reason
  int64_t prefill_tokens = 0, decode_tokens = 0;
  double prefill_seconds = 0, decode_seconds = 0;
  double prefill_tokens_per_s() const { return prefill_seconds > 0 ? prefill_tokens / prefill_seconds : 0; }
  double decode_tokens_per_s() const { return decode_seconds > 0 ? decode_tokens / decode_seconds : 0; }
};

// Calls on_token(id) for every emitted token, as soon as it is chosen (for streaming).
// The cache may already hold a prefix; the prompt is appended to it.
GenerateResult generate(Model& model, KVCache& kv, std::span<const int32_t> prompt, const GenerateParams& params,
                        Controller* controller = nullptr, const std::function<void(int32_t)>& on_token = {});

}  // namespace s1
