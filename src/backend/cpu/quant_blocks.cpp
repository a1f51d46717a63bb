// Reference decoding and simple quantisers of the GGUF block formats (layouts in
// quant_blocks.h), and the scalar matmul the SIMD kernels are tested against.
#include "backend/cpu/quant_blocks.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "backend/cpu/quant.h"
#include "core/error.h"

namespace s1::cpu {

bool is_ggml_quant(DType t) {
  switch (t) {
    case DType::Q4_0:
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1:
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K: return true;
    default: return false;
  }
}

namespace {

inline float h2f(uint16_t h) { return f16_to_f32(h); }

inline uint32_t qh32(const uint8_t* qh) {
  return uint32_t(qh[0]) | uint32_t(qh[1]) << 8 | uint32_t(qh[2]) << 16 | uint32_t(qh[3]) << 24;
}

// Low 4 bits of element j of a 32-weight block (Q4_0 / Q4_1 / Q5_0 / Q5_1).
inline int nib32(const uint8_t* qs, int j) { return j < 16 ? qs[j] & 15 : qs[j - 16] >> 4; }

float elem_q4_0(const BlockQ4_0& b, int j) { return h2f(b.d) * float(nib32(b.qs, j) - 8); }
float elem_q4_1(const BlockQ4_1& b, int j) { return h2f(b.d) * float(nib32(b.qs, j)) + h2f(b.m); }
float elem_q5_0(const BlockQ5_0& b, int j) {
  const int q = nib32(b.qs, j) | int((qh32(b.qh) >> j) & 1) << 4;
  return h2f(b.d) * float(q - 16);
}
float elem_q5_1(const BlockQ5_1& b, int j) {
  const int q = nib32(b.qs, j) | int((qh32(b.qh) >> j) & 1) << 4;
  return h2f(b.d) * float(q) + h2f(b.m);
}
float elem_q8_0(const BlockQ8_0& b, int j) { return h2f(b.d) * float(b.q[j]); }
float elem_q4_k(const BlockQ4_K& b, int e) {
  const int s = e / 32, l = e % 32;
  uint8_t sc, mn;
  k_scale_min(b.scales, s, &sc, &mn);
  const uint8_t byte = b.qs[32 * (s / 2) + l];
  const int q = (s & 1) ? byte >> 4 : byte & 15;
  return h2f(b.d) * float(sc) * float(q) - h2f(b.dmin) * float(mn);
}
float elem_q5_k(const BlockQ5_K& b, int e) {
  const int s = e / 32, l = e % 32;
  uint8_t sc, mn;
  k_scale_min(b.scales, s, &sc, &mn);
  const uint8_t byte = b.qs[32 * (s / 2) + l];
  const int q = ((s & 1) ? byte >> 4 : byte & 15) | ((b.qh[l] >> s) & 1) << 4;
  return h2f(b.d) * float(sc) * float(q) - h2f(b.dmin) * float(mn);
}
float elem_q6_k(const BlockQ6_K& b, int e) {
  const int h = e / 128, r = e % 128, k = r / 32, l = r % 32;
  const uint8_t lo = b.ql[64 * h + 32 * (k & 1) + l];
  const int q = ((k < 2 ? lo & 15 : lo >> 4) | ((b.qh[32 * h + l] >> (2 * k)) & 3) << 4) - 32;
  return h2f(b.d) * float(b.scales[8 * h + 2 * k + l / 16]) * float(q);
}

float elem(DType t, const void* blk, int j) {
  switch (t) {
    case DType::Q4_0: return elem_q4_0(*static_cast<const BlockQ4_0*>(blk), j);
    case DType::Q4_1: return elem_q4_1(*static_cast<const BlockQ4_1*>(blk), j);
    case DType::Q5_0: return elem_q5_0(*static_cast<const BlockQ5_0*>(blk), j);
    case DType::Q5_1: return elem_q5_1(*static_cast<const BlockQ5_1*>(blk), j);
    case DType::Q8_0: return elem_q8_0(*static_cast<const BlockQ8_0*>(blk), j);
    case DType::Q4_K: return elem_q4_k(*static_cast<const BlockQ4_K*>(blk), j);
    case DType::Q5_K: return elem_q5_k(*static_cast<const BlockQ5_K*>(blk), j);
    case DType::Q6_K: return elem_q6_k(*static_cast<const BlockQ6_K*>(blk), j);
    default: fail("dequantize: ", dtype_name(t), " is not a block format");
  }
}

// ------------------------------------------------------------------ quantisers

inline int clampi(int v, int lo, int hi) { return std::min(hi, std::max(lo, v)); }

// Symmetric 32-blocks (Q4_0, Q5_0): d = signed extreme / -half, q = round(x / d) + half.
void quant_sym(const float* x, int half, uint16_t* d_out, int* q) {
  float amax = 0, mx = 0;
  for (int j = 0; j < 32; ++j)
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      mx = x[j];
    }
  const float d = mx / float(-half);
  const float id = d != 0 ? 1.0f / d : 0.0f;
  *d_out = f32_to_f16(d);
  for (int j = 0; j < 32; ++j) q[j] = clampi(int(std::lround(x[j] * id)) + half, 0, 2 * half - 1);
}

// Asymmetric 32-blocks (Q4_1, Q5_1): m = min, d = (max - min) / levels.
void quant_asym(const float* x, int levels, uint16_t* d_out, uint16_t* m_out, int* q) {
  float lo = x[0], hi = x[0];
  for (int j = 1; j < 32; ++j) {
    lo = std::min(lo, x[j]);
    hi = std::max(hi, x[j]);
  }
  const float d = (hi - lo) / float(levels);
  const float id = d != 0 ? 1.0f / d : 0.0f;
  *d_out = f32_to_f16(d);
  *m_out = f32_to_f16(lo);
  const float m = f16_to_f32(*m_out);
  for (int j = 0; j < 32; ++j) q[j] = clampi(int(std::lround((x[j] - m) * id)), 0, levels);
}

void pack_nibbles(const int* q, uint8_t* qs) {
  for (int j = 0; j < 16; ++j) qs[j] = uint8_t((q[j] & 15) | (q[j + 16] & 15) << 4);
}
void pack_high(const int* q, uint8_t* qh) {
  uint32_t h = 0;
  for (int j = 0; j < 32; ++j) h |= uint32_t((q[j] >> 4) & 1) << j;
  for (int k = 0; k < 4; ++k) qh[k] = uint8_t(h >> (8 * k));
}

// Q4_K / Q5_K: per sub-block a scale and a (non-negative) min, both quantised to 6 bits
// against the super-block's d and dmin; then the weights against the quantised pair.
void quant_k(const float* x, int levels, uint16_t* d_out, uint16_t* dmin_out, uint8_t* scales, int* q) {
  float sc[8], mn[8], max_sc = 0, max_mn = 0;
  for (int s = 0; s < 8; ++s) {
    float lo = x[32 * s], hi = x[32 * s];
    for (int l = 1; l < 32; ++l) {
      lo = std::min(lo, x[32 * s + l]);
      hi = std::max(hi, x[32 * s + l]);
    }
    lo = std::min(lo, 0.0f);  // the min is subtracted: w = d*sc*q - dmin*mn, mn >= 0
    sc[s] = (hi - lo) / float(levels);
    mn[s] = -lo;
    max_sc = std::max(max_sc, sc[s]);
    max_mn = std::max(max_mn, mn[s]);
  }
  const float d = max_sc / 63.0f, dmin = max_mn / 63.0f;
  *d_out = f32_to_f16(d);
  *dmin_out = f32_to_f16(dmin);
  const float dq = f16_to_f32(*d_out), dminq = f16_to_f32(*dmin_out);
  uint8_t qsc[8], qmn[8];
  for (int s = 0; s < 8; ++s) {
    qsc[s] = uint8_t(clampi(dq > 0 ? int(std::lround(sc[s] / dq)) : 0, 0, 63));
    qmn[s] = uint8_t(clampi(dminq > 0 ? int(std::lround(mn[s] / dminq)) : 0, 0, 63));
  }
  for (int s = 0; s < 4; ++s) {
    scales[s] = uint8_t((qsc[s] & 63) | (qsc[s + 4] >> 4) << 6);
    scales[s + 4] = uint8_t((qmn[s] & 63) | (qmn[s + 4] >> 4) << 6);
    scales[s + 8] = uint8_t((qsc[s + 4] & 15) | (qmn[s + 4] & 15) << 4);
  }
  for (int s = 0; s < 8; ++s) {
    const float step = dq * float(qsc[s]), off = dminq * float(qmn[s]);
    const float is = step != 0 ? 1.0f / step : 0.0f;
    for (int l = 0; l < 32; ++l) q[32 * s + l] = clampi(int(std::lround((x[32 * s + l] + off) * is)), 0, levels);
  }
}

void pack_k_nibbles(const int* q, uint8_t* qs) {
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) qs[32 * c + l] = uint8_t((q[64 * c + l] & 15) | (q[64 * c + 32 + l] & 15) << 4);
}

