// Integer dot products for the GGUF block formats, for decode (token counts below 4):
// the activations are quantised to int16 per 32 values (scale dx = max|x| / 32767),
// the weights are unpacked to bytes q (0..63) in element order and widened to int16,
// and
//   sum_j (s q_j + o) x_j  ~  s dx sum_j q_j xq_j  +  o dx sum_j xq_j
// with s, o the block's (sub-block's) scale and offset; vpmaddwd multiplies and adds
// the int16 pairs. This replaces the per-weight int -> f32 conversions of the float
// path. int16, not int8 (llama.cpp's choice): the int8 rounding of the activations
// moved SmolLM2-135M's logits by ~1% of their range, enough to flip greedy choices
// whose margin is 0.3% (its first answer token to "What is the capital of France?");
// int16 rounding is 256 times finer (logits within ~1e-5 of the f32 path).
//
// Included by matmul_quant_avx2.cpp and matmul_quant_avx512.cpp, each compiled with its
// own -m flags: everything here lives in an anonymous namespace (one private copy per
// file), parameterised by the ISA policy P:
//   P::Acc, P::zero(), P::hsum(acc)   a float accumulator
//   P::chunk<kTwo>(acc, q, xq, sa, sb)  acc + (q . xq over 32 values) scaled by sa
//                                       (kTwo: sa for values 0..15, sb for 16..31)
//   P::bits32(u32)         16 in byte j where bit j is set, else 0
//   P::bitk(qh, k)         16 in byte l where bit k of qh byte l is set, else 0
#pragma once
#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "backend/cpu/quant_blocks.h"

namespace s1::cpu {
namespace {
// A Q4_K / Q5_K super-block's eight 6-bit scales and mins as floats: d * sc, dmin * mn.
inline void k_scales_f32(const BlockQ4_K* b, float scale[8], float min[8]) {
  uint8_t sc[8], mn[8];
  k_scales_mins(b->scales, sc, mn);
  const __m128i dd = _mm_cvtsi32_si128(int(uint32_t(b->d) | uint32_t(b->dmin) << 16));
  const __m256 d = _mm256_broadcastss_ps(_mm_cvtph_ps(dd));
  const __m256 dmin = _mm256_broadcastss_ps(_mm_movehdup_ps(_mm_cvtph_ps(dd)));
  auto widen = [](const uint8_t* v) {
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(v))));
  };
  _mm256_storeu_ps(scale, _mm256_mul_ps(d, widen(sc)));
  _mm256_storeu_ps(min, _mm256_mul_ps(dmin, widen(mn)));
}

namespace idot {

// Activations of up to 3 tokens, quantised to int16 per 32 values. Cached per thread: the CPU
// backend calls the kernel once per 16-row block with the same x, which is quantised
// once (the copy of x proves the cache is still valid).
struct QuantX {
  const float* src = nullptr;
  int n = 0;
  int64_t stride = 0, cols = 0;
  std::vector<float> copy;    // n * cols
  std::vector<int16_t> q;     // n * cols
  std::vector<float> d;       // n * cols/32: dx
  std::vector<float> s16;     // n * cols/16: dx * sum of xq over each 16 values
  std::vector<float> s32;     // n * cols/32: the same over each 32
};

inline const QuantX& quantize_x(const float* x, int n, int64_t stride, int64_t cols) {
  thread_local QuantX c;
  bool same = c.src == x && c.n == n && c.stride == stride && c.cols == cols;
  for (int t = 0; same && t < n; ++t)
    same = std::memcmp(c.copy.data() + t * cols, x + t * stride, size_t(cols) * 4) == 0;
  if (same) return c;
  c.src = x;
  c.n = n;
  c.stride = stride;
  c.cols = cols;
  c.copy.resize(size_t(n * cols));
  c.q.resize(size_t(n * cols));
  c.d.resize(size_t(n * cols / 32));
  c.s16.resize(size_t(n * cols / 16));
  c.s32.resize(size_t(n * cols / 32));
  for (int t = 0; t < n; ++t) {
    const float* xt = x + t * stride;
    std::memcpy(c.copy.data() + t * cols, xt, size_t(cols) * 4);
    for (int64_t b = 0; b < cols / 32; ++b) {
      const float* v = xt + 32 * b;
      float amax = 0;
      for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(v[j]));
      const float d = amax / 32767.0f, id = amax > 0 ? 32767.0f / amax : 0.0f;
      int16_t* q = c.q.data() + t * cols + 32 * b;
      int s[2] = {0, 0};
      for (int j = 0; j < 32; ++j) {
        q[j] = int16_t(std::nearbyint(v[j] * id));
        s[j / 16] += q[j];
      }
      c.d[t * cols / 32 + b] = d;
      c.s16[t * cols / 16 + 2 * b] = d * float(s[0]);
      c.s16[t * cols / 16 + 2 * b + 1] = d * float(s[1]);
      c.s32[t * cols / 32 + b] = d * float(s[0] + s[1]);
    }
  }
  return c;
}

inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

// 16 nibbles -> 32 bytes: low nibbles (elements 0..15), then high nibbles (16..31).
inline __m256i nibbles32(const uint8_t* qs) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(v, 4), v), _mm256_set1_epi8(15));
}

// Formats: kBytes per block, kElems values per block; prepare(block, State) once per
// block and row, then for chunk k (32 values): q(State, k) the bytes, and the scale and
// offset of those values: one pair (s, o) per chunk, or with kTwo one per 16 values
// (s2, o2: Q6_K's sub-blocks of 16).
template <typename P>
struct Q4_0 {
  static constexpr int kBytes = 18, kElems = 32;
  static constexpr bool kTwo = false;
  struct State {
    const uint8_t* qs;
    float s, o;
  };
  static void prepare(const uint8_t* p, State& st) {
    const auto* b = reinterpret_cast<const BlockQ4_0*>(p);
    st.qs = b->qs;
    st.s = h2f(b->d);
    st.o = -8.0f * st.s;
  }
  static __m256i q(const State& st, int) { return nibbles32(st.qs); }
};
template <typename P>
struct Q4_1 {
  static constexpr int kBytes = 20, kElems = 32;
  static constexpr bool kTwo = false;
  struct State {
    const uint8_t* qs;
    float s, o;
  };
  static void prepare(const uint8_t* p, State& st) {
    const auto* b = reinterpret_cast<const BlockQ4_1*>(p);
    st.qs = b->qs;
    // d and m are adjacent: one conversion of both
    const __m128 dm = _mm_cvtph_ps(_mm_cvtsi32_si128(int(uint32_t(b->d) | uint32_t(b->m) << 16)));
    st.s = _mm_cvtss_f32(dm);
    st.o = _mm_cvtss_f32(_mm_movehdup_ps(dm));
  }
  static __m256i q(const State& st, int) { return nibbles32(st.qs); }
};
template <typename P, bool kMin>
struct Q5 {
  static constexpr int kBytes = kMin ? 24 : 22, kElems = 32;
  static constexpr bool kTwo = false;
  struct State {
    const uint8_t* qs;
    uint32_t qh;
    float s, o;
  };
  static void prepare(const uint8_t* p, State& st) {
    if constexpr (kMin) {
      const auto* b = reinterpret_cast<const BlockQ5_1*>(p);
      const __m128 dm = _mm_cvtph_ps(_mm_cvtsi32_si128(int(uint32_t(b->d) | uint32_t(b->m) << 16)));
      st.s = _mm_cvtss_f32(dm);
      st.o = _mm_cvtss_f32(_mm_movehdup_ps(dm));
      std::memcpy(&st.qh, b->qh, 4);
      st.qs = b->qs;
    } else {
      const auto* b = reinterpret_cast<const BlockQ5_0*>(p);
      st.s = h2f(b->d);
      st.o = -16.0f * st.s;
      std::memcpy(&st.qh, b->qh, 4);
      st.qs = b->qs;
    }
  }
  static __m256i q(const State& st, int) { return _mm256_or_si256(nibbles32(st.qs), P::bits32(st.qh)); }
};
// Q4_K / Q5_K chunk k = sub-block k; its 6-bit scale and min decoded once per super-block.
template <typename P, bool kHigh>
struct QK45 {
  static constexpr int kBytes = kHigh ? 176 : 144, kElems = 256;
  static constexpr bool kTwo = false;
  struct State {
    const uint8_t *qs, *qh;
    float sc[8], mn[8];
  };
  static void prepare(const uint8_t* p, State& st) {
    const auto* b = reinterpret_cast<const BlockQ4_K*>(p);
    k_scales_f32(b, st.sc, st.mn);
    for (float& v : st.mn) v = -v;  // the integer path adds the offset term
    st.qs = p + (kHigh ? 48 : 16);
    st.qh = p + 16;
  }
  static __m256i q(const State& st, int k) {
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(st.qs + 32 * (k >> 1)));
    if (k & 1) v = _mm256_srli_epi16(v, 4);
    v = _mm256_and_si256(v, _mm256_set1_epi8(15));
    if constexpr (kHigh) v = _mm256_or_si256(v, P::bitk(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(st.qh)), k));
    return v;
  }
};
// Q6_K chunk k: quarter k%4 of half k/4; q - 32 folded into the offsets.
template <typename P>
struct Q6K {
  static constexpr int kBytes = 210, kElems = 256;
  static constexpr bool kTwo = true;
  struct State {
    const uint8_t *ql, *qh;
    float sc[16];
  };
  static void prepare(const uint8_t* p, State& st) {
    const auto* b = reinterpret_cast<const BlockQ6_K*>(p);
    const float d = h2f(b->d);
    for (int g = 0; g < 16; ++g) st.sc[g] = d * float(b->scales[g]);
    st.ql = b->ql;
    st.qh = b->qh;
  }
  static __m256i q(const State& st, int k) {
    const int h = k >> 2, kk = k & 3;
    __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(st.ql + 64 * h + 32 * (kk & 1)));
    if (kk >= 2) lo = _mm256_srli_epi16(lo, 4);
    lo = _mm256_and_si256(lo, _mm256_set1_epi8(15));
    __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(st.qh + 32 * h));
    hi = _mm256_and_si256(_mm256_srl_epi16(hi, _mm_cvtsi32_si128(2 * kk)), _mm256_set1_epi8(3));
    return _mm256_or_si256(lo, _mm256_slli_epi16(hi, 4));
  }
};

