// How every ISA's matmul walks its tiles (included by the per-ISA kernel files, each
// compiled with its own -m flags: an anonymous namespace gives each its own copy).
// Prompt tokens go in groups of 4 through 2-row x 4-token tiles (each weight vector
// feeds 4 FMAs); the remaining tokens one at a time through 4-row tiles (four
// independent FMA chains). `tile` is a template lambda <ROWS, TOKS>(x, xstride, w, r,
// y, ystride) computing rows r .. r+ROWS-1 for TOKS tokens.
#pragma once
#include <cstdint>

#include "backend/backend.h"

namespace s1::cpu {
namespace {

// Returns the first token not covered (n rounded down to a multiple of 4).
template <class Tile>
inline int walk_token_groups(const Tile& tile, const float* x, int n, int64_t xstride, const WeightMatrix& w,
                             int64_t r0, int64_t r1, float* y, int64_t ystride) {
  int t = 0;
  for (; t + 4 <= n; t += 4) {
    int64_t r = r0;
    for (; r + 2 <= r1; r += 2) tile.template operator()<2, 4>(x + t * xstride, xstride, w, r, y + t * ystride, ystride);
    for (; r < r1; ++r) tile.template operator()<1, 4>(x + t * xstride, xstride, w, r, y + t * ystride, ystride);
  }
  return t;
}

template <class Tile>
inline void walk_single_tokens(const Tile& tile, int t, const float* x, int n, int64_t xstride, const WeightMatrix& w,
                               int64_t r0, int64_t r1, float* y, int64_t ystride) {
  for (; t < n; ++t) {
    int64_t r = r0;
    for (; r + 4 <= r1; r += 4) tile.template operator()<4, 1>(x + t * xstride, xstride, w, r, y + t * ystride, ystride);
    for (; r < r1; ++r) tile.template operator()<1, 1>(x + t * xstride, xstride, w, r, y + t * ystride, ystride);
  }
}

}  // namespace
}  // namespace s1::cpu
