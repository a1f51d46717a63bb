// AVX-512 matmul tiles: ROWS weight rows x TOKS token rows of accumulators, so each
// loaded (and converted) weight vector feeds TOKS FMAs and each x vector ROWS FMAs.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mfma -mf16c.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "backend/cpu/quant.h"
#include "backend/cpu/quant_blocks.h"
#include "backend/cpu/simd_kernels.h"
#include "backend/cpu/tile_walk.h"

namespace s1::cpu {
namespace {

template <DType D>
inline __m512 load_w(const void* base, int64_t i) {
  if constexpr (D == DType::F32) {
    return _mm512_loadu_ps(static_cast<const float*>(base) + i);
  } else if constexpr (D == DType::BF16) {
    __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(base) + i));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  } else {
    __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(base) + i));
    return _mm512_cvtph_ps(h);
  }
}

template <DType D>
inline __m512 load_w_tail(const void* base, int64_t i, __mmask16 m) {
  if constexpr (D == DType::F32) {
    return _mm512_maskz_loadu_ps(m, static_cast<const float*>(base) + i);
  } else if constexpr (D == DType::BF16) {
    __m256i h = _mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(base) + i);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  } else {
    __m256i h = _mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(base) + i);
    return _mm512_cvtph_ps(h);
  }
}

template <DType D>
inline const void* row_ptr(const WeightMatrix& w, int64_t r) {
  return static_cast<const uint8_t*>(w.data) + size_t(r) * size_t(w.cols) * dtype_size(D);
}

template <DType D, int ROWS, int TOKS>
inline void tile(const float* x, int64_t xstride, const WeightMatrix& w, int64_t r, float* y, int64_t ystride) {
  __m512 acc[ROWS][TOKS];
  for (int i = 0; i < ROWS; ++i)
    for (int t = 0; t < TOKS; ++t) acc[i][t] = _mm512_setzero_ps();
  const void* wr[ROWS];
  for (int i = 0; i < ROWS; ++i) wr[i] = row_ptr<D>(w, r + i);
  const int64_t cols = w.cols;
  int64_t c = 0;
  for (; c + 16 <= cols; c += 16) {
    __m512 xv[TOKS];
    for (int t = 0; t < TOKS; ++t) xv[t] = _mm512_loadu_ps(x + t * xstride + c);
    for (int i = 0; i < ROWS; ++i) {
      __m512 wv = load_w<D>(wr[i], c);
      for (int t = 0; t < TOKS; ++t) acc[i][t] = _mm512_fmadd_ps(wv, xv[t], acc[i][t]);
    }
  }
  if (c < cols) {
    __mmask16 m = static_cast<__mmask16>((1u << (cols - c)) - 1);
    __m512 xv[TOKS];
    for (int t = 0; t < TOKS; ++t) xv[t] = _mm512_maskz_loadu_ps(m, x + t * xstride + c);
    for (int i = 0; i < ROWS; ++i) {
      __m512 wv = load_w_tail<D>(wr[i], c, m);
      for (int t = 0; t < TOKS; ++t) acc[i][t] = _mm512_fmadd_ps(wv, xv[t], acc[i][t]);
    }
  }
  for (int i = 0; i < ROWS; ++i)
    for (int t = 0; t < TOKS; ++t) y[t * ystride + r + i] = _mm512_reduce_add_ps(acc[i][t]);
}

// Q8_0: per 32-weight block, widen int8 -> f32 (two 16-lane halves), scale by the
// block's d, then the same FMAs as the float formats. No activation quantisation, so
// the only error is the weights' own rounding.
template <int ROWS, int TOKS>
inline void tile_q8(const float* x, int64_t xstride, const WeightMatrix& w, int64_t r, float* y, int64_t ystride) {
  __m512 acc[ROWS][TOKS];
  for (int i = 0; i < ROWS; ++i)
    for (int t = 0; t < TOKS; ++t) acc[i][t] = _mm512_setzero_ps();
  const int64_t nb = w.cols / 32;
  const BlockQ8_0* wr[ROWS];
  for (int i = 0; i < ROWS; ++i) wr[i] = static_cast<const BlockQ8_0*>(w.data) + (r + i) * nb;
  for (int64_t b = 0; b < nb; ++b) {
    __m512 x0[TOKS], x1[TOKS];
    for (int t = 0; t < TOKS; ++t) {
      x0[t] = _mm512_loadu_ps(x + t * xstride + b * 32);
      x1[t] = _mm512_loadu_ps(x + t * xstride + b * 32 + 16);
    }
    for (int i = 0; i < ROWS; ++i) {
      const BlockQ8_0& blk = wr[i][b];
      const __m512 d = _mm512_set1_ps(_cvtsh_ss(blk.d));
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.q));
      const __m512 w0 = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_castsi256_si128(q))));
      const __m512 w1 = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_extracti128_si256(q, 1))));
      for (int t = 0; t < TOKS; ++t) acc[i][t] = _mm512_fmadd_ps(w1, x1[t], _mm512_fmadd_ps(w0, x0[t], acc[i][t]));
    }
  }
  for (int i = 0; i < ROWS; ++i)
    for (int t = 0; t < TOKS; ++t) y[t * ystride + r + i] = _mm512_reduce_add_ps(acc[i][t]);
}

