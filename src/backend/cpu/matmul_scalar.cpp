// The plain reference matmul: every SIMD path is tested against it.
#include "backend/cpu/q8_interleaved.h"
#include "backend/cpu/quant.h"
#include "backend/cpu/quant_blocks.h"
#include "backend/cpu/simd_kernels.h"

namespace s1::cpu {

float weight_at(const WeightMatrix& w, int64_t r, int64_t c) {
  if (w.col_block > 0) {
    const int64_t s = c / w.col_block;
    // Q8_0_IL rows come in quads: its segments must start on one
    const int64_t r0 = w.dtype == DType::Q8_0_IL ? r / kQ8QuadRows * kQ8QuadRows : r;
    return weight_at(w.segment(s, r0, r0 + 1), r - r0, c - w.segment_col0(s));
  }
  const size_t i = size_t(r) * size_t(w.cols) + size_t(c);
  switch (w.dtype) {
    case DType::F32: return static_cast<const float*>(w.data)[i];
    case DType::BF16: return bf16_to_f32(static_cast<const uint16_t*>(w.data)[i]);
    case DType::F16: return f16_to_f32(static_cast<const uint16_t*>(w.data)[i]);
    case DType::Q8_0: {
      const auto* blk = static_cast<const BlockQ8_0*>(w.data) + i / 32;
      return f16_to_f32(blk->d) * float(blk->q[i % 32]);
    }
    case DType::Q8_0_IL: return q8_il_element(w, r, c);  // q8_interleaved.h
    case DType::Q4_0:
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1:
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K: return quant_weight_at(w, r, c);  // GGUF block formats (quant_blocks.cpp)
    default: return 0.0f;  // other formats are rejected before a kernel is called
  }
}

void matmul_rows_scalar(const float* x, int n, int64_t xstride, const WeightMatrix& w, int64_t r0, int64_t r1,
                        float* y, int64_t ystride) {
  if (is_ggml_quant(w.dtype) && w.col_block == 0) return matmul_rows_quant_scalar(x, n, xstride, w, r0, r1, y, ystride);
  for (int64_t r = r0; r < r1; ++r)
    for (int t = 0; t < n; ++t) {
      const float* xt = x + t * xstride;
      float acc = 0.0f;
      for (int64_t c = 0; c < w.cols; ++c) acc += xt[c] * weight_at(w, r, c);
      y[t * ystride + r] = acc;
    }
}

}  // namespace s1::cpu
