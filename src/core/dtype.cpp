#include "core/dtype.h"

namespace s1 {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::I64: return "I64";
    case DType::I32: return "I32";
    case DType::Q8_0: return "Q8_0";
    case DType::Q4_0: return "Q4_0";
    case DType::Q4_1: return "Q4_1";
    case DType::Q5_0: return "Q5_0";
    case DType::Q5_1: return "Q5_1";
    case DType::Q4_K: return "Q4_K";
    case DType::Q5_K: return "Q5_K";
    case DType::Q6_K: return "Q6_K";
    case DType::Q8_0_IL: return "Q8_0_IL";
  }
  return "?";
}

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::BF16: return 2;
    case DType::I64: return 8;
    case DType::I32: return 4;
    case DType::Q8_0: return 34;  // f16 scale + 32 int8
    case DType::Q8_0_IL: return 34;  // the same bytes, reordered
    case DType::Q4_0: return 18;  // f16 d + 16 bytes of nibbles
    case DType::Q4_1: return 20;  // f16 d, f16 m + 16 bytes of nibbles
    case DType::Q5_0: return 22;  // f16 d + 4 bytes of high bits + 16 bytes of nibbles
    case DType::Q5_1: return 24;  // f16 d, f16 m + 4 + 16
    case DType::Q4_K: return 144;  // 256 weights: f16 d, dmin + 12 bytes of 6-bit scales + 128
    case DType::Q5_K: return 176;  // 256 weights: as Q4_K + 32 bytes of high bits
    case DType::Q6_K: return 210;  // 256 weights: 128 low + 64 high + 16 int8 scales + f16 d
  }
  return 0;
}

size_t dtype_block(DType t) {
  switch (t) {
    case DType::Q8_0:
    case DType::Q8_0_IL:
    case DType::Q4_0:
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1: return 32;
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K: return 256;
    default: return 1;
  }
}

// IEEE half <-> single, exact for every half value (subnormals included).
float f16_to_f32(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t man = h & 0x3ff;
  uint32_t u;
  if (exp == 0) {
    if (man == 0) {
      u = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        ++e;
        man <<= 1;
      } while (!(man & 0x400));
      u = sign | uint32_t(127 - 15 - e) << 23 | (man & 0x3ff) << 13;
    }
  } else if (exp == 31) {
    u = sign | 0x7f800000u | man << 13;
  } else {
    u = sign | (exp + 127 - 15) << 23 | man << 13;
  }
  return f32_from_bits(u);
}

uint16_t f32_to_f16(float f) {
  uint32_t u = bits_from_f32(f);
  uint32_t sign = (u >> 16) & 0x8000;
  uint32_t au = u & 0x7fffffffu;
  if (au > 0x7f800000u) return uint16_t(sign | 0x7e00);  // NaN
  if (au >= 0x477ff000u) return uint16_t(sign | 0x7c00);  // overflow -> inf (rounding considered)
  if (au < 0x38800000u) {                                 // subnormal or zero in half
    if (au < 0x33000000u) return uint16_t(sign);          // < half of smallest subnormal
    uint32_t e = au >> 23;
    uint32_t m = (au & 0x7fffff) | 0x800000;
    uint32_t shift = 126 - e;  // half subnormal unit is 2^-24
    uint32_t res = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (res & 1))) ++res;
    return uint16_t(sign | res);
  }
  uint32_t res = ((au >> 13) - ((127 - 15) << 10));
  uint32_t rem = au & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (res & 1))) ++res;
  return uint16_t(sign | res);
}

}  // namespace s1
