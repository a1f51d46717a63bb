// AVX512-BF16 attention over a bf16 KV cache (AttentionShape::bf16_kv) for one
// (token, kv head) pair and the query heads that share it. Compiled with -mavx512f
// -mavx512bw -mavx512vl -mavx512bf16 and only called where the CPU has AVX512-BF16.
//
// vdpbf16ps multiplies pairs of bf16 and adds both products to an f32 lane, so one
// instruction does the work of two FMAs on half the bytes:
//   scores: a 64-byte line of keys is 16 positions x 2 dimensions; lane i gains
//           q[d] k_i[d] + q[d+1] k_i[d+1] against the query's (d, d+1) pair broadcast;
//   values: a line of values is 16 dimensions x 2 positions; lane i gains
//           p_j v_j[i] + p_j+1 v_j+1[i] against the probabilities' (j, j+1) pair.
// The query and the probabilities are rounded to bf16 (as a bf16 model computes them in
// transformers); every sum is f32. Keys are attended chunk by chunk with an online
// softmax, as in attention_avx512.cpp's f32 kernel, whose prefetch plan this follows.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "backend/cpu/simd_kernels.h"
#include "backend/cpu/simd_math_avx512.h"

namespace s1::cpu {
namespace {

// Positions per online-softmax step: even, so a pair of values never straddles two.
constexpr int64_t kChunk = 256;
constexpr int kMaxGroup = 16;

inline __m512i pair_at(const uint16_t* p) {
  int32_t u;
  std::memcpy(&u, p, sizeof u);
  return _mm512_set1_epi32(u);
}

inline __m512 dot_pairs(__m512 acc, __m512i a, __m512i b) { return _mm512_dpbf16_ps(acc, (__m512bh)a, (__m512bh)b); }

// n floats at src -> bf16 at dst (round to nearest even).
inline void to_bf16(const float* src, int64_t n, uint16_t* dst) {
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + j), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + j)));
  if (j < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - j)) - 1);
    _mm256_mask_storeu_epi16(dst + j, m, (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + j)));
  }
}

// The 16 scores of one key block for G heads (query pairs qb, head_dim bf16 apart).
// A block is head_dim / 2 lines of keys (and as many of values), one per step of the
// loop over dimension pairs, so each step prefetches one line of pf_keys into L1 and one
// of pf_values into L2 (both null: no prefetch). Why one per step: issued as a burst of
// 64 at the start of each block they filled the miss queue and stalled the loop. Spread
// out, one thread (group of 7, head_dim 64, cache cold in DRAM, both versions alternating
// in one process) went from 64 to 48 core cycles a position at 4096 (1.33x; 1.14x at
// 512), and from 45 to 40 with the cache in L2; the decoded token at 4096 gained 1-2%.
template <int G>
inline void block_scores(const uint16_t* qb, int head_dim, const uint16_t* blk, __m512 sv, __mmask16 valid, float* scores,
                         int64_t score_stride, const uint16_t* pf_keys, const uint16_t* pf_values) {
  __m512 acc[G];
  for (int a = 0; a < G; ++a) acc[a] = _mm512_setzero_ps();
  for (int d = 0; d < head_dim; d += 2) {
    if (pf_keys) {
      _mm_prefetch(reinterpret_cast<const char*>(pf_keys + 16 * d), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(pf_values + 16 * d), _MM_HINT_T1);
    }
    const __m512i kd = _mm512_loadu_si512(blk + 16 * d);  // dimensions d, d+1 of 16 positions
    for (int a = 0; a < G; ++a) acc[a] = dot_pairs(acc[a], kd, pair_at(qb + a * head_dim + d));
  }
  for (int a = 0; a < G; ++a) _mm512_mask_storeu_ps(scores + a * score_stride, valid, _mm512_mul_ps(acc[a], sv));
}

