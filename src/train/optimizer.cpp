#include "train/optimizer.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace s1::train {

AdamW::AdamW(const ParamLayout& layout, AdamWConfig cfg)
    : m(layout.total(), 0.0f), v(layout.total(), 0.0f), cfg_(cfg) {
  for (const auto& t : layout.tensors()) ranges_.push_back({t.offset, t.size, cfg.decay_biases || !t.is_bias});
}

void AdamW::step(float* p, const float* g, double lr, int threads) {
  ++steps_taken;
  const double bc1 = 1.0 - std::pow(cfg_.beta1, double(steps_taken));
  const double bc2 = 1.0 - std::pow(cfg_.beta2, double(steps_taken));
  const float b1 = float(cfg_.beta1), b2 = float(cfg_.beta2);
  const float step_size = float(lr / bc1), inv_sqrt_bc2 = float(1.0 / std::sqrt(bc2)), eps = float(cfg_.eps);
  for (const auto& r : ranges_) {
    const float keep = r.decay ? float(1.0 - lr * cfg_.weight_decay) : 1.0f;
    float* pp = p + r.off;
    const float* gg = g + r.off;
    float* mm = m.data() + r.off;
    float* vv = v.data() + r.off;
    const int64_t n = int64_t(r.n);
#pragma omp parallel for num_threads(threads) schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) {
      pp[i] *= keep;
      mm[i] = b1 * mm[i] + (1.0f - b1) * gg[i];
      vv[i] = b2 * vv[i] + (1.0f - b2) * gg[i] * gg[i];
      pp[i] -= step_size * mm[i] / (std::sqrt(vv[i]) * inv_sqrt_bc2 + eps);
    }
  }
}

double cosine_lr(int64_t step, int64_t total, int64_t warmup, double base) {
  if (step < warmup) return base * double(step) / double(std::max<int64_t>(1, warmup));
  const double progress = double(step - warmup) / double(std::max<int64_t>(1, total - warmup));
  return base * std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * 0.5 * 2.0 * progress)));
}

int64_t warmup_steps(int64_t total, double ratio) { return int64_t(std::ceil(ratio * double(total))); }

double grad_norm(const float* g, size_t n, int threads) {
  // Fixed blocks, partial sums added in block order: the same norm whatever the thread count.
  const int64_t N = int64_t(n), block = 1 << 16, nb = (N + block - 1) / block;
  std::vector<double> part(static_cast<size_t>(nb), 0.0);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t b = 0; b < nb; ++b) {
    double ss = 0;
    for (int64_t i = b * block; i < std::min(N, (b + 1) * block); ++i) ss += double(g[i]) * g[i];
    part[size_t(b)] = ss;
  }
  double ss = 0;
  for (double p : part) ss += p;
  return std::sqrt(ss);
}

double clip_grad_norm(float* g, size_t n, double max_norm, int threads) {
  const double norm = grad_norm(g, n, threads);
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) {
    const float c = float(coef);
    const int64_t N = int64_t(n);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < N; ++i) g[i] *= c;
  }
  return norm;
}

}  // namespace s1::train
