// Elementwise kernels, AVX-512: SwiGLU (silu(g) * u) with the vector exp.
// Compiled with -mavx512f -mfma.
#include <immintrin.h>

#include <cmath>
#include <cstddef>

#include "backend/cpu/simd_math_avx512.h"

namespace s1::cpu {

void swiglu_avx512(const float* gate, const float* up, size_t n, float* out) {
  const __m512 one = _mm512_set1_ps(1.0f);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 g = _mm512_loadu_ps(gate + i);
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), g));  // exp(-g)
    _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(one, e)), _mm512_loadu_ps(up + i)));
  }
  for (; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

}  // namespace s1::cpu