// out[a] = alpha[a] out[a] + sum_j pb[a][j] v_j over the chunk's cl positions, G heads.
// While it runs it prefetches pf_lines cache lines from pf (the next chunk's keys) into L2.
template <int NV, int G>
void values_pass(const uint16_t* pb, int64_t cl, const uint16_t* v, int64_t q_head_stride, const float* alpha, float* out,
                 const uint16_t* pf, int64_t pf_lines) {
  constexpr int head_dim = 16 * NV;
  __m512 acc[G][NV];
  for (int a = 0; a < G; ++a)
    for (int i = 0; i < NV; ++i)
      acc[a][i] = _mm512_mul_ps(_mm512_set1_ps(alpha[a]), _mm512_loadu_ps(out + a * q_head_stride + 16 * i));
  const int64_t pairs = cl / 2;
  const int64_t per = pairs > 0 ? (pf_lines + pairs - 1) / pairs : 0;  // lines to prefetch per pair
  for (int64_t jp = 0; jp < pairs; ++jp) {
    const uint16_t* vj = v + jp * 2 * head_dim;
    for (int64_t l = jp * per; l < std::min(pf_lines, (jp + 1) * per); ++l)
      _mm_prefetch(reinterpret_cast<const char*>(pf) + 64 * l, _MM_HINT_T1);
    for (int a = 0; a < G; ++a) {
      const __m512i pj = pair_at(pb + a * kChunk + 2 * jp);
      for (int i = 0; i < NV; ++i) acc[a][i] = dot_pairs(acc[a][i], _mm512_loadu_si512(vj + 32 * i), pj);
    }
  }
  if (cl % 2) {  // the last position alone: its pair partner is not a position yet (zero it, it may hold anything)
    const uint16_t* vj = v + pairs * 2 * head_dim;
    for (int a = 0; a < G; ++a) {
      const __m512i pj = _mm512_set1_epi32(pb[a * kChunk + cl - 1]);
      for (int i = 0; i < NV; ++i)
        acc[a][i] = dot_pairs(acc[a][i], _mm512_maskz_loadu_epi16(0x55555555u, vj + 32 * i), pj);
    }
  }
  for (int a = 0; a < G; ++a)
    for (int i = 0; i < NV; ++i) _mm512_storeu_ps(out + a * q_head_stride + 16 * i, acc[a][i]);
}

// values_pass over all heads, as many per pass as the accumulators allow (G * NV <= 28).
template <int NV>
void values(const uint16_t* pb, int group, int64_t cl, const uint16_t* v, int64_t q_head_stride, const float* alpha,
            float* out, const uint16_t* pf, int64_t pf_lines) {
  constexpr int kMax = 28 / NV < 7 ? 28 / NV : 7;
  for (int h0 = 0; h0 < group;) {
    const int g = std::min(kMax, group - h0);
    const uint16_t* ph = pb + h0 * kChunk;
    const float* al = alpha + h0;
    float* oh = out + h0 * q_head_stride;
    const int64_t n = h0 == 0 ? pf_lines : 0;
    switch (g) {  // unrolled per count so the accumulators stay in registers
      case 1: values_pass<NV, 1>(ph, cl, v, q_head_stride, al, oh, pf, n); break;
      case 2: values_pass<NV, std::min(2, kMax)>(ph, cl, v, q_head_stride, al, oh, pf, n); break;
      case 3: values_pass<NV, std::min(3, kMax)>(ph, cl, v, q_head_stride, al, oh, pf, n); break;
      case 4: values_pass<NV, std::min(4, kMax)>(ph, cl, v, q_head_stride, al, oh, pf, n); break;
      case 5: values_pass<NV, std::min(5, kMax)>(ph, cl, v, q_head_stride, al, oh, pf, n); break;
      case 6: values_pass<NV, std::min(6, kMax)>(ph, cl, v, q_head_stride, al, oh, pf, n); break;
      default: values_pass<NV, kMax>(ph, cl, v, q_head_stride, al, oh, pf, n); break;
    }
    h0 += g;
  }
}

}  // namespace

