// AVX2 + FMA matmul of the GGUF block formats: the same scheme as
// matmul_quant_avx512.cpp (f32 tiles for groups of 4 tokens, integer dot products with
// int16 activations below) with 8-lane vectors.
// Compiled with -mavx2 -mfma -mf16c.
#include <immintrin.h>

#include <cstdlib>
#include <cstring>

#include "backend/cpu/quant_blocks.h"
#include "backend/cpu/tile_walk.h"
#include "backend/cpu/quant_idot_impl.h"

namespace s1::cpu {
namespace {

// Integer dot products (quant_idot_impl.h) with AVX2: 16 int16 pairs per vpmaddwd.
struct PAvx2 {
  using Acc = __m256;
  static Acc zero() { return _mm256_setzero_ps(); }
  static float hsum(Acc a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  template <bool kTwo>
  static Acc chunk(Acc acc, __m256i q, const int16_t* x, float sa, float sb) {
    const __m256i d0 = _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm256_castsi256_si128(q)),
                                         _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)));
    const __m256i d1 = _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm256_extracti128_si256(q, 1)),
                                         _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 16)));
    if constexpr (kTwo) {
      acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d0), _mm256_set1_ps(sa), acc);
      return _mm256_fmadd_ps(_mm256_cvtepi32_ps(d1), _mm256_set1_ps(sb), acc);
    } else {
      return _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(d0, d1)), _mm256_set1_ps(sa), acc);
    }
  }
  static __m256i bits32(uint32_t qh) {
    // byte j <- byte j/8 of qh (shuffles stay within 128-bit lanes; each lane holds all of qh)
    const __m256i shuf = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3,
                                          3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x(int64_t(0x8040201008040201ull));
    const __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32(int(qh)), shuf);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit), _mm256_set1_epi8(16));
  }
  static __m256i bitk(__m256i qh, int k) {
    return _mm256_slli_epi16(_mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(k)), _mm256_set1_epi8(1)), 4);
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


inline __m256i load8_u8(const uint8_t* p) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

// 16 where bit i (i = lane) of `bits` is set, else 0.
inline __m256i bit16(uint32_t bits) {
  const __m256i sel = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  const __m256i m = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(int(bits & 0xff)), sel), sel);
  return _mm256_and_si256(m, _mm256_set1_epi32(16));
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Q4_0 / Q4_1 / Q5_0 / Q5_1: one 32-weight block, w = d * q + off.
template <DType D>
struct F32blk {
  static constexpr int kBlock = 32;
  static constexpr int kBytes = D == DType::Q4_0 ? 18 : D == DType::Q4_1 ? 20 : D == DType::Q5_0 ? 22 : 24;
  struct State {
    const uint8_t* qs;
    uint32_t qh;
    __m256 d, off;
  };
  static void prepare(const uint8_t* p, State& s) {
    if constexpr (D == DType::Q4_0) {
      const auto* b = reinterpret_cast<const BlockQ4_0*>(p);
      const float d = _cvtsh_ss(b->d);
      s.qs = b->qs;
      s.d = _mm256_set1_ps(d);
      s.off = _mm256_set1_ps(-8.0f * d);
    } else if constexpr (D == DType::Q4_1) {
      const auto* b = reinterpret_cast<const BlockQ4_1*>(p);
      s.qs = b->qs;
      s.d = _mm256_set1_ps(_cvtsh_ss(b->d));
      s.off = _mm256_set1_ps(_cvtsh_ss(b->m));
    } else if constexpr (D == DType::Q5_0) {
      const auto* b = reinterpret_cast<const BlockQ5_0*>(p);
      const float d = _cvtsh_ss(b->d);
      s.qs = b->qs;
      __builtin_memcpy(&s.qh, b->qh, 4);
      s.d = _mm256_set1_ps(d);
      s.off = _mm256_set1_ps(-16.0f * d);
    } else {
      const auto* b = reinterpret_cast<const BlockQ5_1*>(p);
      s.qs = b->qs;
      __builtin_memcpy(&s.qh, b->qh, 4);
      s.d = _mm256_set1_ps(_cvtsh_ss(b->d));
      s.off = _mm256_set1_ps(_cvtsh_ss(b->m));
    }
  }
  static void decode(const State& s, int, __m256* w) {
    const __m256i m15 = _mm256_set1_epi32(15);
    for (int g = 0; g < 2; ++g) {
      const __m256i v = load8_u8(s.qs + 8 * g);
      __m256i lo = _mm256_and_si256(v, m15), hi = _mm256_srli_epi32(v, 4);
      if constexpr (D == DType::Q5_0 || D == DType::Q5_1) {
        lo = _mm256_or_si256(lo, bit16(s.qh >> (8 * g)));
        hi = _mm256_or_si256(hi, bit16(s.qh >> (16 + 8 * g)));
      }
      w[g] = _mm256_fmadd_ps(s.d, _mm256_cvtepi32_ps(lo), s.off);
      w[g + 2] = _mm256_fmadd_ps(s.d, _mm256_cvtepi32_ps(hi), s.off);
    }
  }
};

