// Peak f32 FMA throughput probe: 12 independent accumulator chains of 512-bit FMAs
// entirely in registers (no memory traffic), the ceiling any f32 GEMM can reach.
// Compiled with -mavx512f -mfma.
#include <immintrin.h>

#include <cstdint>

namespace s1::cpu {

float fma_loop_avx512(int64_t iters) {
  __m512 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm512_set1_ps(float(i) * 1e-3f);
  const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  for (int64_t k = 0; k < iters; ++k)
    for (int i = 0; i < 12; ++i) a[i] = _mm512_fmadd_ps(a[i], m, c);
  __m512 s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, a[i]);
  return _mm512_reduce_add_ps(s);
}

}  // namespace s1::cpu