template <typename F>
inline float scale_of(const typename F::State& st, int k) {
  if constexpr (requires { st.s; }) return st.s;
  else return st.sc[k];
}
template <typename F>
inline float offset_of(const typename F::State& st, int k) {
  if constexpr (requires { st.o; }) return st.o;
  else return st.mn[k];
}

// ROWS rows x one token.
template <typename P, typename F, int ROWS>
inline void tile(const QuantX& qx, int t, const WeightMatrix& w, int64_t r, float* y) {
  const int64_t cols = w.cols, nb = cols / F::kElems;
  constexpr int kChunks = F::kElems / 32;
  const uint8_t* wr[ROWS];
  for (int i = 0; i < ROWS; ++i) wr[i] = static_cast<const uint8_t*>(w.data) + size_t(r + i) * size_t(nb) * F::kBytes;
  const int16_t* xq = qx.q.data() + t * cols;
  const float* xd = qx.d.data() + t * cols / 32;
  const float* xs = qx.s16.data() + t * cols / 16;
  const float* xs32 = qx.s32.data() + t * cols / 32;
  typename P::Acc acc[ROWS];
  float off[ROWS];
  for (int i = 0; i < ROWS; ++i) {
    acc[i] = P::zero();
    off[i] = 0;
  }
  typename F::State st[ROWS];
  for (int64_t b = 0; b < nb; ++b) {
    // Decode streams every row once from memory: fetch ~1 KB ahead of each row (the
    // hardware prefetchers lose track of ROWS interleaved streams of 210-byte Q6_K blocks).
    for (int i = 0; i < ROWS; ++i)
      for (int off = 0; off < F::kBytes; off += 64)
        _mm_prefetch(reinterpret_cast<const char*>(wr[i] + b * F::kBytes + off) + 1024, _MM_HINT_T0);
    for (int i = 0; i < ROWS; ++i) F::prepare(wr[i] + b * F::kBytes, st[i]);
#pragma GCC unroll 8
    for (int k = 0; k < kChunks; ++k) {
      const int64_t ch = b * kChunks + k;  // chunk index in the row
      const int16_t* xc = xq + 32 * ch;
      const float dx = xd[ch];
      for (int i = 0; i < ROWS; ++i) {
        if constexpr (F::kTwo) {
          // Q6_K: chunk k holds its sub-blocks 2k and 2k+1 of 16 values (8 (k/4) + 2 (k%4) = 2k)
          const float s0 = st[i].sc[2 * k], s1 = st[i].sc[2 * k + 1];
          acc[i] = P::template chunk<true>(acc[i], F::q(st[i], k), xc, s0 * dx, s1 * dx);
          off[i] -= 32.0f * (s0 * xs[2 * ch] + s1 * xs[2 * ch + 1]);
        } else {
          acc[i] = P::template chunk<false>(acc[i], F::q(st[i], k), xc, scale_of<F>(st[i], k) * dx, 0.0f);
          off[i] += offset_of<F>(st[i], k) * xs32[ch];
        }
      }
    }
  }
  for (int i = 0; i < ROWS; ++i) y[r + i] = P::hsum(acc[i]) + off[i];
}