// One token, Q8_0: rows one after another (one contiguous stream per thread), two
// blocks per step into separate accumulators, prefetching ahead of the stream.
void row_stream_q8(const float* x, const WeightMatrix& w, int64_t r0, int64_t r1, float* y) {
  const int64_t nb = w.cols / 32;
  for (int64_t r = r0; r < r1; ++r) {
    const BlockQ8_0* wr = static_cast<const BlockQ8_0*>(w.data) + r * nb;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t b = 0;
    auto block = [&](int64_t bb, __m512& lo, __m512& hi) {
      const BlockQ8_0& blk = wr[bb];
      const __m512 d = _mm512_set1_ps(_cvtsh_ss(blk.d));
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.q));
      const __m512 w0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_castsi256_si128(q)));
      const __m512 w1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_extracti128_si256(q, 1)));
      // scale once per block: (w0 . x0 + w1 . x1) * d, accumulated with an FMA
      const __m512 part = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + bb * 32 + 16), _mm512_mul_ps(w0, _mm512_loadu_ps(x + bb * 32)));
      lo = _mm512_fmadd_ps(part, d, lo);
      (void)hi;
    };
    for (; b + 2 <= nb; b += 2) {
      _mm_prefetch(reinterpret_cast<const char*>(wr + b) + 1024, _MM_HINT_T0);
      block(b, a0, a2);
      block(b + 1, a1, a3);
    }
    for (; b < nb; ++b) block(b, a0, a2);
    y[r] = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
  }
}

void rows_q8(const float* x, int n, int64_t xstride, const WeightMatrix& w, int64_t r0, int64_t r1, float* y,
             int64_t ystride) {
  if (n == 1) return row_stream_q8(x, w, r0, r1, y);
  const auto tl = []<int R, int T>(const float* xt, int64_t xs, const WeightMatrix& wm, int64_t r, float* yt,
                                    int64_t ys) { tile_q8<R, T>(xt, xs, wm, r, yt, ys); };
  int t = walk_token_groups(tl, x, n, xstride, w, r0, r1, y, ystride);
  walk_single_tokens(tl, t, x, n, xstride, w, r0, r1, y, ystride);
}

// Decode (one token): rows one after another, so each thread reads one contiguous
// stream of weights (what the hardware prefetchers follow best), with four
// accumulators over the columns to hide the FMA latency, and a software prefetch a
// few cache lines ahead of the stream.
template <DType D>
inline void row_stream(const float* x, const WeightMatrix& w, int64_t r0, int64_t r1, float* y) {
  const int64_t cols = w.cols;
  const size_t esize = dtype_size(D);
  for (int64_t r = r0; r < r1; ++r) {
    const void* wr = row_ptr<D>(w, r);
    const char* pf = static_cast<const char*>(wr) + 1024;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t c = 0;
    for (; c + 64 <= cols; c += 64) {
      _mm_prefetch(pf + c * esize, _MM_HINT_T0);
      _mm_prefetch(pf + c * esize + 64, _MM_HINT_T0);
      if (esize == 4) {
        _mm_prefetch(pf + c * esize + 128, _MM_HINT_T0);
        _mm_prefetch(pf + c * esize + 192, _MM_HINT_T0);
      }
      a0 = _mm512_fmadd_ps(load_w<D>(wr, c), _mm512_loadu_ps(x + c), a0);
      a1 = _mm512_fmadd_ps(load_w<D>(wr, c + 16), _mm512_loadu_ps(x + c + 16), a1);
      a2 = _mm512_fmadd_ps(load_w<D>(wr, c + 32), _mm512_loadu_ps(x + c + 32), a2);
      a3 = _mm512_fmadd_ps(load_w<D>(wr, c + 48), _mm512_loadu_ps(x + c + 48), a3);
    }
    for (; c + 16 <= cols; c += 16) a0 = _mm512_fmadd_ps(load_w<D>(wr, c), _mm512_loadu_ps(x + c), a0);
    if (c < cols) {
      __mmask16 m = static_cast<__mmask16>((1u << (cols - c)) - 1);
      a1 = _mm512_fmadd_ps(load_w_tail<D>(wr, c, m), _mm512_maskz_loadu_ps(m, x + c), a1);
    }
    y[r] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
  }
}