void quant_q6_k(const float* x, BlockQ6_K& b) {
  float sc[16], max_abs_sc = 0, max_sc = 0;
  for (int g = 0; g < 16; ++g) {
    float amax = 0, mx = 0;
    for (int l = 0; l < 16; ++l)
      if (std::fabs(x[16 * g + l]) > amax) {
        amax = std::fabs(x[16 * g + l]);
        mx = x[16 * g + l];
      }
    sc[g] = mx / -32.0f;
    if (std::fabs(sc[g]) > max_abs_sc) {
      max_abs_sc = std::fabs(sc[g]);
      max_sc = sc[g];
    }
  }
  const float d = max_sc / -128.0f;
  b.d = f32_to_f16(d);
  const float dq = f16_to_f32(b.d);
  int q[256];
  for (int g = 0; g < 16; ++g) {
    b.scales[g] = int8_t(clampi(dq != 0 ? int(std::lround(sc[g] / dq)) : 0, -128, 127));
    const float step = dq * float(b.scales[g]);
    const float is = step != 0 ? 1.0f / step : 0.0f;
    for (int l = 0; l < 16; ++l) q[16 * g + l] = clampi(int(std::lround(x[16 * g + l] * is)) + 32, 0, 63);
  }
  std::memset(b.ql, 0, sizeof b.ql);
  std::memset(b.qh, 0, sizeof b.qh);
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, r = e % 128, k = r / 32, l = r % 32;
    uint8_t& lo = b.ql[64 * h + 32 * (k & 1) + l];
    lo = uint8_t(lo | (k < 2 ? (q[e] & 15) : (q[e] & 15) << 4));
    b.qh[32 * h + l] = uint8_t(b.qh[32 * h + l] | ((q[e] >> 4) & 3) << (2 * k));
  }
}

}  // namespace

