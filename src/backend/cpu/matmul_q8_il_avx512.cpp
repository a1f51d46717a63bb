// Q8_0_IL weights (q8_interleaved.h) x int16 activations split into two signed bytes,
// with AVX512-VNNI vpdpbusd. Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni.
//
// A quad of rows at a time: the four rows share each load of the activations (with one
// row, two loads of activations per load of weights bound the kernel at ~39 GB/s of
// weights per core in L1; with four, ~50). Every (row, token) pair is summed in the same
// order whatever the number of tokens, so prefill and decode agree bit for bit.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "backend/cpu/q8_interleaved.h"
#include "backend/cpu/simd_kernels.h"
#include "backend/cpu/simd_math_avx512.h"

namespace s1::cpu {
namespace {

// Prefetches a forward stream as weight_prefetch() (simd_kernels.h) says, each line once:
// ahead(pos) issues the prefetches for every line up to pos + the plan's distances that
// earlier calls have not. Why a cursor and not a fixed offset from each load: a quad's
// stream is a group's scales and then its quants, the last group shorter, so prefetches
// tied to the quants' loads left lines out: on 896-column rows (16 + 12 blocks a quad)
// the scales and the whole shorter group, ~46% of the stream. On the Emerald Rapids VM,
// where every line wants its prefetch: a 1 GB matrix of 896-column rows on two threads
// went from 0.80 to 0.95 of the probe (12 alternating rounds), and the decoded token
// (Q8_0, 0.5B shape; s1 bench, the two builds alternating, 3 rounds) from 80-82% to
// 88-89% of the read bandwidth at 512, and from 71-80% to 81-85% at 4096.
class StreamPrefetch {
 public:
  StreamPrefetch(const void* start, const WeightPrefetch& p)
      : next2_(static_cast<const char*>(start) + p.l2_bytes),
        next1_(static_cast<const char*>(start) + p.l1_bytes),
        l2_(p.l2_bytes),
        l1_(p.l1_bytes),
        step_(64 * p.lines) {}
  void ahead(const void* pos) {
    const char* at = static_cast<const char*>(pos);
    for (; next2_ < at + l2_; next2_ += step_) _mm_prefetch(next2_, _MM_HINT_T1);
    if (l1_)
      for (; next1_ < at + l1_; next1_ += step_) _mm_prefetch(next1_, _MM_HINT_T0);
  }

 private:
  const char *next2_, *next1_;
  int64_t l2_, l1_, step_;
};

// One quad of rows (at `quad`, in the layout of q8_interleaved.h) times token t.
// pf: the weight stream's prefetcher, or null (no prefetch).
inline void quad_tile(const Q8ILInput& in, int t, int64_t col0, int64_t nb, const uint8_t* quad, float* y,
                      StreamPrefetch* pf) {
  constexpr int R = int(kQ8QuadRows);
  const int8_t* xs = in.split + 2 * (t * in.cols + col0);
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
    // The scales first, in stream order. Read after the group's quants (a step back of
    // ~2 KB every group, to lines already in cache) they slowed the weights' stream from
    // DRAM at the two-core high level: a 145 MB matrix on two threads read 0.64-0.77 of a
    // plain read of its bytes at 2560 columns, 0.70-0.88 with the scales first; at 896
    // columns 0.80-0.93 -> 0.83-0.93. The decoded token (Q8_0, 0.5B shape, 512): +3.5%.
    __m512 dw[R];
    for (int r = 0; r < R; ++r) dw[r] = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p + 2 * n * r));
    if (n == 16) {
      for (int k = 0; k < 8; ++k) {
        if (pf) pf->ahead(p + 2 * R * 16 + 64 * R * (k + 1));  // past this k's four lines of weights
        const __m512i a = _mm512_loadu_si512(xs + 128 * k), b = _mm512_loadu_si512(xs + 128 * k + 64);
        for (int r = 0; r < R; ++r) {
          const __m512i w = _mm512_loadu_si512(p + 2 * R * 16 + 64 * (R * k + r));
          h[r] = _mm512_dpbusd_epi32(h[r], w, a);
          l[r] = _mm512_dpbusd_epi32(l[r], w, b);
        }
      }
    } else {  // the row's last, shorter group: n lanes
      for (int k = 0; k < 8; ++k) {
        if (pf) pf->ahead(p + 2 * R * n + chunk * R * (k + 1));
        const __m512i a = _mm512_maskz_loadu_epi32(m, xs + 8 * n * k);
        const __m512i b = _mm512_maskz_loadu_epi32(m, xs + 8 * n * k + 4 * n);
        for (int r = 0; r < R; ++r) {
          const __m512i w = _mm512_maskz_loadu_epi32(m, p + 2 * R * n + chunk * (R * k + r));
          h[r] = _mm512_dpbusd_epi32(h[r], w, a);
          l[r] = _mm512_dpbusd_epi32(l[r], w, b);
        }
      }
    }
    const __m512 dx = _mm512_maskz_loadu_ps(m, xd + g), cx = _mm512_maskz_loadu_ps(m, xc + g);
    for (int r = 0; r < R; ++r) {
      const __m512i dot = _mm512_add_epi32(_mm512_slli_epi32(h[r], 8), l[r]);  // 256 hi + lo, per block
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(dw[r], dx), acc[r]);
      corr[r] = _mm512_fmadd_ps(dw[r], cx, corr[r]);
    }
    p += R * 34 * n;
    xs += 64 * n;
  }
  for (int r = 0; r < R; ++r) y[r] = _mm512_reduce_add_ps(_mm512_add_ps(acc[r], corr[r]));
}

