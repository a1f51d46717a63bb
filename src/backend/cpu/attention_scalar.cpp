// The reference attention: every SIMD attention path is tested against it, and it
// serves head sizes the SIMD kernels do not take.
#include <algorithm>
#include <cmath>

#include "backend/cpu/simd_kernels.h"
#include "core/dtype.h"

namespace s1::cpu {

// The reference attention (also the path for head sizes the SIMD kernel does not take).
void attention_group_scalar(const float* q, int group, const float* k, const float* v, int64_t kv_stride,
                            bool key_blocks, int64_t len, int head_dim, float scale, float* score, float* out) {
  for (int h = 0; h < group; ++h) {
    const float* qv = q + int64_t(h) * head_dim;
    float mx = -INFINITY;
    for (int64_t j = 0; j < len; ++j) {
      const float* kv = key_blocks ? k + key_block_index(j, head_dim) : k + j * kv_stride;
      const int64_t step = key_blocks ? 16 : 1;  // between dimensions
      float d = 0;
      for (int i = 0; i < head_dim; ++i) d += qv[i] * kv[i * step];
      score[j] = d * scale;
      mx = std::max(mx, score[j]);
    }
    float sum = 0;
    for (int64_t j = 0; j < len; ++j) sum += (score[j] = std::exp(score[j] - mx));
    const float inv = 1.0f / sum;
    float* o = out + int64_t(h) * head_dim;
    std::fill(o, o + head_dim, 0.0f);
    for (int64_t j = 0; j < len; ++j) {
      const float* vv = v + j * kv_stride;
      const float pj = score[j] * inv;
      for (int i = 0; i < head_dim; ++i) o[i] += pj * vv[i];
    }
  }
}

void attention_group_bf16_scalar(const float* q, int group, const uint16_t* k, const uint16_t* v, int64_t len,
                                 int head_dim, float scale, float* score, float* out) {
  auto round = [](float x) { return bf16_to_f32(f32_to_bf16(x)); };
  for (int h = 0; h < group; ++h) {
    const float* qv = q + int64_t(h) * head_dim;
    float mx = -INFINITY;
    for (int64_t j = 0; j < len; ++j) {
      float d = 0;
      for (int i = 0; i < head_dim; ++i) d += round(qv[i]) * bf16_to_f32(k[key_index_bf16(j, i, head_dim)]);
      score[j] = d * scale;
      mx = std::max(mx, score[j]);
    }
    float sum = 0;
    for (int64_t j = 0; j < len; ++j) sum += (score[j] = std::exp(score[j] - mx));
    float* o = out + int64_t(h) * head_dim;
    std::fill(o, o + head_dim, 0.0f);
    for (int64_t j = 0; j < len; ++j) {
      const float pj = round(score[j]);
      for (int i = 0; i < head_dim; ++i) o[i] += pj * bf16_to_f32(v[value_index_bf16(j, i, head_dim)]);
    }
    for (int i = 0; i < head_dim; ++i) o[i] /= sum;
  }
}

}  // namespace s1::cpu
