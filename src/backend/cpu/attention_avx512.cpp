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

// Scores from keys in the key-block layout (AttentionShape::key_blocks): per block of 16
// positions, each head's 16 scores are one vector of FMAs over the dimensions (a key
// dimension for 16 positions times the query's broadcast value), up to 8 heads at a
// time, so no horizontal sums. The last, partial block is computed whole (its missing
// positions hold whatever the cache has there) and only its valid lanes stored.
// A block is head_dim lines of keys and as many of values (16 rows of head_dim / 16
// lines, kv_stride apart), so each step over a dimension prefetches one line of pf_keys
// into L1 and one of the values at pf_values into L2 (both null: none). Why spread out:
// a burst of 2 x head_dim prefetches at the start of every block fills the miss queue and
// stalls the loop. One thread, group of 7, head_dim 64, cache cold in DRAM: 94-98 -> 82-85
// TSC-scaled core cycles a position at 4096 (1.15x), 1.14x at 512.
template <int G>
inline void key_block_scores(const float* q, int64_t q_head_stride, const float* blk, int head_dim, __m512 sv,
                             __mmask16 valid, float* scores, int64_t score_stride, const float* pf_keys,
                             const float* pf_values, int64_t kv_stride) {
  __m512 acc[G];
  for (int a = 0; a < G; ++a) acc[a] = _mm512_setzero_ps();
  const int row_lines = head_dim / 16;
  for (int d = 0, row = 0, line = 0; d < head_dim; ++d) {
    if (pf_keys) {
      _mm_prefetch(reinterpret_cast<const char*>(pf_keys + d * 16), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(pf_values + row * kv_stride + line * 16), _MM_HINT_T1);
      if (++line == row_lines) line = 0, ++row;
    }
    const __m512 kd = _mm512_loadu_ps(blk + d * 16);
    for (int a = 0; a < G; ++a) acc[a] = _mm512_fmadd_ps(_mm512_set1_ps(q[a * q_head_stride + d]), kd, acc[a]);
  }
  for (int a = 0; a < G; ++a) _mm512_mask_storeu_ps(scores + a * score_stride, valid, _mm512_mul_ps(acc[a], sv));
}

// Keys in blocks of 16 positions (AttentionShape::key_blocks) are attended in chunks of
// kChunk positions with an online softmax: each chunk's scores, then its exponentials
// against the running maximum (rescaling what was summed before by exp(old - new max)),
// then its values. A chunk's keys and values stay in L2 between the passes; its values
// are prefetched into L2 while its scores compute, and the next chunk's keys while its
// values do, so memory is not left idle while a whole-sequence values pass computes. One
// thread over 24 layers' cache at position 4096 (Qwen2.5-0.5B's kv head of 64, group of
// 7): 81 -> 60 TSC cycles per position against key rows and whole-sequence passes; two
// threads (bench_decode_ab Attention24): 3.40-3.46 -> 3.05-3.25 ms.
constexpr int64_t kChunk = 256;

// out[a] = sum_j p[a][j] v_j for G heads (G * NV <= 28 of the 32 registers), added to
// out[a] * alpha[a] when alpha is given (the online softmax's rescaling). While it runs it
// prefetches NV cache lines at pf + j * pf_stride for each position j < pf_count: the
// value rows 16 positions ahead (whole-sequence pass, into L1), or the next chunk's keys
// (chunked pass, into L2: kIntoL2).
template <int NV, int G, bool kIntoL2>
void values_pass(const float* p, int64_t pstride, int64_t len, const float* v, int64_t kv_stride,
                 int64_t q_head_stride, const float* alpha, float* out, const float* pf, int64_t pf_stride,
                 int64_t pf_count) {
  __m512 acc[G][NV];
  for (int a = 0; a < G; ++a)
    for (int i = 0; i < NV; ++i)
      acc[a][i] = alpha ? _mm512_mul_ps(_mm512_set1_ps(alpha[a]), _mm512_loadu_ps(out + a * q_head_stride + 16 * i))
                        : _mm512_setzero_ps();
  for (int64_t j = 0; j < len; ++j) {
    const float* vj = v + j * kv_stride;
    if (j < pf_count)
      for (int i = 0; i < NV; ++i)
        _mm_prefetch(reinterpret_cast<const char*>(pf + j * pf_stride + 16 * i), kIntoL2 ? _MM_HINT_T1 : _MM_HINT_T0);
    for (int a = 0; a < G; ++a) {
      const __m512 pj = _mm512_set1_ps(p[a * pstride + j]);
      for (int i = 0; i < NV; ++i) acc[a][i] = _mm512_fmadd_ps(pj, _mm512_loadu_ps(vj + 16 * i), acc[a][i]);
    }
  }
  for (int a = 0; a < G; ++a)
    for (int i = 0; i < NV; ++i) _mm512_storeu_ps(out + a * q_head_stride + 16 * i, acc[a][i]);
}

