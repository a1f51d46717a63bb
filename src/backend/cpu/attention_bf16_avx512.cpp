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
//
// A second form of the same kernel (kDot false: attention_group_bf16_fma_avx512) widens
// each line to two f32 vectors (a shift and a mask: the bf16 of each pair's even and odd
// element) and uses two FMAs instead of one vdpbf16ps: the same products (a bf16 times a
// bf16 is exact in f32), summed in f32. Why both: vdpbf16ps runs at one per two cycles on
// Intel's Sapphire / Emerald Rapids (16 multiply-adds a cycle, measured: 1.32 per ns
// against 5.5 FMAs per ns on the Emerald Rapids VM), where two FMA units do 32; the widening
// is paid once per line for all the group's heads. On AMD Zen 4 vdpbf16ps is the faster.
// bf16_attention_dot() (simd_kernels.h) picks.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

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

// The query and the probabilities as the kernel reads them: bf16 for vdpbf16ps, bf16-rounded
// f32 for the FMA form (broadcast straight from memory).
template <bool kDot>
using Elem = std::conditional_t<kDot, uint16_t, float>;

// n floats at src rounded to bf16 and kept as f32 at dst (in place is fine).
inline __m512 rounded_to_bf16(__m512 x) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(x)), 16));
}
inline void round_to_bf16_f32(const float* src, int64_t n, float* dst) {
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) _mm512_storeu_ps(dst + j, rounded_to_bf16(_mm512_loadu_ps(src + j)));
  if (j < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - j)) - 1);
    _mm512_mask_storeu_ps(dst + j, m, rounded_to_bf16(_mm512_maskz_loadu_ps(m, src + j)));
  }
}
template <bool kDot>
inline void to_elem(const float* src, int64_t n, Elem<kDot>* dst) {
  if constexpr (kDot)
    to_bf16(src, n, dst);
  else
    round_to_bf16_f32(src, n, dst);
}

// The 16 scores of one key block for G heads (query pairs qb, head_dim bf16 apart).
// A block is head_dim / 2 lines of keys (and as many of values), one per step of the
// loop over dimension pairs, so each step prefetches one line of pf_keys into L1 and one
// of pf_values into L2 (both null: no prefetch). Why one per step: issued as a burst of
// 64 at the start of each block they filled the miss queue and stalled the loop. Spread
// out, one thread (group of 7, head_dim 64, cache cold in DRAM, both versions alternating
// in one process) went from 64 to 48 core cycles a position at 4096 (1.33x; 1.14x at
// 512), and from 45 to 40 with the cache in L2; the decoded token at 4096 gained 1-2%.
// Dimensions d (even) and d + 1 of a line of keys, or values j and j + 1 of a line of
// values, as f32: each 32-bit lane holds the even one in its low half, the odd one in its
// high half, and a bf16 in the high half of a zero lane is that f32.
inline __m512 even_half(__m512i line) { return _mm512_castsi512_ps(_mm512_slli_epi32(line, 16)); }
inline __m512 odd_half(__m512i line) { return _mm512_castsi512_ps(_mm512_and_si512(line, _mm512_set1_epi32(int(0xFFFF0000u)))); }

template <int G, bool kDot>
inline void block_scores(const Elem<kDot>* qb, int head_dim, const uint16_t* blk, __m512 sv, __mmask16 valid,
                         float* scores, int64_t score_stride, const uint16_t* pf_keys, const uint16_t* pf_values) {
  __m512 acc[G], acc_odd[G];  // acc_odd: the FMA form's odd dimensions (two chains a head)
  for (int a = 0; a < G; ++a) acc[a] = acc_odd[a] = _mm512_setzero_ps();
  for (int d = 0; d < head_dim; d += 2) {
    if (pf_keys) {
      _mm_prefetch(reinterpret_cast<const char*>(pf_keys + 16 * d), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(pf_values + 16 * d), _MM_HINT_T1);
    }
    const __m512i kd = _mm512_loadu_si512(blk + 16 * d);  // dimensions d, d+1 of 16 positions
    if constexpr (kDot) {
      for (int a = 0; a < G; ++a) acc[a] = dot_pairs(acc[a], kd, pair_at(qb + a * head_dim + d));
    } else {
      const __m512 ke = even_half(kd), ko = odd_half(kd);
      for (int a = 0; a < G; ++a) {
        acc[a] = _mm512_fmadd_ps(ke, _mm512_set1_ps(qb[a * head_dim + d]), acc[a]);
        acc_odd[a] = _mm512_fmadd_ps(ko, _mm512_set1_ps(qb[a * head_dim + d + 1]), acc_odd[a]);
      }
    }
  }
  for (int a = 0; a < G; ++a) {
    if constexpr (!kDot) acc[a] = _mm512_add_ps(acc[a], acc_odd[a]);
    _mm512_mask_storeu_ps(scores + a * score_stride, valid, _mm512_mul_ps(acc[a], sv));
  }
}

