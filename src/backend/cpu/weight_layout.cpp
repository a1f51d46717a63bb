#include "backend/cpu/weight_layout.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "core/error.h"

namespace s1::cpu {

namespace {
int64_t block_setting() {
  static const int64_t b = [] {
    const char* e = std::getenv("S1_COL_BLOCK");
    if (!e || !*e) return kDecodeColBlock;
    char* end = nullptr;
    const long long v = std::strtoll(e, &end, 10);
    if (*end != '\0' || v < 0 || v % 32 != 0)
      fail("S1_COL_BLOCK=", e, ": expected 0 (plain rows) or a positive multiple of 32 columns");
    return int64_t(v);
  }();
  return b;
}
}  // namespace

int64_t decode_col_block(const WeightMatrix& w, int64_t block) {
  const int64_t b = block < 0 ? block_setting() : block;
  if (b % 32 != 0) fail("column block ", b, ": expected a multiple of 32 columns");
  if (b == 0 || w.cols <= b || b % int64_t(dtype_block(w.dtype)) != 0) return 0;
  return b;
}

WeightMatrix copy_col_blocked(const WeightMatrix& src, int64_t col_block, void* dst) {
  if (src.col_block != 0) fail("copy_col_blocked: the source matrix is already column-blocked");
  WeightMatrix out{src.dtype, dst, src.rows, src.cols, col_block >= src.cols ? 0 : col_block};
  auto* d = static_cast<uint8_t*>(dst);
  if (out.col_block == 0) {
    std::memcpy(d, src.data, src.bytes());
    return out;
  }
  const auto* s = static_cast<const uint8_t*>(src.data);
  const size_t src_row = src.row_bytes(src.cols);
  for (int64_t seg = 0; seg < out.segments(); ++seg) {
    const WeightMatrix part = out.segment(seg, 0, out.rows);
    const size_t len = part.row_bytes(part.cols), off = src.row_bytes(out.segment_col0(seg));
    auto* to = static_cast<uint8_t*>(const_cast<void*>(part.data));
    for (int64_t r = 0; r < src.rows; ++r) std::memcpy(to + size_t(r) * len, s + size_t(r) * src_row + off, len);
  }
  return out;
}

void copy_plain_row(const WeightMatrix& w, int64_t r, void* dst) {
  auto* d = static_cast<uint8_t*>(dst);
  for (int64_t seg = 0; seg < w.segments(); ++seg) {
    const WeightMatrix part = w.segment(seg, r, r + 1);
    std::memcpy(d + w.row_bytes(w.segment_col0(seg)), part.data, part.row_bytes(part.cols));
  }
}

}  // namespace s1::cpu
