// Block-quantised weight formats. Q8_0 (the llama.cpp layout): blocks of 32 weights,
// one f16 scale d and 32 int8 q, value = d * q. Decode reads about half the bytes of
// bf16. Rows must have a multiple of 32 columns.
#pragma once
#include <cstddef>
#include <cstdint>

#include "backend/backend.h"

namespace s1::cpu {

struct BlockQ8_0 {
  uint16_t d;  // f16 scale
  int8_t q[32];
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block must be 34 bytes");

// Quantises rows of `src` (f32 / bf16 / f16) into dst (rows * cols / 32 blocks).
void quantize_q8_0(const WeightMatrix& src, BlockQ8_0* dst, int threads);
bool can_quantize_q8_0(const WeightMatrix& w);
// One row of f32 activations into Q8_0 blocks (cols % 32 == 0), same rounding.
void quantize_row_q8_0(const float* x, int64_t cols, BlockQ8_0* dst);

// Activations for the integer Q8_0 path: 32 int16 and a scale d = max|x| / 32767.
struct BlockI16 {
  alignas(64) int16_t q[32];
  float d;
};
void quantize_row_i16(const float* x, int64_t cols, BlockI16* dst);

}  // namespace s1::cpu