// Rows r0..r1 for the n (< 4) tokens of x.
template <typename P, typename F>
void rows(const float* x, int n, int64_t xstride, const WeightMatrix& w, int64_t r0, int64_t r1, float* y,
          int64_t ystride) {
  const QuantX& qx = quantize_x(x, n, xstride, w.cols);
  for (int t = 0; t < n; ++t) {
    int64_t r = r0;
    for (; r + 4 <= r1; r += 4) tile<P, F, 4>(qx, t, w, r, y + t * ystride);
    for (; r < r1; ++r) tile<P, F, 1>(qx, t, w, r, y + t * ystride);
  }
}

template <typename P>
bool dispatch(const float* x, int n, int64_t xstride, const WeightMatrix& w, int64_t r0, int64_t r1, float* y,
              int64_t ystride) {
  switch (w.dtype) {
    case DType::Q4_0: rows<P, Q4_0<P>>(x, n, xstride, w, r0, r1, y, ystride); return true;
    case DType::Q4_1: rows<P, Q4_1<P>>(x, n, xstride, w, r0, r1, y, ystride); return true;
    case DType::Q5_0: rows<P, Q5<P, false>>(x, n, xstride, w, r0, r1, y, ystride); return true;
    case DType::Q5_1: rows<P, Q5<P, true>>(x, n, xstride, w, r0, r1, y, ystride); return true;
    case DType::Q4_K: rows<P, QK45<P, false>>(x, n, xstride, w, r0, r1, y, ystride); return true;
    case DType::Q5_K: rows<P, QK45<P, true>>(x, n, xstride, w, r0, r1, y, ystride); return true;
    case DType::Q6_K: rows<P, Q6K<P>>(x, n, xstride, w, r0, r1, y, ystride); return true;
    default: return false;
  }
}

}  // namespace idot
}  // namespace
}  // namespace s1::cpu