void dequantize_block(DType t, const void* block, float* out) {
  const int n = int(dtype_block(t));
  for (int j = 0; j < n; ++j) out[j] = elem(t, block, j);
}

void dequantize_row(DType t, const void* row, int64_t cols, float* out) {
  const int64_t bs = int64_t(dtype_block(t)), nb = cols / bs;
  const size_t sz = dtype_size(t);
  for (int64_t b = 0; b < nb; ++b) dequantize_block(t, static_cast<const uint8_t*>(row) + b * sz, out + b * bs);
}

float quant_weight_at(const WeightMatrix& w, int64_t r, int64_t c) {
  const size_t bs = dtype_block(w.dtype);
  const size_t nb = size_t(w.cols) / bs;
  const uint8_t* blk = static_cast<const uint8_t*>(w.data) + (size_t(r) * nb + size_t(c) / bs) * dtype_size(w.dtype);
  return elem(w.dtype, blk, int(size_t(c) % bs));
}

void quantize_row(DType t, const float* x, int64_t cols, void* out) {
  const int64_t bs = int64_t(dtype_block(t));
  if (bs <= 1 || cols % bs != 0) fail("quantize_row: ", cols, " values are not whole ", dtype_name(t), " blocks");
  const size_t sz = dtype_size(t);
  int q[256];
  for (int64_t b = 0; b < cols / bs; ++b) {
    const float* v = x + b * bs;
    void* blk = static_cast<uint8_t*>(out) + b * sz;
    switch (t) {
      case DType::Q4_0: {
        auto& o = *static_cast<BlockQ4_0*>(blk);
        quant_sym(v, 8, &o.d, q);
        pack_nibbles(q, o.qs);
        break;
      }
      case DType::Q5_0: {
        auto& o = *static_cast<BlockQ5_0*>(blk);
        quant_sym(v, 16, &o.d, q);
        pack_nibbles(q, o.qs);
        pack_high(q, o.qh);
        break;
      }
      case DType::Q4_1: {
        auto& o = *static_cast<BlockQ4_1*>(blk);
        quant_asym(v, 15, &o.d, &o.m, q);
        pack_nibbles(q, o.qs);
        break;
      }
      case DType::Q5_1: {
        auto& o = *static_cast<BlockQ5_1*>(blk);
        quant_asym(v, 31, &o.d, &o.m, q);
        pack_nibbles(q, o.qs);
        pack_high(q, o.qh);
        break;
      }
      case DType::Q8_0: quantize_row_q8_0(v, 32, static_cast<BlockQ8_0*>(blk)); break;  // quant.cpp
      case DType::Q4_K: {
        auto& o = *static_cast<BlockQ4_K*>(blk);
        quant_k(v, 15, &o.d, &o.dmin, o.scales, q);
        pack_k_nibbles(q, o.qs);
        break;
      }
      case DType::Q5_K: {
        auto& o = *static_cast<BlockQ5_K*>(blk);
        quant_k(v, 31, &o.d, &o.dmin, o.scales, q);
        pack_k_nibbles(q, o.qs);
        std::memset(o.qh, 0, sizeof o.qh);
        for (int s = 0; s < 8; ++s)
          for (int l = 0; l < 32; ++l) o.qh[l] = uint8_t(o.qh[l] | ((q[32 * s + l] >> 4) & 1) << s);
        break;
      }
      case DType::Q6_K: quant_q6_k(v, *static_cast<BlockQ6_K*>(blk)); break;
      default: fail("quantize_row: ", dtype_name(t), " is not a block format");
    }
  }
}

void matmul_rows_quant_scalar(const float* x, int n, int64_t xstride, const WeightMatrix& w, int64_t r0, int64_t r1,
                              float* y, int64_t ystride) {
  std::vector<float> row(size_t(w.cols));
  const size_t row_bytes = size_t(w.cols) / dtype_block(w.dtype) * dtype_size(w.dtype);
  for (int64_t r = r0; r < r1; ++r) {
    dequantize_row(w.dtype, static_cast<const uint8_t*>(w.data) + size_t(r) * row_bytes, w.cols, row.data());
    for (int t = 0; t < n; ++t) {
      const float* xt = x + t * xstride;
      float acc = 0.0f;
      for (int64_t c = 0; c < w.cols; ++c) acc += xt[c] * row[c];
      y[t * ystride + r] = acc;
    }
  }
}

}  // namespace s1::cpu