// One group of ng <= 16 blocks of a token's activations (xg: its first value) into the
// kernel's input (hi, lo: the group's first byte; d, cx: its first block's). Chunk k of a
// group holds values 4k..4k+3 of every block, a transpose of the activations. Done one
// block at a time (a horizontal max, a scalar divide, sixteen 4-byte copies each of hi
// and lo, a horizontal sum) it took ~60 cycles a block, 2.6 us before every down
// projection of the 0.5B shape while the other core waited. Here the transpose happens
// on the way in: lanes 4b..4b+3 of a register are values 4k..4k+3 of block 4qq + b, so
// quarter qq of chunk k is computed in place, and the four quarters are stored as one
// 64-byte line. (Stored a quarter at a time, the compiler's vpmovdb-to-memory made the
// next matmul ~2% slower in the model though this function ran 2.4x faster alone.)
// The result equals the scalar reference byte for byte: the same IEEE divides, products
// and integer sums, in vectors.
// kFull: ng == 16, every count a constant (the loops unroll, the lines go out whole).
template <bool kFull>
inline void prepare_group(const float* xg, int ng, int8_t* xs, float* d_out, float* cx_out) {
  if (kFull) ng = 16;
  __m512 m[16];
  for (int i = 0; i < 16; ++i)
    m[i] = i < ng ? _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(xg + 32 * i)),
                                  _mm512_abs_ps(_mm512_loadu_ps(xg + 32 * i + 16)))
                  : _mm512_setzero_ps();
  const __m512 amax = reduce16(m, [](__m512 x, __m512 y) { return _mm512_max_ps(x, y); });
  const __m512 d = _mm512_div_ps(amax, _mm512_set1_ps(32639.0f));
  const __mmask16 nonzero = _mm512_cmp_ps_mask(d, _mm512_setzero_ps(), _CMP_NEQ_UQ);
  const __m512 id = _mm512_maskz_div_ps(nonzero, _mm512_set1_ps(1.0f), d);
  const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const int quarters = (ng + 3) / 4;
  __m512 idq[4];  // lanes 4b..4b+3: id of block 4qq + b
  __m512i s[4];   // per 128-bit lane b: partial sums of block 4qq + b's q
  for (int qq = 0; qq < 4; ++qq) {
    idq[qq] = _mm512_permutexvar_ps(_mm512_add_epi32(_mm512_srli_epi32(lane, 2), _mm512_set1_epi32(4 * qq)), id);
    s[qq] = _mm512_setzero_si512();
  }
  const __m512i k128 = _mm512_set1_epi32(128);
  // The partial group's stores (ng < 16); a full one stores whole lines (a shift by 64 is undefined).
  const __mmask64 chunk_bytes = kFull ? ~__mmask64(0) : (__mmask64(1) << (4 * ng)) - 1;
  // four quarters of 16 bytes -> one line (constant lane numbers, as the instruction needs)
  auto line = [](const __m128i q[4]) {
    return _mm512_inserti32x4(
        _mm512_inserti32x4(_mm512_inserti32x4(_mm512_castsi128_si512(q[0]), q[1], 1), q[2], 2), q[3], 3);
  };
  for (int k = 0; k < 8; ++k) {
    __m128i hq[4], lq[4];
    for (int qq = 0; qq < 4; ++qq) hq[qq] = lq[qq] = _mm_setzero_si128();
    for (int qq = 0; qq < quarters; ++qq) {
      const int nq = ng - 4 * qq < 4 ? ng - 4 * qq : 4;  // blocks in this quarter
      const float* v = xg + 32 * 4 * qq + 4 * k;       // values 4k.. of the quarter's first block
      __m512 f = _mm512_castps128_ps512(_mm_loadu_ps(v));
      if (nq > 1) f = _mm512_insertf32x4(f, _mm_loadu_ps(v + 32), 1);
      if (nq > 2) f = _mm512_insertf32x4(f, _mm_loadu_ps(v + 64), 2);
      if (nq > 3) f = _mm512_insertf32x4(f, _mm_loadu_ps(v + 96), 3);
      if (nq < 4) f = _mm512_maskz_mov_ps(__mmask16((1u << (4 * nq)) - 1), f);
      const __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(f, idq[qq]));
      const __m512i h = _mm512_srai_epi32(_mm512_add_epi32(q, k128), 8);
      const __m512i l = _mm512_sub_epi32(q, _mm512_slli_epi32(h, 8));
      s[qq] = _mm512_add_epi32(s[qq], q);
      hq[qq] = _mm512_cvtepi32_epi8(h);
      lq[qq] = _mm512_cvtepi32_epi8(l);
    }
    const __m512i hk = line(hq), lk = line(lq);
    if (kFull) {
      _mm512_storeu_si512(xs + 128 * k, hk);
      _mm512_storeu_si512(xs + 128 * k + 64, lk);
    } else {
      _mm512_mask_storeu_epi8(xs + 8 * ng * k, chunk_bytes, hk);
      _mm512_mask_storeu_epi8(xs + 8 * ng * k + 4 * ng, chunk_bytes, lk);
    }
  }
  // each 128-bit lane's four partial sums -> lane 4qq + b of sums
  const __m512i first_of_lane = _mm512_slli_epi32(_mm512_and_si512(lane, _mm512_set1_epi32(3)), 2);
  __m512i sums = _mm512_setzero_si512();
  for (int qq = 0; qq < quarters; ++qq) {
    __m512i t = _mm512_add_epi32(s[qq], _mm512_shuffle_epi32(s[qq], _MM_PERM_BADC));
    t = _mm512_add_epi32(t, _mm512_shuffle_epi32(t, _MM_PERM_CDAB));
    sums = _mm512_mask_permutexvar_epi32(sums, __mmask16(0xFu << (4 * qq)), first_of_lane, t);
  }
  const __mmask16 blocks = __mmask16((1u << ng) - 1);
  _mm512_mask_storeu_ps(d_out, blocks, d);
  _mm512_mask_storeu_ps(cx_out, blocks, _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(-128.0f), d), _mm512_cvtepi32_ps(sums)));
}