// out[a] = alpha[a] out[a] + sum_j pb[a][j] v_j over the chunk's cl positions, G heads.
// While it runs it prefetches pf_lines cache lines from pf (the next chunk's keys) into L2.
template <int NV, int G, bool kDot>
void values_pass(const Elem<kDot>* pb, int64_t cl, const uint16_t* v, int64_t q_head_stride, const float* alpha,
                 float* out, const uint16_t* pf, int64_t pf_lines) {
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
    if constexpr (kDot) {
      for (int a = 0; a < G; ++a) {
        const __m512i pj = pair_at(pb + a * kChunk + 2 * jp);
        for (int i = 0; i < NV; ++i) acc[a][i] = dot_pairs(acc[a][i], _mm512_loadu_si512(vj + 32 * i), pj);
      }
    } else {
      for (int i = 0; i < NV; ++i) {
        const __m512i line = _mm512_loadu_si512(vj + 32 * i);
        const __m512 ve = even_half(line), vo = odd_half(line);
        for (int a = 0; a < G; ++a) {
          acc[a][i] = _mm512_fmadd_ps(vo, _mm512_set1_ps(pb[a * kChunk + 2 * jp + 1]), acc[a][i]);
          acc[a][i] = _mm512_fmadd_ps(ve, _mm512_set1_ps(pb[a * kChunk + 2 * jp]), acc[a][i]);
        }
      }
    }
  }
  if (cl % 2) {  // the last position alone: its pair partner is not a position yet (zero it, it may hold anything)
    const uint16_t* vj = v + pairs * 2 * head_dim;
    for (int a = 0; a < G; ++a) {
      if constexpr (kDot) {
        const __m512i pj = _mm512_set1_epi32(pb[a * kChunk + cl - 1]);
        for (int i = 0; i < NV; ++i)
          acc[a][i] = dot_pairs(acc[a][i], _mm512_maskz_loadu_epi16(0x55555555u, vj + 32 * i), pj);
      } else {
        for (int i = 0; i < NV; ++i)
          acc[a][i] = _mm512_fmadd_ps(even_half(_mm512_loadu_si512(vj + 32 * i)), _mm512_set1_ps(pb[a * kChunk + cl - 1]),
                                      acc[a][i]);
      }
    }
  }
  for (int a = 0; a < G; ++a)
    for (int i = 0; i < NV; ++i) _mm512_storeu_ps(out + a * q_head_stride + 16 * i, acc[a][i]);
}

// values_pass over all heads, as many per pass as the accumulators allow (G * NV <= 28).
template <int NV, bool kDot>
void values(const Elem<kDot>* pb, int group, int64_t cl, const uint16_t* v, int64_t q_head_stride, const float* alpha,
            float* out, const uint16_t* pf, int64_t pf_lines) {
  constexpr int kMax = 28 / NV < 7 ? 28 / NV : 7;
  for (int h0 = 0; h0 < group;) {
    const int g = std::min(kMax, group - h0);
    const Elem<kDot>* ph = pb + h0 * kChunk;
    const float* al = alpha + h0;
    float* oh = out + h0 * q_head_stride;
    const int64_t n = h0 == 0 ? pf_lines : 0;
    switch (g) {  // unrolled per count so the accumulators stay in registers
      case 1: values_pass<NV, 1, kDot>(ph, cl, v, q_head_stride, al, oh, pf, n); break;
      case 2: values_pass<NV, std::min(2, kMax), kDot>(ph, cl, v, q_head_stride, al, oh, pf, n); break;
      case 3: values_pass<NV, std::min(3, kMax), kDot>(ph, cl, v, q_head_stride, al, oh, pf, n); break;
      case 4: values_pass<NV, std::min(4, kMax), kDot>(ph, cl, v, q_head_stride, al, oh, pf, n); break;
      case 5: values_pass<NV, std::min(5, kMax), kDot>(ph, cl, v, q_head_stride, al, oh, pf, n); break;
      case 6: values_pass<NV, std::min(6, kMax), kDot>(ph, cl, v, q_head_stride, al, oh, pf, n); break;
      default: values_pass<NV, kMax, kDot>(ph, cl, v, q_head_stride, al, oh, pf, n); break;
    }
    h0 += g;
  }
}


