// Q8_0 weights x activations quantised to int16 per 32 values, AVX-512BW integer dot
// products (vpmaddwd). Decode of Q8_0 weights was bound by the int8 -> f32 widening of
// the float path; here a block is one widening to int16, one multiply-add and one
// conversion. int16 and not int8 activations (llama.cpp's choice): int8 rounding moved
// SmolLM2-135M's logits by ~1% of their range, enough to flip a greedy answer whose
// margin is 0.3%; int16 is 256 times finer. Every token count goes through the same
// per-(row, token) accumulation order, so prefill and token-by-token decode agree.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mfma -mf16c.
#include <immintrin.h>

#include "backend/cpu/quant.h"
#include "backend/cpu/simd_kernels.h"

namespace s1::cpu {
namespace {

// TOKS tokens x one row. Each token's sum runs in four accumulators (block b into
// acc[t][b % 4], then (a0 + a1) + (a2 + a3)): four independent FMA chains hide the FMA
// latency (one chain bound one-token decode at ~9 bytes of weights per cycle), and the
// order is the same for every TOKS, so a token gets the same bits in a batch and alone.
template <int TOKS>
inline void tile(const BlockI16* xq, int64_t xq_stride, int64_t nb, const BlockQ8_0* wr, int64_t r, float* y,
                 int64_t ystride) {
  __m512 acc[TOKS][4];
  for (int t = 0; t < TOKS; ++t)
    for (int i = 0; i < 4; ++i) acc[t][i] = _mm512_setzero_ps();
  auto block = [&](int64_t b, int i) {
    const __m512i w = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr[b].q)));
    const float dw = _cvtsh_ss(wr[b].d);
    for (int t = 0; t < TOKS; ++t) {
      const BlockI16& xb = xq[t * xq_stride + b];
      const __m512i prod = _mm512_madd_epi16(w, _mm512_load_si512(xb.q));  // 16 sums of 2 products
      acc[t][i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(prod), _mm512_set1_ps(dw * xb.d), acc[t][i]);
    }
  };
  int64_t b = 0;
  for (; b + 4 <= nb; b += 4) {
    block(b, 0);
    block(b + 1, 1);
    block(b + 2, 2);
    block(b + 3, 3);
  }
  for (; b < nb; ++b) block(b, int(b & 3));
  for (int t = 0; t < TOKS; ++t)
    y[t * ystride + r] =
        _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[t][0], acc[t][1]), _mm512_add_ps(acc[t][2], acc[t][3])));
}

}  // namespace

void matmul_rows_q8_i16(const BlockI16* xq, int64_t xq_stride, int n, const WeightMatrix& w, int64_t r0, int64_t r1,
                        float* y, int64_t ystride) {
  const int64_t nb = w.cols / 32;
  const BlockQ8_0* wq = static_cast<const BlockQ8_0*>(w.data);
  int t = 0;
  for (; t + 4 <= n; t += 4)
    for (int64_t r = r0; r < r1; ++r) tile<4>(xq + t * xq_stride, xq_stride, nb, wq + r * nb, r, y + t * ystride, ystride);
  for (; t < n; ++t)
    for (int64_t r = r0; r < r1; ++r) tile<1>(xq + t * xq_stride, xq_stride, nb, wq + r * nb, r, y + t * ystride, ystride);
}

}  // namespace s1::cpu

namespace s1::cpu {

// quantize_row_i16 with AVX-512: the same scale (amax / 32767); values are rounded
// half to even instead of lround's half away from zero, which differs only on exact
// ties. Called for every matmul input of the integer path, by one thread while the
// others wait, so the scalar lround loop (~5 ns a value) cost ~1 ms per decoded token.
void quantize_row_i16_avx512(const float* x, int64_t cols, BlockI16* dst) {
  for (int64_t b = 0; b < cols / 32; ++b) {
    const __m512 v0 = _mm512_loadu_ps(x + b * 32), v1 = _mm512_loadu_ps(x + b * 32 + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
    const float d = amax / 32767.0f;
    const __m512 id = _mm512_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
    dst[b].d = d;
    _mm256_store_si256(reinterpret_cast<__m256i*>(dst[b].q), _mm512_cvtsepi32_epi16(_mm512_cvtps_epi32(_mm512_mul_ps(v0, id))));
    _mm256_store_si256(reinterpret_cast<__m256i*>(dst[b].q + 16), _mm512_cvtsepi32_epi16(_mm512_cvtps_epi32(_mm512_mul_ps(v1, id))));
  }
}

}  // namespace s1::cpu