// One token, bf16: 32 weights per 512-bit load, widened with in-lane unpacks (a bf16
// placed in the high half of a zero 32-bit lane is that f32) instead of the
// cross-lane vpmovzxwd + shift. The unpacks take the elements of each 128-bit lane in
// the order {0-3} / {4-7}; xp is x permuted once per call into the same order, so the
// dot product is unchanged. The prefetch plan (weight_prefetch(), simd_kernels.h) is
// chosen once per call rather than tested in the loop: kLines 0 (none), 1 (every line) or
// 2 (every other line), pf2 bytes ahead into L2, and with kL1 pf1 bytes ahead into L1.
template <int kLines, bool kL1>
void rows_bf16_unpacked(const float* x, const float* xp, const WeightMatrix& w, int64_t r0, int64_t r1, float* y,
                        int64_t pf2, int64_t pf1) {
  const int64_t cols = w.cols;
  const int64_t c32 = cols / 32 * 32;
  const __m512i zero = _mm512_setzero_si512();
  // Row r's 16 partial sums (its four accumulators added).
  auto row_sums = [&](int64_t r) {
    const uint16_t* wr = static_cast<const uint16_t*>(w.data) + size_t(r) * size_t(cols);
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t c = 0;
    for (; c + 64 <= c32; c += 64) {
      if constexpr (kLines > 0) {
        const char* at = reinterpret_cast<const char*>(wr + c);
        _mm_prefetch(at + pf2, _MM_HINT_T1);
        if constexpr (kLines == 1) _mm_prefetch(at + pf2 + 64, _MM_HINT_T1);
        if constexpr (kL1) _mm_prefetch(at + pf1, _MM_HINT_T0);
        if constexpr (kL1 && kLines == 1) _mm_prefetch(at + pf1 + 64, _MM_HINT_T0);
      }
      const __m512i v0 = _mm512_loadu_si512(wr + c), v1 = _mm512_loadu_si512(wr + c + 32);
      a0 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_unpacklo_epi16(zero, v0)), _mm512_loadu_ps(xp + c), a0);
      a1 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_unpackhi_epi16(zero, v0)), _mm512_loadu_ps(xp + c + 16), a1);
      a2 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_unpacklo_epi16(zero, v1)), _mm512_loadu_ps(xp + c + 32), a2);
      a3 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_unpackhi_epi16(zero, v1)), _mm512_loadu_ps(xp + c + 48), a3);
    }
    for (; c < c32; c += 32) {
      const __m512i v0 = _mm512_loadu_si512(wr + c);
      a0 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_unpacklo_epi16(zero, v0)), _mm512_loadu_ps(xp + c), a0);
      a1 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_unpackhi_epi16(zero, v0)), _mm512_loadu_ps(xp + c + 16), a1);
    }
    if (c < cols) {  // tail: up to 31 values, the plain way
      for (; c + 16 <= cols; c += 16) a2 = _mm512_fmadd_ps(load_w<DType::BF16>(wr, c), _mm512_loadu_ps(x + c), a2);
      if (c < cols) {
        __mmask16 m = static_cast<__mmask16>((1u << (cols - c)) - 1);
        a3 = _mm512_fmadd_ps(load_w_tail<DType::BF16>(wr, c, m), _mm512_maskz_loadu_ps(m, x + c), a3);
      }
    }
    return _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3));
  };
  for (int64_t r = r0; r < r1; ++r) y[r] = _mm512_reduce_add_ps(row_sums(r));
}

