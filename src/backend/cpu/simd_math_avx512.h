// Vector math for AVX-512 kernel files only (include it from files compiled with
// -mavx512f: the functions live in an anonymous namespace, one copy per file).
#pragma once
#include <immintrin.h>

#include <cmath>
#include <cstdint>

namespace s1::cpu {
namespace {

// exp(x) for x in [-87, 88]: Cody-Waite range reduction and a
// degree-6 polynomial; relative error ~1e-7, far below what attention needs.
inline __m512 exp_ps(__m512 x) {
  const __m512 log2e = _mm512_set1_ps(1.44269504088896341f);
  const __m512 ln2_hi = _mm512_set1_ps(0.693359375f), ln2_lo = _mm512_set1_ps(-2.12194440e-4f);
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)), _mm512_set1_ps(88.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, ln2_hi, x);
  r = _mm512_fnmadd_ps(n, ln2_lo, r);
  __m512 p = _mm512_set1_ps(1.3981999507e-3f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

// reduce16(a, op)[j] = op over the 16 lanes of a[j] (op: an associative, commutative
// lane-wise operation such as _mm512_add_ps or _mm512_max_ps): a transposing tree, 45
// shuffles and ops for 16 reductions instead of 16 separate horizontal ones.
template <class Op>
inline __m512 reduce16(const __m512 a[16], Op op) {
  __m512 b[8], c[4];
  for (int k = 0; k < 8; ++k)  // per 128-bit lane: [x0.x2, y0.y2, x1.x3, y1.y3]
    b[k] = op(_mm512_unpacklo_ps(a[2 * k], a[2 * k + 1]), _mm512_unpackhi_ps(a[2 * k], a[2 * k + 1]));
  for (int m = 0; m < 4; ++m) {  // per 128-bit lane L: that lane's reductions of a[4m .. 4m+3]
    const __m512d lo = _mm512_unpacklo_pd(_mm512_castps_pd(b[2 * m]), _mm512_castps_pd(b[2 * m + 1]));
    const __m512d hi = _mm512_unpackhi_pd(_mm512_castps_pd(b[2 * m]), _mm512_castps_pd(b[2 * m + 1]));
    c[m] = op(_mm512_castpd_ps(lo), _mm512_castpd_ps(hi));
  }
  // combine the four 128-bit lanes of each c[m]: lane m of the result holds a[4m .. 4m+3]
  const __m512 e0 = op(_mm512_shuffle_f32x4(c[0], c[1], _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_shuffle_f32x4(c[0], c[1], _MM_SHUFFLE(3, 1, 3, 1)));
  const __m512 e1 = op(_mm512_shuffle_f32x4(c[2], c[3], _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_shuffle_f32x4(c[2], c[3], _MM_SHUFFLE(3, 1, 3, 1)));
  return op(_mm512_shuffle_f32x4(e0, e1, _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_f32x4(e0, e1, _MM_SHUFFLE(3, 1, 3, 1)));
}

// hsum16(a)[j] = sum of the 16 lanes of a[j]
inline __m512 hsum16(const __m512 a[16]) {
  return reduce16(a, [](__m512 x, __m512 y) { return _mm512_add_ps(x, y); });
}

// Softmax pieces of the attention kernels:
// max of s[0..n)
inline float row_max(const float* s, int64_t n) {
  __m512 mx = _mm512_set1_ps(-INFINITY);
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) mx = _mm512_max_ps(mx, _mm512_loadu_ps(s + j));
  float m = _mm512_reduce_max_ps(mx);
  for (; j < n; ++j) m = std::fmax(m, s[j]);
  return m;
}

// s[j] = exp(s[j] - m) for j < n; returns their sum.
inline float exp_in_place(float* s, int64_t n, float m) {
  const __m512 mv = _mm512_set1_ps(m);
  __m512 sum = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_loadu_ps(s + j), mv));
    _mm512_storeu_ps(s + j, e);
    sum = _mm512_add_ps(sum, e);
  }
  if (j < n) {
    const __mmask16 msk = static_cast<__mmask16>((1u << (n - j)) - 1);
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(msk, s + j), mv));
    _mm512_mask_storeu_ps(s + j, msk, e);
    sum = _mm512_add_ps(sum, _mm512_maskz_mov_ps(msk, e));
  }
  return _mm512_reduce_add_ps(sum);
}

// One online-softmax step over a chunk of cl scores for each of `group` heads (scores[h]
// at scores + h * stride): the running maximum moves to take the chunk in, the chunk's
// scores become exp(score - max) in place, and alpha[h] = exp(old max - new max) is what
// everything summed before must be scaled by (0 for the first chunk).
inline void online_softmax_step(float* scores, int64_t stride, int group, int64_t cl, float* run_max, float* run_sum,
                                float* alpha) {
  for (int h = 0; h < group; ++h) {
    float* sc = scores + h * stride;
    const float m_new = std::fmax(run_max[h], row_max(sc, cl));
    alpha[h] = std::exp(run_max[h] - m_new);
    run_max[h] = m_new;
    run_sum[h] = run_sum[h] * alpha[h] + exp_in_place(sc, cl, m_new);
  }
}

}  // namespace
}  // namespace s1::cpu