void attention_group_bf16_avx512(const float* q, int64_t q_head_stride, int group, const uint16_t* k, const uint16_t* v,
                                 int64_t len, int head_dim, float scale, float* scratch, float* out) {
  const __m512 sv = _mm512_set1_ps(scale);
  const int64_t pstride = std::min(kChunk, len);  // scratch holds group x pstride scores
  alignas(64) uint16_t qb[kMaxGroup * 256];
  alignas(64) uint16_t pb[kMaxGroup * kChunk];
  float run_max[kMaxGroup], run_sum[kMaxGroup], alpha[kMaxGroup];
  for (int h = 0; h < group; ++h) {
    to_bf16(q + h * q_head_stride, head_dim, qb + h * head_dim);
    run_max[h] = -INFINITY;
    run_sum[h] = 0.0f;
    for (int i = 0; i < head_dim; i += 16) _mm512_storeu_ps(out + h * q_head_stride + i, _mm512_setzero_ps());
  }
  for (int64_t c0 = 0; c0 < len; c0 += kChunk) {
    const int64_t cl = std::min(kChunk, len - c0);
    const uint16_t* vc = v + c0 * head_dim;  // pairs of positions, 2 * head_dim apart
    // 1. scores of the chunk, the block after next's keys and this block's values on their way
    for (int64_t j0 = 0; j0 < cl; j0 += 16) {
      const uint16_t* blk = k + (c0 + j0) * head_dim;
      const __mmask16 valid = cl - j0 >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (cl - j0)) - 1);
      // the block after next's keys, this block's values (the values pass reads them after
      // the chunk's scores); the first call of a larger group does the prefetching
      const uint16_t* pk = blk + 32 * head_dim;
      const uint16_t* pv = vc + j0 * head_dim;
      for (int h0 = 0; h0 < group; h0 += 8) {
        const uint16_t* qh = qb + h0 * head_dim;
        float* sh = scratch + h0 * pstride + j0;
        if (h0 > 0) pk = pv = nullptr;
        switch (std::min(8, group - h0)) {  // unrolled per head count so the accumulators stay in registers
          case 1: block_scores<1>(qh, head_dim, blk, sv, valid, sh, pstride, pk, pv); break;
          case 2: block_scores<2>(qh, head_dim, blk, sv, valid, sh, pstride, pk, pv); break;
          case 3: block_scores<3>(qh, head_dim, blk, sv, valid, sh, pstride, pk, pv); break;
          case 4: block_scores<4>(qh, head_dim, blk, sv, valid, sh, pstride, pk, pv); break;
          case 5: block_scores<5>(qh, head_dim, blk, sv, valid, sh, pstride, pk, pv); break;
          case 6: block_scores<6>(qh, head_dim, blk, sv, valid, sh, pstride, pk, pv); break;
          case 7: block_scores<7>(qh, head_dim, blk, sv, valid, sh, pstride, pk, pv); break;
          default: block_scores<8>(qh, head_dim, blk, sv, valid, sh, pstride, pk, pv); break;
        }
      }
    }
    // 2. exponentials against the running maximum, rounded to bf16 for the values
    online_softmax_step(scratch, pstride, group, cl, run_max, run_sum, alpha);
    for (int h = 0; h < group; ++h) to_bf16(scratch + h * pstride, cl, pb + h * kChunk);
    // 3. the chunk's values into the running output, the next chunk's keys on their way
    const uint16_t* next_k = k + (c0 + cl) * head_dim;
    const int64_t next_lines = std::min(kChunk, len - c0 - cl) * head_dim * 2 / 64;
    switch (head_dim / 16) {
      case 1: values<1>(pb, group, cl, vc, q_head_stride, alpha, out, next_k, next_lines); break;
      case 2: values<2>(pb, group, cl, vc, q_head_stride, alpha, out, next_k, next_lines); break;
      case 3: values<3>(pb, group, cl, vc, q_head_stride, alpha, out, next_k, next_lines); break;
      case 4: values<4>(pb, group, cl, vc, q_head_stride, alpha, out, next_k, next_lines); break;
      case 5: values<5>(pb, group, cl, vc, q_head_stride, alpha, out, next_k, next_lines); break;
      case 6: values<6>(pb, group, cl, vc, q_head_stride, alpha, out, next_k, next_lines); break;
      case 8: values<8>(pb, group, cl, vc, q_head_stride, alpha, out, next_k, next_lines); break;
      default: values<16>(pb, group, cl, vc, q_head_stride, alpha, out, next_k, next_lines); break;
    }
  }
  for (int h = 0; h < group; ++h) {
    const __m512 inv = _mm512_set1_ps(1.0f / run_sum[h]);
    for (int i = 0; i < head_dim; i += 16) {
      float* o = out + h * q_head_stride + i;
      _mm512_storeu_ps(o, _mm512_mul_ps(inv, _mm512_loadu_ps(o)));
    }
  }
}

}  // namespace s1::cpu
