// Q8_0_IL layout (q8_interleaved.h): the reordering, its inverse, the scalar reading of
// one element and the scalar reference of the kernel's input.
#include "backend/cpu/q8_interleaved.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "backend/cpu/simd_kernels.h"
#include "core/error.h"

namespace s1::cpu {

void interleave_q8_0_quad(const BlockQ8_0* src, int64_t nb, uint8_t* dst) {
  for (int64_t g = 0; g < nb; g += kQ8GroupBlocks) {
    const int64_t n = q8_il_group_blocks(32 * nb, g);
    for (int64_t j = 0; j < kQ8QuadRows; ++j)
      for (int64_t i = 0; i < n; ++i) std::memcpy(dst + 2 * (j * n + i), &src[j * nb + g + i].d, 2);
    uint8_t* q = dst + 2 * kQ8QuadRows * n;
    for (int k = 0; k < 8; ++k)
      for (int64_t j = 0; j < kQ8QuadRows; ++j)
        for (int64_t i = 0; i < n; ++i)
          for (int e = 0; e < 4; ++e) *q++ = uint8_t(int(src[j * nb + g + i].q[4 * k + e]) + 128);
    dst += kQ8QuadRows * 34 * n;
  }
}

namespace {
// Where block b of row r of a plain Q8_0_IL matrix is: its scale at `scale`, byte e of
// its chunk k at q + k * step + e.
struct BlockPos {
  const uint8_t* scale;
  const uint8_t* q;
  int64_t step;
};
BlockPos block_pos(const WeightMatrix& w, int64_t r, int64_t b) {
  const int64_t g = b / kQ8GroupBlocks * kQ8GroupBlocks, i = b - g, n = q8_il_group_blocks(w.cols, b);
  const int64_t j = r % kQ8QuadRows;
  const uint8_t* quad = static_cast<const uint8_t*>(w.data) + size_t(r / kQ8QuadRows) * kQ8QuadRows * w.row_bytes(w.cols);
  const uint8_t* grp = quad + size_t(kQ8QuadRows * 34 * g);  // every earlier group is a full one
  return {grp + 2 * (j * n + i), grp + 2 * kQ8QuadRows * n + 4 * (j * n + i), 4 * kQ8QuadRows * n};
}
}  // namespace

float q8_il_element(const WeightMatrix& w, int64_t r, int64_t c) {
  const BlockPos p = block_pos(w, r, c / 32);
  const int64_t j = c % 32;
  uint16_t d;
  std::memcpy(&d, p.scale, 2);
  return f16_to_f32(d) * float(int(p.q[p.step * (j / 4) + j % 4]) - 128);
}

void q8_il_row_to_q8_0(const WeightMatrix& w, int64_t r, BlockQ8_0* dst) {
  for (int64_t s = 0; s < w.segments(); ++s) {
    const int64_t q0 = r / kQ8QuadRows * kQ8QuadRows;
    const WeightMatrix seg = w.segment(s, q0, q0 + kQ8QuadRows);
    BlockQ8_0* out = dst + w.segment_col0(s) / 32;
    for (int64_t b = 0; b < seg.cols / 32; ++b) {
      const BlockPos p = block_pos(seg, r - q0, b);
      std::memcpy(&out[b].d, p.scale, 2);
      for (int j = 0; j < 32; ++j) out[b].q[j] = int8_t(int(p.q[p.step * (j / 4) + j % 4]) - 128);
    }
  }
}

int64_t q8_il_decode_col_block(int64_t cols) {
  if (cols <= kQ8ILMaxSegmentCols) return 0;
  const int64_t segments = (cols + kQ8ILMaxSegmentCols - 1) / kQ8ILMaxSegmentCols;
  const int64_t per = (cols + segments - 1) / segments;
  return (per + kQ8GroupCols - 1) / kQ8GroupCols * kQ8GroupCols;
}

bool can_interleave_q8_0(const WeightMatrix& w) {
  return w.dtype == DType::Q8_0 && w.cols % 32 == 0 && w.rows % kQ8QuadRows == 0 && w.col_block % kQ8GroupCols == 0;
}

WeightMatrix interleave_q8_0_in_place(const WeightMatrix& w) {
  if (!can_interleave_q8_0(w))
    fail("interleave_q8_0: a ", w.rows, "x", w.cols, " ", dtype_name(w.dtype), " matrix with column segments of ",
         w.col_block, " (Q8_0, rows a multiple of ", kQ8QuadRows, ", segments a multiple of ", kQ8GroupCols,
         " columns)");
  std::vector<BlockQ8_0> quad;
  for (int64_t s = 0; s < w.segments(); ++s) {
    const WeightMatrix seg = w.segment(s, 0, w.rows);
    const int64_t nb = seg.cols / 32;
    const size_t quad_bytes = kQ8QuadRows * seg.row_bytes(seg.cols);
    quad.resize(size_t(kQ8QuadRows * nb));
    auto* base = static_cast<uint8_t*>(const_cast<void*>(seg.data));
    for (int64_t r = 0; r < seg.rows; r += kQ8QuadRows) {
      uint8_t* p = base + size_t(r / kQ8QuadRows) * quad_bytes;
      std::memcpy(quad.data(), p, quad_bytes);
      interleave_q8_0_quad(quad.data(), nb, p);
    }
  }
  WeightMatrix out = w;
  out.dtype = DType::Q8_0_IL;
  return out;
}

void Q8ILInput::resize(int tokens, int64_t ncols) {
  n = tokens;
  cols = ncols;
  const size_t vals = size_t(tokens) * size_t(ncols), blocks = vals / 32;
  // split, d, cx one after another; split starts on a cache line (the kernel's loads of
  // whole groups are then aligned).
  const size_t split_bytes = (2 * vals + 63) / 64 * 64;
  const size_t bytes = split_bytes + 2 * blocks * sizeof(float);
  if (bytes > capacity_) {
    mem_.reset(static_cast<uint8_t*>(::operator new[](bytes, std::align_val_t(64))));
    capacity_ = bytes;
  }
  uint8_t* p = mem_.get();
  split = reinterpret_cast<int8_t*>(p);
  d = reinterpret_cast<float*>(p + split_bytes);
  cx = d + blocks;
}

void prepare_q8_il_input_scalar(const float* x, int n, int64_t cols, Q8ILInput& in) {
  in.resize(n, cols);
  const int64_t nb = cols / 32;
  for (int t = 0; t < n; ++t) {
    const float* xt = x + int64_t(t) * cols;
    for (int64_t b = 0; b < nb; ++b) {
      const float* v = xt + 32 * b;
      float amax = 0;
      for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(v[j]));
      const float d = amax / 32639.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
      const int64_t lo_off = 4 * q8_il_group_blocks(cols, b);
      int sum = 0;
      for (int j = 0; j < 32; ++j) {
        const int q = int(std::nearbyint(v[j] * id));  // ties to even, as vcvtps2dq
        const int h = (q + 128) >> 8;
        int8_t* hi = in.split + q8_il_split_at(cols, t, b, j);
        hi[0] = int8_t(h);
        hi[lo_off] = int8_t(q - 256 * h);
        sum += q;
      }
      in.d[t * nb + b] = d;
      in.cx[t * nb + b] = -128.0f * d * float(sum);
    }
  }
}

bool q8_il_path() {
  static const bool ok = [] {
    __builtin_cpu_init();
    const char* e = std::getenv("S1_Q8_IL");
    return q8_int_path() && __builtin_cpu_supports("avx512vnni") && !(e && std::strcmp(e, "0") == 0);
  }();
  return ok;
}

}  // namespace s1::cpu