inline void row_stream_bf16(const float* x, const WeightMatrix& w, int64_t r0, int64_t r1, float* y) {
  const int64_t c32 = w.cols / 32 * 32;
  // On the stack for rows up to 4096 columns (every column-blocked segment): x stays in
  // L1 next to the stack the thread is using anyway.
  alignas(64) float xp_stack[4096];
  std::vector<float> xp_heap;
  float* xp = xp_stack;
  if (c32 > 4096) {
    xp_heap.resize(size_t(c32));
    xp = xp_heap.data();
  }
  for (int64_t c = 0; c < c32; c += 32)
    for (int k = 0; k < 4; ++k)      // 128-bit lane k holds elements c+8k .. c+8k+7
      for (int i = 0; i < 4; ++i) {
        xp[c + 4 * k + i] = x[c + 8 * k + i];           // "lo" vector, lane k
        xp[c + 16 + 4 * k + i] = x[c + 8 * k + 4 + i];  // "hi" vector, lane k
      }
  const WeightPrefetch& p = weight_prefetch();
  const bool l1 = p.l1_bytes > 0;
  if (p.l2_bytes == 0)
    rows_bf16_unpacked<0, false>(x, xp, w, r0, r1, y, 0, 0);
  else if (p.lines == 1 && l1)
    rows_bf16_unpacked<1, true>(x, xp, w, r0, r1, y, p.l2_bytes, p.l1_bytes);
  else if (p.lines == 1)
    rows_bf16_unpacked<1, false>(x, xp, w, r0, r1, y, p.l2_bytes, 0);
  else if (l1)
    rows_bf16_unpacked<2, true>(x, xp, w, r0, r1, y, p.l2_bytes, p.l1_bytes);
  else
    rows_bf16_unpacked<2, false>(x, xp, w, r0, r1, y, p.l2_bytes, 0);
}

// Prefill over float weights (f32, bf16, f16) for many tokens: a block of 16 rows is
// widened to f32 and transposed once (pack[16 k + i] = w[r + i][k]), and then every
// token's 16 outputs are one vector: acc[t] += pack[k] * x[t][k], the x value broadcast
// from memory, k = 0 .. cols-1, 12 tokens at a time. Why: the 2-row x 4-token tiles above
// widen each weight vector for 4 FMAs only and end every (row, token) with a horizontal
// sum; on the Emerald Rapids VM, whose two FMA ports also run the widening shifts and the
// shuffles, they ran a 4864 x 896 bf16 GEMM of 512 tokens at 50 GFLOP/s on one core (29%
// of its FMA peak) and 84-102 on two; packed, 106-110 and 215 (61-63%). Each FMA needs
// one load (the broadcast x; the pack's vector is shared by 12 tokens) and no other op;
// the widening and the transpose are paid once per block for all tokens. Measured on
// Intel only; S1_PACKED_PREFILL=0 keeps the tiles. The summation order differs from the
// tiles' (one chain per output over all k): results move by f32 rounding.
constexpr int kPackedMinTokens = 32;  // below it the packing is not paid back
constexpr int kPackedTokens = 12;     // tokens a group: 12 pointers into x and the pack's fit the registers

template <DType D>
void pack16(const WeightMatrix& w, int64_t r, int rows, float* tmp, float* pack) {
  const int64_t cols = w.cols;
  // Widen the rows into tmp (row-major, 16 x cols; missing rows zero), then gather columns.
  for (int i = 0; i < 16; ++i) {
    float* t = tmp + int64_t(i) * cols;
    if (i >= rows) {
      std::fill(t, t + cols, 0.0f);
      continue;
    }
    const void* wr = row_ptr<D>(w, r + i);
    int64_t c = 0;
    for (; c + 16 <= cols; c += 16) _mm512_storeu_ps(t + c, load_w<D>(wr, c));
    if (c < cols) {
      const __mmask16 m = static_cast<__mmask16>((1u << (cols - c)) - 1);
      _mm512_mask_storeu_ps(t + c, m, load_w_tail<D>(wr, c, m));
    }
  }
  const __m512i idx = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                         _mm512_set1_epi32(static_cast<int>(cols)));
  for (int64_t k = 0; k < cols; ++k) _mm512_store_ps(pack + 16 * k, _mm512_i32gather_ps(idx, tmp + k, 4));
}

template <int T>
inline void packed_tokens(const float* pack, int64_t cols, const float* x, int64_t xstride, float* y, int64_t ystride,
                          __mmask16 rows) {
  // The pragmas: at -O2 GCC keeps a long loop over t rolled, and the accumulators in
  // memory. With 24 tokens the 24 pointers into x did not fit the registers (spills in
  // the inner loop: 155-169 GFLOP/s on two cores against 215 with 12).
  __m512 acc[T];
#pragma GCC unroll 32
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t k = 0; k < cols; ++k) {
    const __m512 wv = _mm512_load_ps(pack + 16 * k);
#pragma GCC unroll 32
    for (int t = 0; t < T; ++t) acc[t] = _mm512_fmadd_ps(wv, _mm512_set1_ps(x[t * xstride + k]), acc[t]);
  }
