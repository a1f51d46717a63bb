#include "backend/cpu/quant.h"

#include <algorithm>
#include <cmath>

#include "backend/cpu/simd_kernels.h"

namespace s1::cpu {

bool can_quantize_q8_0(const WeightMatrix& w) {
  return w.cols % 32 == 0 && (w.dtype == DType::F32 || w.dtype == DType::BF16 || w.dtype == DType::F16);
}

void quantize_row_q8_0(const float* x, int64_t cols, BlockQ8_0* dst) {
  for (int64_t b = 0; b < cols / 32; ++b) {
    float amax = 0;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[b * 32 + i]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    dst[b].d = f32_to_f16(d);
    for (int i = 0; i < 32; ++i) dst[b].q[i] = static_cast<int8_t>(std::lround(x[b * 32 + i] * id));
  }
}

void quantize_row_i16(const float* x, int64_t cols, BlockI16* dst) {
  for (int64_t b = 0; b < cols / 32; ++b) {
    float amax = 0;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[b * 32 + i]));
    const float d = amax / 32767.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    dst[b].d = d;
    for (int i = 0; i < 32; ++i) dst[b].q[i] = static_cast<int16_t>(std::lround(x[b * 32 + i] * id));
  }
}

void quantize_q8_0(const WeightMatrix& src, BlockQ8_0* dst, int threads) {
  const int64_t nb = src.cols / 32;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t r = 0; r < src.rows; ++r) {
    float v[32];
    for (int64_t b = 0; b < nb; ++b) {
      float amax = 0;
      for (int i = 0; i < 32; ++i) {
        v[i] = weight_at(src, r, b * 32 + i);
        amax = std::max(amax, std::fabs(v[i]));
      }
      // Same rounding as llama.cpp's quantize_row_q8_0_ref: d = amax / 127, q = round(x / d).
      const float d = amax / 127.0f;
      const float id = d != 0.0f ? 1.0f / d : 0.0f;
      BlockQ8_0& blk = dst[r * nb + b];
      blk.d = f32_to_f16(d);
      for (int i = 0; i < 32; ++i) blk.q[i] = static_cast<int8_t>(std::lround(v[i] * id));
    }
  }
}

}  // namespace s1::cpu