// The group at xg of a row with `left` blocks from there on, into its split bytes at xs.
inline void prepare_any_group(const float* xg, int64_t left, int8_t* xs, float* d, float* cx) {
  if (left >= kQ8GroupBlocks) return prepare_group<true>(xg, int(kQ8GroupBlocks), xs, d, cx);
  prepare_group<false>(xg, int(left), xs, d, cx);
}

}  // namespace

void prepare_q8_il_input_avx512(const float* x, int n, int64_t cols, Q8ILInput& in) {
  in.resize(n, cols);
  const int64_t nb = cols / 32;
  for (int t = 0; t < n; ++t) {
    const int64_t at = int64_t(t) * cols;
    for (int64_t g = 0; g < nb; g += kQ8GroupBlocks)
      prepare_any_group(x + at + 32 * g, nb - g, in.split + 2 * at + 64 * g, in.d + t * nb + g, in.cx + t * nb + g);
  }
}

void prepare_q8_il_groups_avx512(const float* x, int64_t cols, int64_t g0, int64_t g1, Q8ILInput& in) {
  const int64_t nb = cols / 32;
  for (int64_t g = g0 * kQ8GroupBlocks; g < std::min(nb, g1 * kQ8GroupBlocks); g += kQ8GroupBlocks)
    prepare_any_group(x + 32 * g, nb - g, in.split + 64 * g, in.d + g, in.cx + g);
}

void matmul_rows_q8_il(const Q8ILInput& in, int64_t col0, int n, const WeightMatrix& w, int64_t r0, int64_t r1,
                       float* y, int64_t ystride) {
  const int64_t nb = w.cols / 32;
  const size_t quad_bytes = kQ8QuadRows * w.row_bytes(w.cols);
  const auto* base = static_cast<const uint8_t*>(w.data);
  // Decode streams the rows (r0's quad onwards, contiguous); prefill rereads them from L1.
  const uint8_t* first = base + size_t(r0 / kQ8QuadRows) * quad_bytes;
  StreamPrefetch stream(first, weight_prefetch());
  StreamPrefetch* pf = n == 1 && weight_prefetch().l2_bytes > 0 ? &stream : nullptr;
  // Token by token over the caller's rows (16 at a time for prefill, CpuBackend::run_jobs),
  // which stay in L1 while every token reads them.
  for (int t = 0; t < n; ++t)
    for (int64_t r = r0; r < r1; r += kQ8QuadRows)
      quad_tile(in, t, col0, nb, base + size_t(r / kQ8QuadRows) * quad_bytes, y + t * ystride + r, pf);
}

}  // namespace s1::cpu