// values_pass over all `group` heads, as many per pass as the accumulators allow (one
// pass for a group of 7 at head_dim 64). Every pass reads the value rows, so each
// prefetches them; the next chunk's keys are prefetched by the first pass only.
template <int NV, bool kIntoL2>
void values(const float* p, int64_t pstride, int group, int64_t len, const float* v, int64_t kv_stride,
            int64_t q_head_stride, const float* alpha, float* out, const float* pf, int64_t pf_stride, int64_t pf_count) {
  constexpr int kMax = 28 / NV < 7 ? 28 / NV : 7;
  for (int h0 = 0; h0 < group;) {
    const int g = std::min(kMax, group - h0);
    const float* ph = p + h0 * pstride;
    const float* al = alpha ? alpha + h0 : nullptr;
    float* oh = out + h0 * q_head_stride;
    const int64_t n = h0 == 0 || !kIntoL2 ? pf_count : 0;
    switch (g) {  // unrolled per count so the accumulators stay in registers
      case 1: values_pass<NV, 1, kIntoL2>(ph, pstride, len, v, kv_stride, q_head_stride, al, oh, pf, pf_stride, n); break;
      case 2: values_pass<NV, std::min(2, kMax), kIntoL2>(ph, pstride, len, v, kv_stride, q_head_stride, al, oh, pf, pf_stride, n); break;
      case 3: values_pass<NV, std::min(3, kMax), kIntoL2>(ph, pstride, len, v, kv_stride, q_head_stride, al, oh, pf, pf_stride, n); break;
      case 4: values_pass<NV, std::min(4, kMax), kIntoL2>(ph, pstride, len, v, kv_stride, q_head_stride, al, oh, pf, pf_stride, n); break;
      case 5: values_pass<NV, std::min(5, kMax), kIntoL2>(ph, pstride, len, v, kv_stride, q_head_stride, al, oh, pf, pf_stride, n); break;
      case 6: values_pass<NV, std::min(6, kMax), kIntoL2>(ph, pstride, len, v, kv_stride, q_head_stride, al, oh, pf, pf_stride, n); break;
      default: values_pass<NV, kMax, kIntoL2>(ph, pstride, len, v, kv_stride, q_head_stride, al, oh, pf, pf_stride, n); break;
    }
    h0 += g;
  }
}

