// The training pass of the one model definition (transformer.cpp): the same forward,
// through the same Backend kernels and the same config switches (QKV bias, q/k norm,
// rope scaling, tied head), keeping what the backward pass needs; then the backward
// pass (train_kernels.h) into a gradient buffer laid out like the parameters
// (train_params.h). f32 throughout.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "backend/backend.h"
#include "model/train_params.h"

namespace s1 {

// One training sequence: targets[t] is the token position t must predict (ids[t+1]),
// or -100 where no loss is taken (prompt, padding, the last position).
struct TrainSequence {
  std::span<const int32_t> ids;
  std::span<const int32_t> targets;
};

constexpr int32_t kIgnoreIndex = -100;

class TrainGraph {
 public:
  // checkpoint_activations: keep only each layer's input and recompute the layer in the
  // backward pass (about 1/3 more compute, activation memory ~1/20).
  TrainGraph(const ParamLayout& layout, Backend& be, bool checkpoint_activations);

  // Forward and backward of a micro-batch. The sequences are laid end to end (one
  // matmul over all their tokens), each with its own positions and causal attention.
  // grads += d(loss_scale * sum of token cross-entropies)/d(params). Returns that sum
  // (unscaled) over the valid targets.
  double forward_backward(const float* params, float* grads, std::span<const TrainSequence> batch, float loss_scale);

  // Logits of every position of one sequence (checks against Model::forward).
  void forward_logits(const float* params, std::span<const int32_t> ids, float* logits);

  // Bytes of saved activations at the last call (for memory reports).
  size_t activation_bytes() const { return act_bytes_; }

 private:
  struct Acts {
    std::vector<float> xin, h1, qkv, q, k, v, att, xmid, h2, gu, act;
  };
  struct Segment {
    int64_t off, len;
  };
  void layer_forward(size_t l, const float* P, Acts& A, int64_t n, std::vector<float>& xout);
  void layer_backward(size_t l, const float* P, float* G, const Acts& A, int64_t n, std::vector<float>& dx);
  void embed(const float* P, const std::vector<int32_t>& ids, std::vector<float>& x);

  const ParamLayout& lay_;
  const ModelConfig& c_;
  Backend& be_;
  bool ckpt_;
  std::vector<double> inv_freq_;
  std::vector<Segment> segs_;
  std::vector<Acts> acts_;  // per layer (only xin used when checkpointing)
  Acts work_;               // the recomputed layer when checkpointing
  // backward scratch
  std::vector<float> tmp_, dact_, dgu_, dh_, datt_, dq_, dk_, dv_, dqkv_, pre_, dpre_;
  size_t act_bytes_ = 0;
};

}  // namespace s1
