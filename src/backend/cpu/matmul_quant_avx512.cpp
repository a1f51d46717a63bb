// AVX-512 matmul of the GGUF block formats (quant_blocks.h). Groups of 4 tokens
// (prefill): weights dequantised in registers, 32 at a time, to f32 and multiplied with
// the f32 activations (the only error is the weights' own); each decoded vector feeds 4
// tokens. Fewer tokens (decode): integer dot products with int16 activations
// (quant_idot_impl.h), which do a fraction of the per-weight work. A format supplies
//   State            what one block contributes beyond its bytes (scales as floats)
//   prepare(blk, s)  once per block and row
//   decode(s, k, w)  the 32 weights of chunk k of the block into w[0] (lanes 0..15), w[1]
// and the tile below does the FMAs: ROWS weight rows x TOKS token rows of accumulators.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mfma -mf16c.
#include <immintrin.h>

#include <cstdlib>
#include <cstring>

#include "backend/cpu/quant_blocks.h"
#include "backend/cpu/tile_walk.h"
#include "backend/cpu/quant_idot_impl.h"

namespace s1::cpu {
namespace {

// Integer dot products (quant_idot_impl.h): 32 int16 pairs per vpmaddwd, byte masks
// from AVX-512BW.
struct P512 {
  using Acc = __m512;
  static Acc zero() { return _mm512_setzero_ps(); }
  static float hsum(Acc a) { return _mm512_reduce_add_ps(a); }
  template <bool kTwo>
  static Acc chunk(Acc acc, __m256i q, const int16_t* x, float sa, float sb) {
    const __m512i d = _mm512_madd_epi16(_mm512_cvtepu8_epi16(q), _mm512_loadu_si512(x));
    __m512 s = _mm512_set1_ps(sa);
    if constexpr (kTwo)  // int32 lanes 8..15 hold values 16..31
      s = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(s), _mm256_castps_pd(_mm256_set1_ps(sb)), 1));
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), s, acc);
  }
  static __m256i bits32(uint32_t qh) { return _mm256_maskz_mov_epi8(__mmask32(qh), _mm256_set1_epi8(16)); }
  static __m256i bitk(__m256i qh, int k) {
    return _mm256_maskz_mov_epi8(_mm256_test_epi8_mask(qh, _mm256_set1_epi8(char(1 << k))), _mm256_set1_epi8(16));
  }
};

// S1_QUANT_DOT=f32 keeps decode on the f32 path (f32 activations), to compare.
bool int_decode() {
  static const bool on = [] {
    const char* e = std::getenv("S1_QUANT_DOT");
    return !(e && std::strcmp(e, "f32") == 0);
  }();
  return on;
}

