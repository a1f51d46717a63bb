// Read-bandwidth probe (STREAM-like "sum" kernel): 4 independent accumulators of
// 64-byte loads so the loop is bound by memory, not by the add latency. And the byte
// reader of s1 bench --plain-read.
// Compiled with -mavx512f.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "backend/cpu/simd_kernels.h"

namespace s1::cpu {

float read_sum_avx512(const float* p, size_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    a0 = _mm512_add_ps(a0, _mm512_load_ps(p + i));
    a1 = _mm512_add_ps(a1, _mm512_load_ps(p + i + 16));
    a2 = _mm512_add_ps(a2, _mm512_load_ps(p + i + 32));
    a3 = _mm512_add_ps(a3, _mm512_load_ps(p + i + 48));
  }
  float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
  for (; i < n; ++i) s += p[i];
  return s;
}

// The sum of n bytes at p (any alignment) through 64-byte loads: s1 bench --plain-read's
// read of a decoded token's memory. vpsadbw adds each 8 bytes into a 64-bit lane, so the
// loop is loads and adds, as in read_sum_avx512; and it prefetches as the one-token
// kernels do (weight_prefetch(), simd_kernels.h), so that it reads the token's memory the
// way decode reads it, minus the arithmetic.
uint64_t read_bytes_avx512(const uint8_t* p, size_t n) {
  const WeightPrefetch pf = weight_prefetch();
  const __m512i zero = _mm512_setzero_si512();
  __m512i a0 = zero, a1 = zero, a2 = zero, a3 = zero;
  size_t i = 0;
  for (; i + 256 <= n; i += 256) {
    if (pf.l2_bytes)
      for (int l = 0; l < 256; l += 64 * pf.lines) {
        _mm_prefetch(reinterpret_cast<const char*>(p + i) + pf.l2_bytes + l, _MM_HINT_T1);
        if (pf.l1_bytes) _mm_prefetch(reinterpret_cast<const char*>(p + i) + pf.l1_bytes + l, _MM_HINT_T0);
      }
    a0 = _mm512_add_epi64(a0, _mm512_sad_epu8(_mm512_loadu_si512(p + i), zero));
    a1 = _mm512_add_epi64(a1, _mm512_sad_epu8(_mm512_loadu_si512(p + i + 64), zero));
    a2 = _mm512_add_epi64(a2, _mm512_sad_epu8(_mm512_loadu_si512(p + i + 128), zero));
    a3 = _mm512_add_epi64(a3, _mm512_sad_epu8(_mm512_loadu_si512(p + i + 192), zero));
  }
  uint64_t s = uint64_t(_mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3))));
  for (; i < n; ++i) s += p[i];
  return s;
}

}  // namespace s1::cpu
