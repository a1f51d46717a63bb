// The decoding loop, in steps: prefill the prompt, then per token pick it (forced by the
// controller or sampled from the logits of the previous feed) and feed it back through the
// KV cache. generate() (generator.h) runs the steps back to back for one sequence; the
// server (src/serve) runs one DecodeSession per active request and advances them together.
//
// A step is split in two: next_token() picks and emits the next token; feed() runs it
// through the model to get the logits of the following step. Keeping feed() separate lets
// feed_batch() run one batched forward pass (Model::forward_batch) over many sessions.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "decode/controller.h"
#include "decode/generator.h"
#include "decode/sampler.h"
#include "model/model.h"

namespace s1 {

class DecodeSession {
 public:
  // Nothing runs yet. The cache may already hold a prefix; the prompt is appended to it.
  // model, kv and controller must outlive the session.
  DecodeSession(Model& model, KVCache& kv, std::vector<int32_t> prompt, const GenerateParams& params,
                Controller* controller = nullptr);

  // Runs the prompt through the model. Throws s1::Error (empty prompt, context overflow).
  void prefill();
  // Emits the next token, or returns nothing when generation has ended (result().stop_reason
  // says why). After a token, call feed() unless done().
  std::optional<int32_t> next_token();
  // Runs the last emitted token through the model.
  void feed();
  // feed() for several sessions of the same model at once: one batched forward pass
  // (Model::forward_batch) reads every weight once for all of them. Each session must
  // need a feed and have its own cache. Results equal feeding them one by one.
  static void feed_batch(std::span<DecodeSession* const> sessions);

  bool done() const { return done_; }
  bool last_forced() const { return last_forced_; }
  const GenerateResult& result() const { return r_; }
  // The token feed() will run, when one is pending.
  bool needs_feed() const { return pending_feed_; }

 private:
  void finish(std::string reason);
  bool is_stop(int32_t id) const;

  Model& model_;
  KVCache& kv_;
  std::vector<int32_t> prompt_;
  GenerateParams params_;
  Controller* ctl_;
  Sampler sampler_;
  std::vector<float> logits_;
  GenerateResult r_;
  bool prefilled_ = false, done_ = false, last_forced_ = false, pending_feed_ = false;
};

}  // namespace s1