inline __m512i load16_u8(const uint8_t* p) {
  return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

struct FQ4_0 {
  static constexpr int kBlock = 32, kBytes = 18;
  struct State {
    const uint8_t* qs;
    __m512 d, off;
  };
  static void prepare(const uint8_t* p, State& s) {
    const auto* b = reinterpret_cast<const BlockQ4_0*>(p);
    const float d = _cvtsh_ss(b->d);
    s.qs = b->qs;
    s.d = _mm512_set1_ps(d);
    s.off = _mm512_set1_ps(-8.0f * d);
  }
  static void decode(const State& s, int, __m512* w) {
    const __m512i v = load16_u8(s.qs);
    w[0] = _mm512_fmadd_ps(s.d, _mm512_cvtepi32_ps(_mm512_and_si512(v, _mm512_set1_epi32(15))), s.off);
    w[1] = _mm512_fmadd_ps(s.d, _mm512_cvtepi32_ps(_mm512_srli_epi32(v, 4)), s.off);
  }
};

struct FQ4_1 {
  static constexpr int kBlock = 32, kBytes = 20;
  struct State {
    const uint8_t* qs;
    __m512 d, m;
  };
  static void prepare(const uint8_t* p, State& s) {
    const auto* b = reinterpret_cast<const BlockQ4_1*>(p);
    s.qs = b->qs;
    s.d = _mm512_set1_ps(_cvtsh_ss(b->d));
    s.m = _mm512_set1_ps(_cvtsh_ss(b->m));
  }
  static void decode(const State& s, int, __m512* w) {
    const __m512i v = load16_u8(s.qs);
    w[0] = _mm512_fmadd_ps(s.d, _mm512_cvtepi32_ps(_mm512_and_si512(v, _mm512_set1_epi32(15))), s.m);
    w[1] = _mm512_fmadd_ps(s.d, _mm512_cvtepi32_ps(_mm512_srli_epi32(v, 4)), s.m);
  }
};

// Q5_0 / Q5_1: the fifth bit of element j is bit j of qh: a 16-bit lane mask per half.
template <bool kMin>
struct FQ5 {
  static constexpr int kBlock = 32, kBytes = kMin ? 24 : 22;
  struct State {
    const uint8_t* qs;
    uint32_t qh;
    __m512 d, off;
  };
  static void prepare(const uint8_t* p, State& s) {
    if constexpr (kMin) {
      const auto* b = reinterpret_cast<const BlockQ5_1*>(p);
      s.qs = b->qs;
      __builtin_memcpy(&s.qh, b->qh, 4);
      s.d = _mm512_set1_ps(_cvtsh_ss(b->d));
      s.off = _mm512_set1_ps(_cvtsh_ss(b->m));
    } else {
      const auto* b = reinterpret_cast<const BlockQ5_0*>(p);
      const float d = _cvtsh_ss(b->d);
      s.qs = b->qs;
      __builtin_memcpy(&s.qh, b->qh, 4);
      s.d = _mm512_set1_ps(d);
      s.off = _mm512_set1_ps(-16.0f * d);
    }
  }
  static void decode(const State& s, int, __m512* w) {
    const __m512i v = load16_u8(s.qs), h = _mm512_set1_epi32(16);
    __m512i q0 = _mm512_and_si512(v, _mm512_set1_epi32(15));
    __m512i q1 = _mm512_srli_epi32(v, 4);
    q0 = _mm512_mask_or_epi32(q0, __mmask16(s.qh), q0, h);
    q1 = _mm512_mask_or_epi32(q1, __mmask16(s.qh >> 16), q1, h);
    w[0] = _mm512_fmadd_ps(s.d, _mm512_cvtepi32_ps(q0), s.off);
    w[1] = _mm512_fmadd_ps(s.d, _mm512_cvtepi32_ps(q1), s.off);
  }
};

// Q4_K / Q5_K: eight 32-weight sub-blocks; chunk k is sub-block k: nibbles of
// qs[32 (k/2) ..], low for even k, high for odd; Q5_K adds bit k of qh[l].
template <bool kHigh>
struct FK45 {
  static constexpr int kBlock = 256, kBytes = kHigh ? 176 : 144;
  struct State {
    const uint8_t* qs;
    __m256i qh;
    float scale[8], min[8];
  };
  static void prepare(const uint8_t* p, State& s) {
    const auto* b = reinterpret_cast<const BlockQ4_K*>(p);  // Q5_K shares the first 16 bytes
    k_scales_f32(b, s.scale, s.min);
    if constexpr (kHigh) {
      const auto* b5 = reinterpret_cast<const BlockQ5_K*>(p);
      s.qs = b5->qs;
      s.qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b5->qh));
    } else {
      s.qs = b->qs;
    }
  }
  static void decode(const State& s, int k, __m512* w) {
    const uint8_t* q = s.qs + 32 * (k >> 1);
    __m512i v0 = load16_u8(q), v1 = load16_u8(q + 16);
    const __m512i m15 = _mm512_set1_epi32(15);
    if (k & 1) {
      v0 = _mm512_srli_epi32(v0, 4);
      v1 = _mm512_srli_epi32(v1, 4);
    } else {
      v0 = _mm512_and_si512(v0, m15);
      v1 = _mm512_and_si512(v1, m15);
    }
    if constexpr (kHigh) {
      const __mmask32 bits = _mm256_test_epi8_mask(s.qh, _mm256_set1_epi8(char(1 << k)));
      const __m512i h = _mm512_set1_epi32(16);
      v0 = _mm512_mask_or_epi32(v0, __mmask16(bits), v0, h);
      v1 = _mm512_mask_or_epi32(v1, __mmask16(bits >> 16), v1, h);
    }
    const __m512 sc = _mm512_set1_ps(s.scale[k]), mn = _mm512_set1_ps(s.min[k]);
    w[0] = _mm512_fmsub_ps(sc, _mm512_cvtepi32_ps(v0), mn);
    w[1] = _mm512_fmsub_ps(sc, _mm512_cvtepi32_ps(v1), mn);
  }
};

// Q6_K: chunk k = quarter k%4 of half k/4; sixteen int8 scales, one per 16 weights.
struct FQ6_K {
  static constexpr int kBlock = 256, kBytes = 210;
  struct State {
    const uint8_t *ql, *qh;
    float scale[16];
  };
  static void prepare(const uint8_t* p, State& s) {
    const auto* b = reinterpret_cast<const BlockQ6_K*>(p);
    const float d = _cvtsh_ss(b->d);
    for (int i = 0; i < 16; ++i) s.scale[i] = d * float(b->scales[i]);
    s.ql = b->ql;
    s.qh = b->qh;
  }
  static void decode(const State& s, int k, __m512* w) {
    const int h = k >> 2, kk = k & 3;
    const uint8_t* ql = s.ql + 64 * h + 32 * (kk & 1);
    const uint8_t* qh = s.qh + 32 * h;
    const __m512i m15 = _mm512_set1_epi32(15), m3 = _mm512_set1_epi32(3), c32 = _mm512_set1_epi32(32);
    for (int half = 0; half < 2; ++half) {
      __m512i lo = load16_u8(ql + 16 * half);
      lo = kk >= 2 ? _mm512_srli_epi32(lo, 4) : _mm512_and_si512(lo, m15);
      __m512i hi = _mm512_and_si512(_mm512_srl_epi32(load16_u8(qh + 16 * half), _mm_cvtsi32_si128(2 * kk)), m3);
      const __m512i q = _mm512_sub_epi32(_mm512_or_si512(lo, _mm512_slli_epi32(hi, 4)), c32);
      w[half] = _mm512_mul_ps(_mm512_set1_ps(s.scale[8 * h + 2 * kk + half]), _mm512_cvtepi32_ps(q));
    }
  }
};