template <bool kDot>
void attention_group(const float* q, int64_t q_head_stride, int group, const uint16_t* k, const uint16_t* v, int64_t len,
                     int head_dim, float scale, float* scratch, float* out) {
  const __m512 sv = _mm512_set1_ps(scale);
  const int64_t pstride = std::min(kChunk, len);  // scratch holds group x pstride scores
  alignas(64) Elem<kDot> qb[kMaxGroup * 256];
  alignas(64) Elem<kDot> pb[kMaxGroup * kChunk];
  float run_max[kMaxGroup], run_sum[kMaxGroup], alpha[kMaxGroup];
  for (int h = 0; h < group; ++h) {
    to_elem<kDot>(q + h * q_head_stride, head_dim, qb + h * head_dim);
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
        const Elem<kDot>* qh = qb + h0 * head_dim;
        float* sh = scratch + h0 * pstride + j0;
        if (h0 > 0) pk = pv = nullptr;
        switch (std::min(8, group - h0)) {  // unrolled per head count so the accumulators stay in registers
          case 1: block_scores<1, kDot>(qh, head_dim, blk, sv, valid, sh, pstride, pk, pv); break;
          case 2: block_scores<2, kDot>(qh, head_dim, blk, sv, valid, sh, pstride, pk, pv); break;
          case 3: block_scores<3, kDot>(qh, head_dim, blk, sv, valid, sh, pstride, pk, pv); break;
          case 4: block_scores<4, kDot>(qh, head_dim, blk, sv, valid, sh, pstride, pk, pv); break;
          case 5: block_scores<5, kDot>(qh, head_dim, blk, sv, valid, sh, pstride, pk, pv); break;
          case 6: block_scores<6, kDot>(qh, head_dim, blk, sv, valid, sh, pstride, pk, pv); break;
          case 7: block_scores<7, kDot>(qh, head_dim, blk, sv, valid, sh, pstride, pk, pv); break;
          default: block_scores<8, kDot>(qh, head_dim, blk, sv, valid, sh, pstride, pk, pv); break;
        }
      }
    }
    // 2. exponentials against the running maximum, rounded to bf16 for the values
    online_softmax_step(scratch, pstride, group, cl, run_max, run_sum, alpha);
    for (int h = 0; h < group; ++h) to_elem<kDot>(scratch + h * pstride, cl, pb + h * kChunk);
    // 3. the chunk's values into the running output, the next chunk's keys on their way
    const uint16_t* next_k = k + (c0 + cl) * head_dim;
    const int64_t next_lines = std::min(kChunk, len - c0 - cl) * head_dim * 2 / 64;
    switch (head_dim / 16) {
      case 1: values<1, kDot>(pb, group, cl, vc, q_head_stride, alpha, out, next_k, next_lines); break;
      case 2: values<2, kDot>(pb, group, cl, vc, q_head_stride, alpha, out, next_k, next_lines); break;
      case 3: values<3, kDot>(pb, group, cl, vc, q_head_stride, alpha, out, next_k, next_lines); break;
      case 4: values<4, kDot>(pb, group, cl, vc, q_head_stride, alpha, out, next_k, next_lines); break;
      case 5: values<5, kDot>(pb, group, cl, vc, q_head_stride, alpha, out, next_k, next_lines); break;
      case 6: values<6, kDot>(pb, group, cl, vc, q_head_stride, alpha, out, next_k, next_lines); break;
      case 8: values<8, kDot>(pb, group, cl, vc, q_head_stride, alpha, out, next_k, next_lines); break;
      default: values<16, kDot>(pb, group, cl, vc, q_head_stride, alpha, out, next_k, next_lines); break;
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

}  // namespace

void attention_group_bf16_avx512(const float* q, int64_t q_head_stride, int group, const uint16_t* k, const uint16_t* v,
                                 int64_t len, int head_dim, float scale, float* scratch, float* out) {
  attention_group<true>(q, q_head_stride, group, k, v, len, head_dim, scale, scratch, out);
}

void attention_group_bf16_fma_avx512(const float* q, int64_t q_head_stride, int group, const uint16_t* k,
                                     const uint16_t* v, int64_t len, int head_dim, float scale, float* scratch,
                                     float* out) {
  attention_group<false>(q, q_head_stride, group, k, v, len, head_dim, scale, scratch, out);
}

}  // namespace s1::cpu