#pragma GCC unroll 32
  for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + t * ystride, rows, acc[t]);
}

template <DType D>
void rows_packed(const float* x, int n, int64_t xstride, const WeightMatrix& w, int64_t r0, int64_t r1, float* y,
                 int64_t ystride) {
  const int64_t cols = w.cols;
  thread_local std::vector<float> tmp, pack_store;
  tmp.resize(size_t(16 * cols));
  pack_store.resize(size_t(16 * cols + 16));
  // 64-byte aligned: every k's vector is one aligned load
  float* pack = pack_store.data() + (16 - (reinterpret_cast<uintptr_t>(pack_store.data()) / 4) % 16) % 16;
  for (int64_t r = r0; r < r1; r += 16) {
    const int rows = static_cast<int>(std::min<int64_t>(16, r1 - r));
    const __mmask16 m = static_cast<__mmask16>((1u << rows) - 1);
    pack16<D>(w, r, rows, tmp.data(), pack);
    int t = 0;
    for (; t + kPackedTokens <= n; t += kPackedTokens)
      packed_tokens<kPackedTokens>(pack, cols, x + t * xstride, xstride, y + t * ystride + r, ystride, m);
    for (; t + 4 <= n; t += 4) packed_tokens<4>(pack, cols, x + t * xstride, xstride, y + t * ystride + r, ystride, m);
    for (; t < n; ++t) packed_tokens<1>(pack, cols, x + t * xstride, xstride, y + t * ystride + r, ystride, m);
  }
}

template <DType D>
void rows(const float* x, int n, int64_t xstride, const WeightMatrix& w, int64_t r0, int64_t r1, float* y,
          int64_t ystride) {
  if constexpr (D == DType::BF16)
    if (n == 1) return row_stream_bf16(x, w, r0, r1, y);  // +11% GB/s over row_stream (bench_decode_ab)
  // One token: one contiguous weight stream per thread (bench_decode_ab compares).
  if (n == 1) return row_stream<D>(x, w, r0, r1, y);
  if (n >= kPackedMinTokens && packed_prefill()) return rows_packed<D>(x, n, xstride, w, r0, r1, y, ystride);

  const auto tl = []<int R, int T>(const float* xt, int64_t xs, const WeightMatrix& wm, int64_t r, float* yt,
                                    int64_t ys) { tile<D, R, T>(xt, xs, wm, r, yt, ys); };
  // Prefill: 4 tokens x 2 rows (8 accumulators). Decode: 1 token x 4 rows, so four
  // independent FMA chains hide the FMA latency while the weights stream in.
  int t = walk_token_groups(tl, x, n, xstride, w, r0, r1, y, ystride);
  walk_single_tokens(tl, t, x, n, xstride, w, r0, r1, y, ystride);
}

}  // namespace

// The single-row streaming variant for one token (kept beside the tiles so that the
// benchmark can compare the two on this machine).
void matmul_rows_avx512_stream(const float* x, const WeightMatrix& w, int64_t r0, int64_t r1, float* y) {
  switch (w.dtype) {
    case DType::F32: return row_stream<DType::F32>(x, w, r0, r1, y);
    case DType::BF16: return row_stream<DType::BF16>(x, w, r0, r1, y);
    case DType::F16: return row_stream<DType::F16>(x, w, r0, r1, y);
    default: return matmul_rows_avx512(x, 1, w.cols, w, r0, r1, y, w.rows);
  }
}

void matmul_rows_avx512(const float* x, int n, int64_t xstride, const WeightMatrix& w, int64_t r0, int64_t r1,
                        float* y, int64_t ystride) {
  switch (w.dtype) {
    case DType::F32: return rows<DType::F32>(x, n, xstride, w, r0, r1, y, ystride);
    case DType::BF16: return rows<DType::BF16>(x, n, xstride, w, r0, r1, y, ystride);
    case DType::F16: return rows<DType::F16>(x, n, xstride, w, r0, r1, y, ystride);
    case DType::Q8_0: return rows_q8(x, n, xstride, w, r0, r1, y, ystride);
    case DType::Q4_0:
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1:
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K: return matmul_rows_quant_avx512(x, n, xstride, w, r0, r1, y, ystride);  // matmul_quant_avx512.cpp
    default: return matmul_rows_scalar(x, n, xstride, w, r0, r1, y, ystride);
  }
}

}  // namespace s1::cpu