template <typename F, int ROWS, int TOKS>
inline void tile(const float* x, int64_t xstride, const WeightMatrix& w, int64_t r, float* y, int64_t ystride) {
  __m512 acc[ROWS][TOKS];
  for (int i = 0; i < ROWS; ++i)
    for (int t = 0; t < TOKS; ++t) acc[i][t] = _mm512_setzero_ps();
  const int64_t nb = w.cols / F::kBlock;
  const uint8_t* wr[ROWS];
  for (int i = 0; i < ROWS; ++i) wr[i] = static_cast<const uint8_t*>(w.data) + size_t(r + i) * size_t(nb) * F::kBytes;
  typename F::State st[ROWS];
  for (int64_t b = 0; b < nb; ++b) {
    for (int i = 0; i < ROWS; ++i) F::prepare(wr[i] + b * F::kBytes, st[i]);
#pragma GCC unroll 8
    for (int k = 0; k < F::kBlock / 32; ++k) {
      const float* xb = x + b * F::kBlock + 32 * k;
      __m512 x0[TOKS], x1[TOKS];
      for (int t = 0; t < TOKS; ++t) {
        x0[t] = _mm512_loadu_ps(xb + t * xstride);
        x1[t] = _mm512_loadu_ps(xb + t * xstride + 16);
      }
      for (int i = 0; i < ROWS; ++i) {
        __m512 wv[2];
        F::decode(st[i], k, wv);
        for (int t = 0; t < TOKS; ++t) acc[i][t] = _mm512_fmadd_ps(wv[1], x1[t], _mm512_fmadd_ps(wv[0], x0[t], acc[i][t]));
      }
    }
  }
  for (int i = 0; i < ROWS; ++i)
    for (int t = 0; t < TOKS; ++t) y[t * ystride + r + i] = _mm512_reduce_add_ps(acc[i][t]);
}

template <typename F>
void rows(const float* x, int n, int64_t xstride, const WeightMatrix& w, int64_t r0, int64_t r1, float* y,
          int64_t ystride) {
  const auto tl = []<int R, int T>(const float* xt, int64_t xs, const WeightMatrix& wm, int64_t r, float* yt,
                                    int64_t ys) { tile<F, R, T>(xt, xs, wm, r, yt, ys); };
  // Prefill: 4 tokens x 2 rows reuse every decoded weight vector 4 times. Decode:
  // 1 token x 4 rows, four independent FMA chains while the weights stream in.
  int t = walk_token_groups(tl, x, n, xstride, w, r0, r1, y, ystride);
  // Decode (and the last n % 4 prompt tokens): integer dot products.
  if (t < n && int_decode() && idot::dispatch<P512>(x + t * xstride, n - t, xstride, w, r0, r1, y + t * ystride, ystride))
    return;
  walk_single_tokens(tl, t, x, n, xstride, w, r0, r1, y, ystride);
}

}  // namespace

void matmul_rows_quant_avx512(const float* x, int n, int64_t xstride, const WeightMatrix& w, int64_t r0, int64_t r1,
                              float* y, int64_t ystride) {
  switch (w.dtype) {
    case DType::Q4_0: return rows<FQ4_0>(x, n, xstride, w, r0, r1, y, ystride);
    case DType::Q4_1: return rows<FQ4_1>(x, n, xstride, w, r0, r1, y, ystride);
    case DType::Q5_0: return rows<FQ5<false>>(x, n, xstride, w, r0, r1, y, ystride);
    case DType::Q5_1: return rows<FQ5<true>>(x, n, xstride, w, r0, r1, y, ystride);
    case DType::Q4_K: return rows<FK45<false>>(x, n, xstride, w, r0, r1, y, ystride);
    case DType::Q5_K: return rows<FK45<true>>(x, n, xstride, w, r0, r1, y, ystride);
    case DType::Q6_K: return rows<FQ6_K>(x, n, xstride, w, r0, r1, y, ystride);
    default: return matmul_rows_quant_scalar(x, n, xstride, w, r0, r1, y, ystride);
  }
}

}  // namespace s1::cpu
