// One-token bf16 matmul with AVX512-BF16's vdpbf16ps: x is rounded to bf16 once per call
// and each 512-bit load of weights is one instruction of 32 multiply-adds (f32
// accumulation), instead of two unpacks and two FMAs. Not the default: rounding x to bf16
// changes results (llama.cpp makes the same trade); bench_decode_ab measures it.
// Compiled with -mavx512bf16.
#include <immintrin.h>

#include <vector>

#include "backend/cpu/simd_kernels.h"

namespace s1::cpu {

void matmul_rows_bf16dot_avx512(const float* x, const WeightMatrix& w, int64_t r0, int64_t r1, float* y) {
  const int64_t cols = w.cols, c32 = cols / 32 * 32;
  thread_local std::vector<__m512bh> xb;
  xb.resize(size_t(c32 / 32));
  for (int64_t c = 0; c < c32; c += 32)  // element 2i / 2i+1 of the pair -> lanes of the dot product
    xb[c / 32] = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + c + 16), _mm512_loadu_ps(x + c));
  for (int64_t r = r0; r < r1; ++r) {
    const uint16_t* wr = static_cast<const uint16_t*>(w.data) + size_t(r) * size_t(cols);
    __m512 a0 = _mm512_setzero_ps(), a1 = a0;
    int64_t c = 0;
    for (; c + 64 <= c32; c += 64) {
      a0 = _mm512_dpbf16_ps(a0, (__m512bh)_mm512_loadu_si512(wr + c), xb[c / 32]);
      a1 = _mm512_dpbf16_ps(a1, (__m512bh)_mm512_loadu_si512(wr + c + 32), xb[c / 32 + 1]);
    }
    for (; c < c32; c += 32) a0 = _mm512_dpbf16_ps(a0, (__m512bh)_mm512_loadu_si512(wr + c), xb[c / 32]);
    float s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
    for (; c < cols; ++c) {  // tail: plain f32
      uint32_t bits = uint32_t(wr[c]) << 16;
      float wf;
      __builtin_memcpy(&wf, &bits, 4);
      s += wf * x[c];
    }
    y[r] = s;
  }
}

}  // namespace s1::cpu
