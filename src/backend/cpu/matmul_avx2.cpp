// AVX2 + FMA matmul tiles (the baseline SIMD path); same tiling as the AVX-512 file.
// Compiled with -mavx2 -mfma -mf16c.
#include <immintrin.h>

#include "backend/cpu/quant.h"
#include "backend/cpu/quant_blocks.h"
#include "backend/cpu/simd_kernels.h"
#include "backend/cpu/tile_walk.h"

namespace s1::cpu {
namespace {

template <DType D>
inline __m256 load_w(const void* base, int64_t i) {
  if constexpr (D == DType::F32) {
    return _mm256_loadu_ps(static_cast<const float*>(base) + i);
  } else if constexpr (D == DType::BF16) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(base) + i));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  } else {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(base) + i));
    return _mm256_cvtph_ps(h);
  }
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <DType D>
inline const void* row_ptr(const WeightMatrix& w, int64_t r) {
  return static_cast<const uint8_t*>(w.data) + size_t(r) * size_t(w.cols) * dtype_size(D);
}

template <DType D>
inline float elem(const void* base, int64_t i) {
  if constexpr (D == DType::F32) return static_cast<const float*>(base)[i];
  else if constexpr (D == DType::BF16) {
    // local conversion rather than core's inline bf16_to_f32 (see simd_kernels.h on ODR)
    uint32_t u = uint32_t(static_cast<const uint16_t*>(base)[i]) << 16;
    float f;
    __builtin_memcpy(&f, &u, 4);
    return f;
  }
  else return f16_to_f32(static_cast<const uint16_t*>(base)[i]);
}

template <DType D, int ROWS, int TOKS>
inline void tile(const float* x, int64_t xstride, const WeightMatrix& w, int64_t r, float* y, int64_t ystride) {
  __m256 acc[ROWS][TOKS];
  for (int i = 0; i < ROWS; ++i)
    for (int t = 0; t < TOKS; ++t) acc[i][t] = _mm256_setzero_ps();
  const void* wr[ROWS];
  for (int i = 0; i < ROWS; ++i) wr[i] = row_ptr<D>(w, r + i);
  const int64_t cols = w.cols;
  int64_t c = 0;
  for (; c + 8 <= cols; c += 8) {
    __m256 xv[TOKS];
    for (int t = 0; t < TOKS; ++t) xv[t] = _mm256_loadu_ps(x + t * xstride + c);
    for (int i = 0; i < ROWS; ++i) {
      __m256 wv = load_w<D>(wr[i], c);
      for (int t = 0; t < TOKS; ++t) acc[i][t] = _mm256_fmadd_ps(wv, xv[t], acc[i][t]);
    }
  }
  for (int i = 0; i < ROWS; ++i)
    for (int t = 0; t < TOKS; ++t) {
      float s = hsum(acc[i][t]);
      for (int64_t cc = c; cc < cols; ++cc) s += elem<D>(wr[i], cc) * x[t * xstride + cc];
      y[t * ystride + r + i] = s;
    }
}

// Q8_0 (see matmul_avx512.cpp): four 8-lane quarters per 32-weight block.
template <int ROWS, int TOKS>
inline void tile_q8(const float* x, int64_t xstride, const WeightMatrix& w, int64_t r, float* y, int64_t ystride) {
  __m256 acc[ROWS][TOKS];
  for (int i = 0; i < ROWS; ++i)
    for (int t = 0; t < TOKS; ++t) acc[i][t] = _mm256_setzero_ps();
  const int64_t nb = w.cols / 32;
  const BlockQ8_0* wr[ROWS];
  for (int i = 0; i < ROWS; ++i) wr[i] = static_cast<const BlockQ8_0*>(w.data) + (r + i) * nb;
  for (int64_t b = 0; b < nb; ++b) {
    for (int i = 0; i < ROWS; ++i) {
      const BlockQ8_0& blk = wr[i][b];
      const __m256 d = _mm256_set1_ps(_cvtsh_ss(blk.d));
      for (int k = 0; k < 4; ++k) {
        const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk.q + 8 * k));
        const __m256 wv = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)));
        for (int t = 0; t < TOKS; ++t)
          acc[i][t] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + t * xstride + b * 32 + 8 * k), acc[i][t]);
      }
    }
  }
  for (int i = 0; i < ROWS; ++i)
    for (int t = 0; t < TOKS; ++t) y[t * ystride + r + i] = hsum(acc[i][t]);
}

void rows_q8(const float* x, int n, int64_t xstride, const WeightMatrix& w, int64_t r0, int64_t r1, float* y,
             int64_t ystride) {
  const auto tl = []<int R, int T>(const float* xt, int64_t xs, const WeightMatrix& wm, int64_t r, float* yt,
                                    int64_t ys) { tile_q8<R, T>(xt, xs, wm, r, yt, ys); };
  int t = walk_token_groups(tl, x, n, xstride, w, r0, r1, y, ystride);
  walk_single_tokens(tl, t, x, n, xstride, w, r0, r1, y, ystride);
}

// One token: rows one after another, one contiguous weight stream per thread, four
// accumulators over the columns (see row_stream in matmul_avx512.cpp).
template <DType D>
inline void row_stream(const float* x, const WeightMatrix& w, int64_t r0, int64_t r1, float* y) {
  const int64_t cols = w.cols;
  for (int64_t r = r0; r < r1; ++r) {
    const void* wr = row_ptr<D>(w, r);
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t c = 0;
    for (; c + 32 <= cols; c += 32) {
      _mm_prefetch(static_cast<const char*>(wr) + (c + 512) * dtype_size(D), _MM_HINT_T0);
      a0 = _mm256_fmadd_ps(load_w<D>(wr, c), _mm256_loadu_ps(x + c), a0);
      a1 = _mm256_fmadd_ps(load_w<D>(wr, c + 8), _mm256_loadu_ps(x + c + 8), a1);
      a2 = _mm256_fmadd_ps(load_w<D>(wr, c + 16), _mm256_loadu_ps(x + c + 16), a2);
      a3 = _mm256_fmadd_ps(load_w<D>(wr, c + 24), _mm256_loadu_ps(x + c + 24), a3);
    }
    for (; c + 8 <= cols; c += 8) a0 = _mm256_fmadd_ps(load_w<D>(wr, c), _mm256_loadu_ps(x + c), a0);
    float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; c < cols; ++c) s += elem<D>(wr, c) * x[c];
    y[r] = s;
  }
}

template <DType D>
void rows(const float* x, int n, int64_t xstride, const WeightMatrix& w, int64_t r0, int64_t r1, float* y,
          int64_t ystride) {
  if (n == 1) return row_stream<D>(x, w, r0, r1, y);
  const auto tl = []<int R, int T>(const float* xt, int64_t xs, const WeightMatrix& wm, int64_t r, float* yt,
                                    int64_t ys) { tile<D, R, T>(xt, xs, wm, r, yt, ys); };
  int t = walk_token_groups(tl, x, n, xstride, w, r0, r1, y, ystride);
  walk_single_tokens(tl, t, x, n, xstride, w, r0, r1, y, ystride);
}

}  // namespace

void matmul_rows_avx2(const float* x, int n, int64_t xstride, const WeightMatrix& w, int64_t r0, int64_t r1,
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
    case DType::Q6_K: return matmul_rows_quant_avx2(x, n, xstride, w, r0, r1, y, ystride);  // matmul_quant_avx2.cpp
    default: return matmul_rows_scalar(x, n, xstride, w, r0, r1, y, ystride);
  }
}

}  // namespace s1::cpu
