// Element types of stored tensors and scalar conversions between them.
// Kernels use SIMD versions of the same conversions (backend/cpu); these scalar
// ones are the reference the SIMD paths are tested against.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace s1 {

// Q4_0 .. Q6_K: llama.cpp's block formats (GGUF), read in place by the kernels
// (backend/cpu/quant_blocks.h has their layouts). Q8_0_IL: Q8_0's bytes reordered in
// memory for the CPU's int8 dot products (backend/cpu/q8_interleaved.h); never in a file.
enum class DType : uint8_t { F32, F16, BF16, I64, I32, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, Q8_0_IL };

const char* dtype_name(DType t);
// The format a weight in memory is stored as in files (Q8_0_IL is Q8_0 reordered).
inline DType file_dtype(DType t) { return t == DType::Q8_0_IL ? DType::Q8_0 : t; }
size_t dtype_size(DType t);  // bytes per element (block formats: per block; see dtype_block)
size_t dtype_block(DType t);  // elements per block (1 for plain types)

inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint32_t bits_from_f32(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

inline float bf16_to_f32(uint16_t h) { return f32_from_bits(uint32_t(h) << 16); }

// Round to nearest even, as torch does; NaN stays NaN.
inline uint16_t f32_to_bf16(float f) {
  uint32_t u = bits_from_f32(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return uint16_t(u >> 16);
}

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

}  // namespace s1
