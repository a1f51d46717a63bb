// AVX-512 causal attention for one (token, kv-head) pair and all the query heads that
// share that kv head (GQA): each cached key / value row is loaded once for the whole
// group. Scores are kept per head, the softmax uses a vectorised exp.
// Compiled with -mavx512f -mfma.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "backend/cpu/simd_math_avx512.h"

namespace s1::cpu {
namespace {

// Scores of whole blocks of 16 positions: per head, 16 unreduced dot products (q held in
// registers, keys from L1) reduced together by hsum16. Returns the positions done.
// kContiguous: the rows are head_dim apart (the model's head-major cache), a stride known
// at compile time, so the 16 rows are constant offsets of one pointer (with a run-time
// stride the compiler kept 16 row pointers and spilled them).
template <int NV, bool kContiguous>
int64_t scores_blocks(const float* q, int64_t q_head_stride, int group, const float* k, const float* v,
                      int64_t kv_stride_rt, int64_t len, float scale, float* scratch) {
  const int64_t kv_stride = kContiguous ? 16 * NV : kv_stride_rt;
  const __m512 sv = _mm512_set1_ps(scale);
  int64_t j0 = 0;
  for (; j0 + 16 <= len; j0 += 16) {
    for (int jj = 0; jj < 16; ++jj)  // the block after next: its cache lines arrive while this one computes
      for (int i = 0; i < NV; ++i) {
        _mm_prefetch(reinterpret_cast<const char*>(k + (j0 + 32 + jj) * kv_stride + 16 * i), _MM_HINT_T0);
        // the values of these positions, into L2 while the scores and the softmax compute
        _mm_prefetch(reinterpret_cast<const char*>(v + (j0 + jj) * kv_stride + 16 * i), _MM_HINT_T1);
      }
    for (int h = 0; h < group; ++h) {
      __m512 qr[NV], acc[16];
      for (int i = 0; i < NV; ++i) qr[i] = _mm512_loadu_ps(q + h * q_head_stride + 16 * i);
      for (int jj = 0; jj < 16; ++jj) {
        const float* kj = k + (j0 + jj) * kv_stride;
        acc[jj] = _mm512_mul_ps(qr[0], _mm512_loadu_ps(kj));
        for (int i = 1; i < NV; ++i) acc[jj] = _mm512_fmadd_ps(qr[i], _mm512_loadu_ps(kj + 16 * i), acc[jj]);
      }
      _mm512_storeu_ps(scratch + h * len + j0, _mm512_mul_ps(hsum16(acc), sv));
    }
  }
  return j0;
}

// G heads x NV vectors of accumulators (G * NV <= 28 of the 32 registers).
template <int NV, int G>
void weighted_values_pass(const float* p, int64_t len, const float* v, int64_t kv_stride, int64_t q_head_stride,
                          float* out) {
  __m512 acc[G][NV];
  for (int a = 0; a < G; ++a)
    for (int i = 0; i < NV; ++i) acc[a][i] = _mm512_setzero_ps();
  for (int64_t j = 0; j < len; ++j) {
    const float* vj = v + j * kv_stride;
    for (int i = 0; i < NV; ++i) _mm_prefetch(reinterpret_cast<const char*>(vj + 16 * kv_stride + 16 * i), _MM_HINT_T0);
    for (int a = 0; a < G; ++a) {
      const __m512 pj = _mm512_set1_ps(p[a * len + j]);
      for (int i = 0; i < NV; ++i) acc[a][i] = _mm512_fmadd_ps(pj, _mm512_loadu_ps(vj + 16 * i), acc[a][i]);
    }
  }
  for (int a = 0; a < G; ++a)
    for (int i = 0; i < NV; ++i) _mm512_storeu_ps(out + a * q_head_stride + 16 * i, acc[a][i]);
}

template <int NV>
void weighted_values(const float* p, int group, const float* v, int64_t kv_stride, int64_t len,
                     int64_t q_head_stride, float* out) {
  constexpr int kMax = 28 / NV;
  for (int h0 = 0; h0 < group;) {
    const int g = std::min(kMax, group - h0);
    const float* ph = p + h0 * len;
    float* oh = out + h0 * q_head_stride;
    switch (g) {  // unrolled per count so the accumulators stay in registers
      case 1: weighted_values_pass<NV, 1>(ph, len, v, kv_stride, q_head_stride, oh); break;
      case 2: weighted_values_pass<NV, 2>(ph, len, v, kv_stride, q_head_stride, oh); break;
      case 3: weighted_values_pass<NV, 3>(ph, len, v, kv_stride, q_head_stride, oh); break;
      case 4: weighted_values_pass<NV, std::min(4, kMax)>(ph, len, v, kv_stride, q_head_stride, oh); break;
      case 5: weighted_values_pass<NV, std::min(5, kMax)>(ph, len, v, kv_stride, q_head_stride, oh); break;
      case 6: weighted_values_pass<NV, std::min(6, kMax)>(ph, len, v, kv_stride, q_head_stride, oh); break;
      default: weighted_values_pass<NV, std::min(7, kMax)>(ph, len, v, kv_stride, q_head_stride, oh); break;
    }
    h0 += g;
  }
}

}  // namespace

// q: group query heads (head_dim floats each, `q_head_stride` apart); keys / values at
// rows 0..len-1 of k / v (kv_stride apart, already offset to this kv head); writes
// group output heads to out (q_head_stride apart). scratch: group * len floats.
// head_dim must be a multiple of 16 and at most 256.
void attention_group_avx512(const float* q, int64_t q_head_stride, int group, const float* k, const float* v,
                            int64_t kv_stride, int64_t len, int head_dim, float scale, float* scratch, float* out) {
  const int nv = head_dim / 16;
  // 1. scores[h][j] = q_h . k_j * scale; blocks of 16 positions first (NV 4 / 8), then
  //    the rest one position at a time.
  int64_t j0 = 0;
  const bool contiguous = kv_stride == head_dim;
  if (nv == 4 && contiguous) j0 = scores_blocks<4, true>(q, q_head_stride, group, k, v, kv_stride, len, scale, scratch);
  else if (nv == 4) j0 = scores_blocks<4, false>(q, q_head_stride, group, k, v, kv_stride, len, scale, scratch);
  else if (nv == 8 && contiguous) j0 = scores_blocks<8, true>(q, q_head_stride, group, k, v, kv_stride, len, scale, scratch);
  else if (nv == 8) j0 = scores_blocks<8, false>(q, q_head_stride, group, k, v, kv_stride, len, scale, scratch);
  for (int64_t j = j0; j < len; ++j) {
    __m512 kr[16];
    const float* kj = k + j * kv_stride;
    for (int i = 0; i < nv; ++i) kr[i] = _mm512_loadu_ps(kj + 16 * i);
    for (int h = 0; h < group; ++h) {
      const float* qh = q + h * q_head_stride;
      __m512 acc = _mm512_mul_ps(kr[0], _mm512_loadu_ps(qh));
      for (int i = 1; i < nv; ++i) acc = _mm512_fmadd_ps(kr[i], _mm512_loadu_ps(qh + 16 * i), acc);
      scratch[h * len + j] = _mm512_reduce_add_ps(acc) * scale;
    }
  }
  // 2. softmax per head, in place, except the division by the sum: the output is scaled
  //    by 1 / sum at the end instead (head_dim multiplies per head, not len).
  float inv_sum[256];
  for (int h = 0; h < group; ++h) {
    float* s = scratch + h * len;
    __m512 mx = _mm512_set1_ps(-INFINITY);
    int64_t j = 0;
    for (; j + 16 <= len; j += 16) mx = _mm512_max_ps(mx, _mm512_loadu_ps(s + j));
    float m = _mm512_reduce_max_ps(mx);
    for (; j < len; ++j) m = std::fmax(m, s[j]);
    const __m512 mv = _mm512_set1_ps(m);
    __m512 sum = _mm512_setzero_ps();
    for (j = 0; j + 16 <= len; j += 16) {
      __m512 e = exp_ps(_mm512_sub_ps(_mm512_loadu_ps(s + j), mv));
      _mm512_storeu_ps(s + j, e);
      sum = _mm512_add_ps(sum, e);
    }
    if (j < len) {
      const __mmask16 msk = static_cast<__mmask16>((1u << (len - j)) - 1);
      __m512 e = exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(msk, s + j), mv));
      _mm512_mask_storeu_ps(s + j, msk, e);
      sum = _mm512_add_ps(sum, _mm512_maskz_mov_ps(msk, e));
    }
    inv_sum[h] = 1.0f / _mm512_reduce_add_ps(sum);
  }
  auto normalise = [&] {
    for (int h = 0; h < group; ++h)
      for (int i = 0; i < nv; ++i) {
        float* o = out + h * q_head_stride + 16 * i;
        _mm512_storeu_ps(o, _mm512_mul_ps(_mm512_loadu_ps(o), _mm512_set1_ps(inv_sum[h])));
      }
  };
  // 3. out_h = sum_j p[h][j] * v_j: as many heads per pass as the accumulators allow, so
  //    each value row is read once per pass (one pass for a group of 7 at head_dim 64).
  switch (nv) {
    case 4: weighted_values<4>(scratch, group, v, kv_stride, len, q_head_stride, out); return normalise();
    case 8: weighted_values<8>(scratch, group, v, kv_stride, len, q_head_stride, out); return normalise();
    default: break;
  }
  for (int h0 = 0; h0 < group; h0 += 2) {
    const int hn = group - h0 >= 2 ? 2 : 1;
    __m512 acc[2][16];
    for (int a = 0; a < hn; ++a)
      for (int i = 0; i < nv; ++i) acc[a][i] = _mm512_setzero_ps();
    for (int64_t j = 0; j < len; ++j) {
      const float* vj = v + j * kv_stride;
      for (int a = 0; a < hn; ++a) {
        const __m512 p = _mm512_set1_ps(scratch[(h0 + a) * len + j]);
        for (int i = 0; i < nv; ++i) acc[a][i] = _mm512_fmadd_ps(p, _mm512_loadu_ps(vj + 16 * i), acc[a][i]);
      }
    }
    for (int a = 0; a < hn; ++a)
      for (int i = 0; i < nv; ++i) _mm512_storeu_ps(out + (h0 + a) * q_head_stride + 16 * i, acc[a][i]);
  }
  normalise();
}

}  // namespace s1::cpu
