// llama.cpp's block-quantised weight formats (as stored in GGUF files), read in place
// by the matmul kernels. Every format cuts a row into blocks; a block holds its own
// scale(s) and packed integers, and weight = scale * q (+ offset). Rows must be a whole
// number of blocks. Layouts, element j of a block:
//
//   Q4_0  32 weights, 18 bytes: f16 d, u8 qs[16]
//         q = j < 16 ? qs[j] & 15 : qs[j-16] >> 4;              w = d * (q - 8)
//   Q4_1  32 weights, 20 bytes: f16 d, f16 m, u8 qs[16]        w = d * q + m
//   Q5_0  32 weights, 22 bytes: f16 d, u8 qh[4], u8 qs[16]
//         q = nibble as Q4_0 | (bit j of qh as little-endian u32) << 4;  w = d * (q - 16)
//   Q5_1  32 weights, 24 bytes: f16 d, f16 m, u8 qh[4], u8 qs[16]   w = d * q + m
//   Q8_0  32 weights, 34 bytes: f16 d, i8 qs[32]                w = d * qs[j]   (quant.h)
//
// K-quants: 256-weight super-blocks of 8 sub-blocks of 32 (Q6_K: 16 of 16).
//   Q4_K  144 bytes: f16 d, f16 dmin, u8 scales[12], u8 qs[128]
//         sub-block s (0..7) has a 6-bit scale sc[s] and 6-bit min mn[s], packed in 12 bytes:
//           s < 4:  sc = scales[s] & 63,           mn = scales[s+4] & 63
//           s >= 4: sc = (scales[s+4] & 15) | (scales[s-4] >> 6) << 4
//                   mn = (scales[s+4] >> 4) | (scales[s] >> 6) << 4
//         element l (0..31) of sub-block s: byte qs[32 * (s/2) + l], low nibble when s is
//         even, high nibble when odd;  w = d * sc[s] * q - dmin * mn[s]
//   Q5_K  176 bytes: f16 d, f16 dmin, u8 scales[12], u8 qh[32], u8 qs[128]
//         as Q4_K, plus q |= (bit s of qh[l]) << 4
//   Q6_K  210 bytes: u8 ql[128], u8 qh[64], i8 scales[16], f16 d
//         element e: half h = e / 128, r = e % 128, quarter k = r / 32, l = r % 32:
//           low 4 bits: ql[64h + 32 (k & 1) + l], low nibble when k < 2 else high
//           high 2 bits: (qh[32h + l] >> 2k) & 3
//           w = d * scales[8h + 2k + l/16] * (q - 32)
#pragma once
#include <cstddef>
#include <cstdint>

#include "backend/backend.h"

namespace s1::cpu {

struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[16];
};
struct BlockQ4_1 {
  uint16_t d, m;
  uint8_t qs[16];
};
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[16];
};
struct BlockQ5_1 {
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[16];
};
struct BlockQ4_K {
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qs[128];
};
struct BlockQ5_K {
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qh[32];
  uint8_t qs[128];
};
struct BlockQ6_K {
  uint8_t ql[128];
  uint8_t qh[64];
  int8_t scales[16];
  uint16_t d;
};
static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22 &&
                  sizeof(BlockQ5_1) == 24 && sizeof(BlockQ4_K) == 144 && sizeof(BlockQ5_K) == 176 &&
                  sizeof(BlockQ6_K) == 210,
              "block layouts must match the GGUF byte layouts");

// The formats of this file (not Q8_0, which has its own kernels in matmul_*.cpp).
bool is_ggml_quant(DType t);
// Any block format (these plus Q8_0).
static inline bool is_block_dtype(DType t) { return dtype_block(t) > 1; }

// The 6-bit (scale, min) pair of sub-block s (0..7) of a Q4_K / Q5_K super-block.
// static: each kernel file gets its own copy (no ODR mixing of ISA-specific code).
static inline void k_scale_min(const uint8_t* scales, int s, uint8_t* sc, uint8_t* mn) {
  if (s < 4) {
    *sc = scales[s] & 63;
    *mn = scales[s + 4] & 63;
  } else {
    *sc = uint8_t((scales[s + 4] & 15) | ((scales[s - 4] >> 6) << 4));
    *mn = uint8_t((scales[s + 4] >> 4) | ((scales[s] >> 6) << 4));
  }
}

// All eight (scale, min) pairs at once, with 32-bit word operations: the same packing
// as k_scale_min, for the kernels' per-super-block set-up.
static inline void k_scales_mins(const uint8_t* scales, uint8_t sc[8], uint8_t mn[8]) {
  uint32_t w0, w1, w2;
  __builtin_memcpy(&w0, scales, 4);
  __builtin_memcpy(&w1, scales + 4, 4);
  __builtin_memcpy(&w2, scales + 8, 4);
  const uint32_t s_lo = w0 & 0x3f3f3f3fu, m_lo = w1 & 0x3f3f3f3fu;
  const uint32_t s_hi = (w2 & 0x0f0f0f0fu) | ((w0 >> 6) & 0x03030303u) << 4;
  const uint32_t m_hi = ((w2 >> 4) & 0x0f0f0f0fu) | ((w1 >> 6) & 0x03030303u) << 4;
  __builtin_memcpy(sc, &s_lo, 4);
  __builtin_memcpy(sc + 4, &s_hi, 4);
  __builtin_memcpy(mn, &m_lo, 4);
  __builtin_memcpy(mn + 4, &m_hi, 4);
}

// Reference decoding, straight from the formulas above: one block (dtype_block(t)
// values) of any block format, Q8_0 included.
void dequantize_block(DType t, const void* block, float* out);
// A row of `cols` values (cols a multiple of the block size).
void dequantize_row(DType t, const void* row, int64_t cols, float* out);
// One element of a matrix stored in a block format (for weight_at / embedding lookups).
float quant_weight_at(const WeightMatrix& w, int64_t r, int64_t c);

// Quantisers (round to nearest; simple, not llama.cpp's error-minimising searches):
// for writing GGUF files (s1 convert) and for tests. cols a multiple of the block.
void quantize_row(DType t, const float* x, int64_t cols, void* out);

// Matmul over rows r0..r1 of a matrix in one of the is_ggml_quant formats (see
// simd_kernels.h for the contract). The scalar one dequantises each row with
// dequantize_row and is the reference of the SIMD ones.
void matmul_rows_quant_scalar(const float* x, int n, int64_t xstride, const WeightMatrix& w, int64_t r0, int64_t r1,
                              float* y, int64_t ystride);
void matmul_rows_quant_avx2(const float* x, int n, int64_t xstride, const WeightMatrix& w, int64_t r0, int64_t r1,
                            float* y, int64_t ystride);
void matmul_rows_quant_avx512(const float* x, int n, int64_t xstride, const WeightMatrix& w, int64_t r0, int64_t r1,
                              float* y, int64_t ystride);

}  // namespace s1::cpu
