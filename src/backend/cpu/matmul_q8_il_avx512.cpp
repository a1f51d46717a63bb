// Q8_0_IL weights (q8_interleaved.h) x int16 activations split into two signed bytes,
// with AVX512-VNNI vpdpbusd. Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni.
//
// A quad of rows at a time: the four rows share each load of the activations (with one
// row, two loads of activations per load of weights bound the kernel at ~39 GB/s of
// weights per core in L1; with four, ~50). Every (row, token) pair is summed in the same
// order whatever the number of tokens, so prefill and decode agree bit for bit.
#include <immintrin.h>

#include <cstring>

#include "backend/cpu/q8_interleaved.h"
#include "backend/cpu/simd_kernels.h"

namespace s1::cpu {
namespace {

// One quad of rows (at `quad`, in the layout of q8_interleaved.h) times token t.
// pf: weight_prefetch_bytes() (simd_kernels.h), every other line of the stream.
inline void quad_tile(const Q8ILInput& in, int t, int64_t col0, int64_t nb, const uint8_t* quad, float* y,
                      int64_t pf) {
  constexpr int R = int(kQ8QuadRows);
  const int8_t* xh = in.hi + t * in.cols + col0;
  const int8_t* xl = in.lo + t * in.cols + col0;
  const float* xd = in.d + (t * in.cols + col0) / 32;
  const float* xc = in.cx + (t * in.cols + col0) / 32;
  __m512 acc[R], corr[R];
  for (int r = 0; r < R; ++r) acc[r] = corr[r] = _mm512_setzero_ps();
  const uint8_t* p = quad;
  for (int64_t g = 0; g < nb; g += 16) {
    const int n = int(nb - g < 16 ? nb - g : 16);
    const int64_t chunk = 4 * n;  // one row's bytes of a chunk k
    const __mmask16 m = __mmask16((1u << n) - 1);
    __m512i h[R], l[R];
    for (int r = 0; r < R; ++r) h[r] = l[r] = _mm512_setzero_si512();
    if (n == 16) {
      for (int k = 0; k < 8; ++k) {
        if (pf) {  // this k's four lines of weights are 256 bytes
          const char* at = reinterpret_cast<const char*>(p + 2 * R * 16 + 64 * R * k) + pf;
          _mm_prefetch(at, _MM_HINT_T1);
          _mm_prefetch(at + 128, _MM_HINT_T1);
        }
        const __m512i a = _mm512_loadu_si512(xh + 64 * k), b = _mm512_loadu_si512(xl + 64 * k);
        for (int r = 0; r < R; ++r) {
          const __m512i w = _mm512_loadu_si512(p + 2 * R * 16 + 64 * (R * k + r));
          h[r] = _mm512_dpbusd_epi32(h[r], w, a);
          l[r] = _mm512_dpbusd_epi32(l[r], w, b);
        }
      }
    } else {  // the row's last, shorter group: n lanes
      for (int k = 0; k < 8; ++k) {
        const __m512i a = _mm512_maskz_loadu_epi32(m, xh + 4 * n * k), b = _mm512_maskz_loadu_epi32(m, xl + 4 * n * k);
        for (int r = 0; r < R; ++r) {
          const __m512i w = _mm512_maskz_loadu_epi32(m, p + 2 * R * n + chunk * (R * k + r));
          h[r] = _mm512_dpbusd_epi32(h[r], w, a);
          l[r] = _mm512_dpbusd_epi32(l[r], w, b);
        }
      }
    }
    const __m512 dx = _mm512_maskz_loadu_ps(m, xd + g), cx = _mm512_maskz_loadu_ps(m, xc + g);
    for (int r = 0; r < R; ++r) {
      const __m512 dw = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p + 2 * n * r));
      const __m512i dot = _mm512_add_epi32(_mm512_slli_epi32(h[r], 8), l[r]);  // 256 hi + lo, per block
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(dw, dx), acc[r]);
      corr[r] = _mm512_fmadd_ps(dw, cx, corr[r]);
    }
    p += R * 34 * n;
    xh += 32 * n;
    xl += 32 * n;
  }
  for (int r = 0; r < R; ++r) y[r] = _mm512_reduce_add_ps(_mm512_add_ps(acc[r], corr[r]));
}

}  // namespace

void prepare_q8_il_input_avx512(const float* x, int n, int64_t cols, Q8ILInput& in) {
  in.resize(n, cols);
  const int64_t nb = cols / 32;
  const __m512i k128 = _mm512_set1_epi32(128);
  for (int t = 0; t < n; ++t) {
    const float* xt = x + int64_t(t) * cols;
    int8_t* hi = in.hi + int64_t(t) * cols;
    int8_t* lo = in.lo + int64_t(t) * cols;
    for (int64_t g = 0; g < nb; g += 16) {
      const int64_t ng = nb - g < 16 ? nb - g : 16;
      for (int64_t i = 0; i < ng; ++i) {
        const float* v = xt + 32 * (g + i);
        const __m512 v0 = _mm512_loadu_ps(v), v1 = _mm512_loadu_ps(v + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        const float d = amax / 32639.0f;
        const __m512 id = _mm512_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
        const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, id)), q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, id));
        const __m512i h0 = _mm512_srai_epi32(_mm512_add_epi32(q0, k128), 8);
        const __m512i h1 = _mm512_srai_epi32(_mm512_add_epi32(q1, k128), 8);
        const __m512i l0 = _mm512_sub_epi32(q0, _mm512_slli_epi32(h0, 8));
        const __m512i l1 = _mm512_sub_epi32(q1, _mm512_slli_epi32(h1, 8));
        alignas(16) int8_t bh[32], bl[32];
        _mm_store_si128(reinterpret_cast<__m128i*>(bh), _mm512_cvtepi32_epi8(h0));
        _mm_store_si128(reinterpret_cast<__m128i*>(bh + 16), _mm512_cvtepi32_epi8(h1));
        _mm_store_si128(reinterpret_cast<__m128i*>(bl), _mm512_cvtepi32_epi8(l0));
        _mm_store_si128(reinterpret_cast<__m128i*>(bl + 16), _mm512_cvtepi32_epi8(l1));
        for (int k = 0; k < 8; ++k) {  // values 4k..4k+3 of block i go to chunk k's lane i
          const size_t at = size_t(32 * g + 4 * ng * k + 4 * i);
          std::memcpy(hi + at, bh + 4 * k, 4);
          std::memcpy(lo + at, bl + 4 * k, 4);
        }
        in.d[t * nb + g + i] = d;
        in.cx[t * nb + g + i] = -128.0f * d * float(_mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1)));
      }
    }
  }
}

void matmul_rows_q8_il(const Q8ILInput& in, int64_t col0, int n, const WeightMatrix& w, int64_t r0, int64_t r1,
                       float* y, int64_t ystride) {
  const int64_t nb = w.cols / 32;
  const size_t quad_bytes = kQ8QuadRows * w.row_bytes(w.cols);
  const auto* base = static_cast<const uint8_t*>(w.data);
  const int64_t pf = n == 1 ? weight_prefetch_bytes() : 0;  // decode streams; prefill rereads its rows from L1
  // Token by token over the caller's rows (16 at a time for prefill, CpuBackend::run_jobs),
  // which stay in L1 while every token reads them.
  for (int t = 0; t < n; ++t)
    for (int64_t r = r0; r < r1; r += kQ8QuadRows)
      quad_tile(in, t, col0, nb, base + size_t(r / kQ8QuadRows) * quad_bytes, y + t * ystride + r, pf);
}

}  // namespace s1::cpu