void attention_key_blocks(const float* q, int64_t q_head_stride, int group, const float* k, const float* v,
                          int64_t kv_stride, int64_t len, int head_dim, float scale, float* scratch, float* out) {
  const __m512 sv = _mm512_set1_ps(scale);
  const int64_t pstride = std::min(kChunk, len);  // scratch holds group x pstride scores
  float run_max[256], run_sum[256], alpha[256];
  for (int h = 0; h < group; ++h) {
    run_max[h] = -INFINITY;
    run_sum[h] = 0.0f;
    for (int i = 0; i < head_dim; i += 16) _mm512_storeu_ps(out + h * q_head_stride + i, _mm512_setzero_ps());
  }
  for (int64_t c0 = 0; c0 < len; c0 += kChunk) {
    const int64_t cl = std::min(kChunk, len - c0);
    const float* vc = v + c0 * kv_stride;
    // 1. scores of the chunk
    for (int64_t j0 = 0; j0 < cl; j0 += 16) {
      const float* blk = k + (c0 + j0) * head_dim;
      const __mmask16 valid = cl - j0 >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (cl - j0)) - 1);
      // the block after next's keys, and this block's values into L2 while the scores
      // compute; the first call of a larger group does the prefetching
      const float* pk = blk + 32 * head_dim;
      const float* pv = vc + j0 * kv_stride;
      for (int h0 = 0; h0 < group; h0 += 8) {
        const float* qh = q + h0 * q_head_stride;
        float* sh = scratch + h0 * pstride + j0;
        if (h0 > 0) pk = pv = nullptr;
        switch (std::min(8, group - h0)) {  // unrolled per head count so the accumulators stay in registers
          case 1: key_block_scores<1>(qh, q_head_stride, blk, head_dim, sv, valid, sh, pstride, pk, pv, kv_stride); break;
          case 2: key_block_scores<2>(qh, q_head_stride, blk, head_dim, sv, valid, sh, pstride, pk, pv, kv_stride); break;
          case 3: key_block_scores<3>(qh, q_head_stride, blk, head_dim, sv, valid, sh, pstride, pk, pv, kv_stride); break;
          case 4: key_block_scores<4>(qh, q_head_stride, blk, head_dim, sv, valid, sh, pstride, pk, pv, kv_stride); break;
          case 5: key_block_scores<5>(qh, q_head_stride, blk, head_dim, sv, valid, sh, pstride, pk, pv, kv_stride); break;
          case 6: key_block_scores<6>(qh, q_head_stride, blk, head_dim, sv, valid, sh, pstride, pk, pv, kv_stride); break;
          case 7: key_block_scores<7>(qh, q_head_stride, blk, head_dim, sv, valid, sh, pstride, pk, pv, kv_stride); break;
          default: key_block_scores<8>(qh, q_head_stride, blk, head_dim, sv, valid, sh, pstride, pk, pv, kv_stride); break;
        }
      }
    }
    // 2. exponentials against the running maximum
    online_softmax_step(scratch, pstride, group, cl, run_max, run_sum, alpha);
    // 3. the chunk's values into the running output, the next chunk's keys on their way
    const float* next_k = k + (c0 + cl) * head_dim;
    const int64_t nkeys = std::min(kChunk, len - c0 - cl);
    switch (head_dim / 16) {
      case 1: values<1, true>(scratch, pstride, group, cl, vc, kv_stride, q_head_stride, alpha, out, next_k, head_dim, nkeys); break;
      case 2: values<2, true>(scratch, pstride, group, cl, vc, kv_stride, q_head_stride, alpha, out, next_k, head_dim, nkeys); break;
      case 3: values<3, true>(scratch, pstride, group, cl, vc, kv_stride, q_head_stride, alpha, out, next_k, head_dim, nkeys); break;
      case 4: values<4, true>(scratch, pstride, group, cl, vc, kv_stride, q_head_stride, alpha, out, next_k, head_dim, nkeys); break;
      case 5: values<5, true>(scratch, pstride, group, cl, vc, kv_stride, q_head_stride, alpha, out, next_k, head_dim, nkeys); break;
      case 6: values<6, true>(scratch, pstride, group, cl, vc, kv_stride, q_head_stride, alpha, out, next_k, head_dim, nkeys); break;
      case 8: values<8, true>(scratch, pstride, group, cl, vc, kv_stride, q_head_stride, alpha, out, next_k, head_dim, nkeys); break;
      default: values<16, true>(scratch, pstride, group, cl, vc, kv_stride, q_head_stride, alpha, out, next_k, head_dim, nkeys); break;
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

// q: group query heads (head_dim floats each, `q_head_stride` apart); keys / values at
// rows 0..len-1 of k / v (kv_stride apart, already offset to this kv head); writes
// group output heads to out (q_head_stride apart). scratch: group * len floats.
// head_dim must be a multiple of 16 and at most 256.
void attention_group_avx512(const float* q, int64_t q_head_stride, int group, const float* k, const float* v,
                            int64_t kv_stride, bool key_blocks, int64_t len, int head_dim, float scale, float* scratch,
                            float* out) {
  if (key_blocks) return attention_key_blocks(q, q_head_stride, group, k, v, kv_stride, len, head_dim, scale, scratch, out);
  const int nv = head_dim / 16;
  // 1. scores[h][j] = q_h . k_j * scale: blocks of 16 positions first (NV 4 / 8), then the
  //    rest one position at a time.
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
    float* sc = scratch + h * len;
    inv_sum[h] = 1.0f / exp_in_place(sc, len, row_max(sc, len));
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
    case 4:
      values<4, false>(scratch, len, group, len, v, kv_stride, q_head_stride, nullptr, out, v + 16 * kv_stride, kv_stride, len);
      return normalise();
    case 8:
      values<8, false>(scratch, len, group, len, v, kv_stride, q_head_stride, nullptr, out, v + 16 * kv_stride, kv_stride, len);
      return normalise();
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
