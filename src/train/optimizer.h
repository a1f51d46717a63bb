// AdamW, the learning-rate schedule and gradient clipping of the s1 recipe
// (transformers Trainer defaults as s1's sft.sh sets them: torch AdamW, betas 0.9 / 0.95,
// eps 1e-8, weight decay 1e-4, cosine schedule with warmup, max_grad_norm 1.0).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/train_params.h"

namespace s1::train {

struct AdamWConfig {
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 1e-4;
  // transformers' Trainer puts *.bias parameters in a no-decay group; torch.optim.AdamW
  // on its own (the gradient fixtures) decays every parameter.
  bool decay_biases = false;
};

// torch.optim.AdamW (decoupled weight decay, bias-corrected moments), in f32 with the
// scalar factors in double. Moments live in the parameter layout.
class AdamW {
 public:
  AdamW(const ParamLayout& layout, AdamWConfig cfg);
  void step(float* params, const float* grads, double lr, int threads);

  int64_t steps_taken = 0;
  std::vector<float> m, v;

 private:
  AdamWConfig cfg_;
  struct Range {
    size_t off, n;
    bool decay;
  };
  std::vector<Range> ranges_;
};

// transformers get_cosine_schedule_with_warmup: the rate used by optimizer step `step`
// (0-based): base * step / warmup during warmup, then a half cosine down to 0 at `total`.
double cosine_lr(int64_t step, int64_t total, int64_t warmup, double base);
// ceil(ratio * total), as TrainingArguments.get_warmup_steps.
int64_t warmup_steps(int64_t total, double ratio);

// sqrt(sum g^2) in double.
double grad_norm(const float* g, size_t n, int threads);
// torch.nn.utils.clip_grad_norm_: scales g by max_norm / (norm + 1e-6) when that is < 1.
// Returns the norm before clipping.
double clip_grad_norm(float* g, size_t n, double max_norm, int threads);

}  // namespace s1::train