template <bool kHigh>
struct FK45 {
  static constexpr int kBlock = 256, kBytes = kHigh ? 176 : 144;
  struct State {
    const uint8_t *qs, *qh;
    float scale[8], min[8];
  };
  static void prepare(const uint8_t* p, State& s) {
    const auto* b = reinterpret_cast<const BlockQ4_K*>(p);
    k_scales_f32(b, s.scale, s.min);
    if constexpr (kHigh) {
      const auto* b5 = reinterpret_cast<const BlockQ5_K*>(p);
      s.qs = b5->qs;
      s.qh = b5->qh;
    } else {
      s.qs = b->qs;
      s.qh = nullptr;
    }
  }
  static void decode(const State& s, int k, __m256* w) {
    const uint8_t* q = s.qs + 32 * (k >> 1);
    const __m256 sc = _mm256_set1_ps(s.scale[k]), mn = _mm256_set1_ps(s.min[k]);
    const __m128i shift = _mm_cvtsi32_si128(k);
    for (int g = 0; g < 4; ++g) {
      __m256i v = load8_u8(q + 8 * g);
      v = (k & 1) ? _mm256_srli_epi32(v, 4) : _mm256_and_si256(v, _mm256_set1_epi32(15));
      if constexpr (kHigh) {
        const __m256i h = _mm256_and_si256(_mm256_srl_epi32(load8_u8(s.qh + 8 * g), shift), _mm256_set1_epi32(1));
        v = _mm256_or_si256(v, _mm256_slli_epi32(h, 4));
      }
      w[g] = _mm256_fmsub_ps(sc, _mm256_cvtepi32_ps(v), mn);
    }
  }
};

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
  static void decode(const State& s, int k, __m256* w) {
    const int h = k >> 2, kk = k & 3;
    const uint8_t* ql = s.ql + 64 * h + 32 * (kk & 1);
    const uint8_t* qh = s.qh + 32 * h;
    const __m128i shift = _mm_cvtsi32_si128(2 * kk);
    for (int g = 0; g < 4; ++g) {
      __m256i lo = load8_u8(ql + 8 * g);
      lo = kk >= 2 ? _mm256_srli_epi32(lo, 4) : _mm256_and_si256(lo, _mm256_set1_epi32(15));
      const __m256i hi = _mm256_and_si256(_mm256_srl_epi32(load8_u8(qh + 8 * g), shift), _mm256_set1_epi32(3));
      const __m256i q = _mm256_sub_epi32(_mm256_or_si256(lo, _mm256_slli_epi32(hi, 4)), _mm256_set1_epi32(32));
      w[g] = _mm256_mul_ps(_mm256_set1_ps(s.scale[8 * h + 2 * kk + g / 2]), _mm256_cvtepi32_ps(q));
    }
  }
};

template <typename F, int ROWS, int TOKS>
inline void tile(const float* x, int64_t xstride, const WeightMatrix& w, int64_t r, float* y, int64_t ystride) {
  __m256 acc[ROWS][TOKS];
  for (int i = 0; i < ROWS; ++i)
    for (int t = 0; t < TOKS; ++t) acc[i][t] = _mm256_setzero_ps();
  const int64_t nb = w.cols / F::kBlock;
  const uint8_t* wr[ROWS];
  for (int i = 0; i < ROWS; ++i) wr[i] = static_cast<const uint8_t*>(w.data) + size_t(r + i) * size_t(nb) * F::kBytes;
  typename F::State st[ROWS];
  for (int64_t b = 0; b < nb; ++b) {
    for (int i = 0; i < ROWS; ++i) F::prepare(wr[i] + b * F::kBytes, st[i]);
#pragma GCC unroll 8
    for (int k = 0; k < F::kBlock / 32; ++k) {
      const float* xb = x + b * F::kBlock + 32 * k;
      for (int i = 0; i < ROWS; ++i) {
        __m256 wv[4];
        F::decode(st[i], k, wv);
        for (int t = 0; t < TOKS; ++t)
          for (int g = 0; g < 4; ++g) acc[i][t] = _mm256_fmadd_ps(wv[g], _mm256_loadu_ps(xb + t * xstride + 8 * g), acc[i][t]);
      }
    }
  }
  for (int i = 0; i < ROWS; ++i)
    for (int t = 0; t < TOKS; ++t) y[t * ystride + r + i] = hsum(acc[i][t]);
}

template <typename F>
void rows(const float* x, int n, int64_t xstride, const WeightMatrix& w, int64_t r0, int64_t r1, float* y,
          int64_t ystride) {
  const auto tl = []<int R, int T>(const float* xt, int64_t xs, const WeightMatrix& wm, int64_t r, float* yt,
                                    int64_t ys) { tile<F, R, T>(xt, xs, wm, r, yt, ys); };
  int t = walk_token_groups(tl, x, n, xstride, w, r0, r1, y, ystride);
  // Decode (and the last n % 4 prompt tokens): integer dot products.
  if (t < n && int_decode() && idot::dispatch<PAvx2>(x + t * xstride, n - t, xstride, w, r0, r1, y + t * ystride, ystride))
    return;
  walk_single_tokens(tl, t, x, n, xstride, w, r0, r1, y, ystride);
}

}  // namespace

void matmul_rows_quant_avx2(const float* x, int n, int64_t xstride, const WeightMatrix& w, int64_t r0, int64_t r1,
                            float* y, int64_t ystride) {
  switch (w.dtype) {
    case DType::Q4_0: return rows<F32blk<DType::Q4_0>>(x, n, xstride, w, r0, r1, y, ystride);
    case DType::Q4_1: return rows<F32blk<DType::Q4_1>>(x, n, xstride, w, r0, r1, y, ystride);
    case DType::Q5_0: return rows<F32blk<DType::Q5_0>>(x, n, xstride, w, r0, r1, y, ystride);
    case DType::Q5_1: return rows<F32blk<DType::Q5_1>>(x, n, xstride, w, r0, r1, y, ystride);
    case DType::Q4_K: return rows<FK45<false>>(x, n, xstride, w, r0, r1, y, ystride);
    case DType::Q5_K: return rows<FK45<true>>(x, n, xstride, w, r0, r1, y, ystride);
    case DType::Q6_K: return rows<FQ6_K>(x, n, xstride, w, r0, r1, y, ystride);
    default: return matmul_rows_quant_scalar(x, n, xstride, w, r0, r1, y, ystride);
  }
}

}  // namespace s1::cpu
