// Q8_0 weights x Q8_0-quantised activations with AVX-512 VNNI integer dot products
// (vpdpbusd on 256-bit lanes: one 32-weight block per instruction). Decode of Q8_0
// weights was bound by the int8 -> f32 widening of the float path; the integer path
// does a quarter of the vector work per block. Every token count (decode and
// prefill) goes through the same per-(row, token) accumulation order, so prefill and
// token-by-token decode give identical logits.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mfma -mf16c.
#include <immintrin.h>

#include "backend/cpu/quant.h"
#include "backend/cpu/simd_kernels.h"

namespace s1::cpu {
namespace {

// Block dot product: sum_i w_i * x_i over 32 int8 pairs, as 8 int32 partial sums.
// vpdpbusd multiplies unsigned by signed bytes, so |w| times x carrying w's sign.
inline __m256i block_dot(__m256i w, __m256i x) {
  const __m256i uw = _mm256_sign_epi8(w, w);
  const __m256i sx = _mm256_sign_epi8(x, w);
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), uw, sx);
}

template <int TOKS>
inline void tile(const BlockQ8_0* xq, int64_t nb, const BlockQ8_0* wr, int64_t r, float* y, int64_t ystride) {
  __m256 acc[TOKS];
  for (int t = 0; t < TOKS; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr[b].q));
    const float dw = _cvtsh_ss(wr[b].d);
    for (int t = 0; t < TOKS; ++t) {
      const BlockQ8_0& xb = xq[t * nb + b];
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb.q));
      const __m256 dot = _mm256_cvtepi32_ps(block_dot(w, x));
      acc[t] = _mm256_fmadd_ps(dot, _mm256_set1_ps(dw * _cvtsh_ss(xb.d)), acc[t]);
    }
  }
  for (int t = 0; t < TOKS; ++t) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc[t]), _mm256_extractf128_ps(acc[t], 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    y[t * ystride + r] = _mm_cvtss_f32(s);
  }
}

}  // namespace

void matmul_rows_q8_vnni(const BlockQ8_0* xq, int n, const WeightMatrix& w, int64_t r0, int64_t r1, float* y,
                         int64_t ystride) {
  const int64_t nb = w.cols / 32;
  const BlockQ8_0* wq = static_cast<const BlockQ8_0*>(w.data);
  int t = 0;
  for (; t + 4 <= n; t += 4)
    for (int64_t r = r0; r < r1; ++r) tile<4>(xq + t * nb, nb, wq + r * nb, r, y + t * ystride, ystride);
  for (; t < n; ++t)
    for (int64_t r = r0; r < r1; ++r) {
      if (n == 1) _mm_prefetch(reinterpret_cast<const char*>(wq + r * nb) + 2048, _MM_HINT_T0);
      tile<1>(xq + t * nb, nb, wq + r * nb, r, y + t * ystride, ystride);
    }
}

}  // namespace s1::cpu
