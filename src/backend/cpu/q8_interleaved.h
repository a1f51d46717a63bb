// Q8_0_IL: Q8_0 weights with their bytes reordered for vpdpbusd (AVX512-VNNI), made at
// load from Q8_0 (the same values, the same number of bytes) and read by one-token and
// prefill matmuls alike (matmul_q8_il_avx512.cpp).
//
// Why: a Q8_0 block has its own scale, so the plain layout costs a widening, a multiply,
// a conversion and a scaled add for every 32 weights. That kept Q8_0 decode compute-bound
// at ~24 GB/s per core, below the ~31 GB/s one core reads. Here a 64-byte load holds four
// weights of each of 16 blocks, so eight vpdpbusd leave every 32-bit lane with one
// block's whole integer dot product, and one conversion and one multiply by 16 scales
// serve 16 blocks. The kernel works on four rows at once, so they share each load of the
// activations; the four rows are stored interleaved in the order the kernel reads them,
// one sequential stream (as four separate rows, or even as four rows one after another
// group by group, the hardware prefetchers lost the thread: ~11 GB/s from DRAM on one
// core, against ~24 for the plain layout's one stream). Measured on one core, Q8_0 decode
// of the 0.5B shape: 44 -> 54 tok/s, the matmuls at ~32 GB/s; prefill 2x (s1 bench,
// bench_decode_ab's Q8Ffn24).
//
// Layout: rows in quads (rows % 4 == 0). A row (of one column segment,
// WeightMatrix::col_block) is cut into groups of 16 blocks (512 columns); the last group
// of a row may have fewer, n. A quad stores group 0 of its four rows, then group 1, and
// so on. A quad's group is
//   the n f16 scales of row 0, of row 1, of row 2, of row 3; then
//   for k = 0..7, for row j = 0..3, for block i = 0..n-1: q[4k..4k+3] of block i + 128
// (unsigned bytes: vpdpbusd multiplies unsigned by signed), so the kernel reads it from
// start to end. Column segments must start on a group boundary (col_block a multiple of
// 512, or 0), so a segment's rows are the same groups as the whole row's, and a
// matrix's row ranges must start on a quad.
#pragma once
#include <cstdint>
#include <memory>
#include <new>

#include "backend/backend.h"
#include "backend/cpu/quant.h"

namespace s1::cpu {

constexpr int64_t kQ8GroupBlocks = 16;
constexpr int64_t kQ8GroupCols = 32 * kQ8GroupBlocks;

constexpr int64_t kQ8QuadRows = 4;

// Column segment width given to a Q8_0_IL matrix read at every decoded token: 0 (plain
// rows) up to kQ8ILMaxSegmentCols columns, else the row cut into the fewest segments of at
// most that many columns, each a whole number of groups (4864 columns: 2560 + 2304).
// Why: a quad of long rows sweeps the whole activation row (2 bytes a column) between two
// reads of any part of it; at 4864 columns that is ~11 KB of activations against ~21 KB
// of weights, which no longer stay together in the 32 KB L1, and the reloads cost the
// stream from DRAM. Measured on one core over 24 down projections of the 0.5B shape
// (896 x 4864): plain rows 24-26 GB/s, segments of 2560 30-31 (the gate / up matrices,
// 896 columns, read 31-32); 1536 28-30, 3072 29-31.
constexpr int64_t kQ8ILMaxSegmentCols = 2560;
int64_t q8_il_decode_col_block(int64_t cols);

// Whether a Q8_0 matrix can take the layout (whole quads of rows, column segments that
// start on groups).
bool can_interleave_q8_0(const WeightMatrix& w);
// Reorders a Q8_0 matrix (either column layout) in place into Q8_0_IL and returns it.
WeightMatrix interleave_q8_0_in_place(const WeightMatrix& w);
// One quad of rows of nb blocks each: plain Q8_0 rows (4 x nb blocks) -> interleaved.
void interleave_q8_0_quad(const BlockQ8_0* src, int64_t nb, uint8_t* dst);
// Row r of a Q8_0_IL matrix (either column layout) as plain Q8_0 blocks (cols / 32).
void q8_il_row_to_q8_0(const WeightMatrix& w, int64_t r, BlockQ8_0* dst);
// Element (r, c) of a plain (col_block 0) Q8_0_IL matrix: the scalar reference.
float q8_il_element(const WeightMatrix& w, int64_t r, int64_t c);

// Activations for the Q8_0_IL kernel, n tokens of `cols` values. Each 32 values v are
// rounded to int16 q = v / d, d = max|v| / 32639, and split q = 256 hi + lo with hi, lo
// signed bytes (32639 keeps hi within -127..127). With the weights stored as w + 128, a
// block's dot product is
//   d_w d (256 sum (w+128) hi + sum (w+128) lo) - 128 d_w d sum q
// and cx = -128 d sum q is kept per block for the second term.
// The split bytes, 2 per value, are in the weights' group order with hi and lo side by
// side: token t's group that starts at block g (n_g blocks) is at split + 2 t cols + 64 g,
// and its chunk k (values 4k..4k+3 of every block) is 4 n_g bytes of hi, then 4 n_g of lo
// (q8_il_split_at). Why side by side: the kernel reads a chunk's hi and lo together, and
// as one sequential stream in L1 they slow the weights' stream from DRAM less than as two
// arrays. Two threads over a 145 MB matrix of 2560-column rows, at the high bandwidth
// level: 0.83 of a plain read of the same bytes with two arrays, 0.94 side by side; in
// the decoded token (Q8_0, 0.5B shape, 512) +3.4%.
struct Q8ILInput {
  int n = 0;
  int64_t cols = 0;
  int8_t* split = nullptr;  // n * 2 * cols
  float* d = nullptr;       // n * cols / 32
  float* cx = nullptr;

  void resize(int tokens, int64_t ncols);

 private:
  struct Free {
    void operator()(uint8_t* p) const { ::operator delete[](p, std::align_val_t(64)); }
  };
  std::unique_ptr<uint8_t, Free> mem_;
  size_t capacity_ = 0;
};

// The blocks in the group of block b of a `cols`-column row: 16, or fewer in the last.
inline int64_t q8_il_group_blocks(int64_t cols, int64_t b) {
  const int64_t nb = cols / 32, g = b / kQ8GroupBlocks * kQ8GroupBlocks;
  return nb - g < kQ8GroupBlocks ? nb - g : kQ8GroupBlocks;
}
// Where hi of value j (0..31) of block b of token t sits in Q8ILInput::split; lo is
// 4 q8_il_group_blocks(cols, b) bytes further.
inline int64_t q8_il_split_at(int64_t cols, int t, int64_t b, int j) {
  const int64_t g = b / kQ8GroupBlocks * kQ8GroupBlocks;
  return 2 * int64_t(t) * cols + 64 * g + 8 * q8_il_group_blocks(cols, b) * (j / 4) + 4 * (b - g) + j % 4;
}

// Scalar reference of the kernel's input (the kernel's own is prepare_q8_il_input_avx512).
void prepare_q8_il_input_scalar(const float* x, int n, int64_t cols, Q8ILInput& in);

bool q8_il_path();  // AVX512-VNNI present and not disabled by S1_Q8_IL=0 (or S1_Q8_FLOAT)

// Compiled with AVX512-VNNI (only called where q8_il_path()):
void prepare_q8_il_input_avx512(const float* x, int n, int64_t cols, Q8ILInput& in);
// The same for groups g0 .. g1 - 1 (of kQ8GroupBlocks blocks) of token 0 only, into an
// input already sized (in.resize(1, cols)): threads can split a row between them.
void prepare_q8_il_groups_avx512(const float* x, int64_t cols, int64_t g0, int64_t g1, Q8ILInput& in);
// y[t * ystride + r] for t < n, r0 <= r < r1 (both multiples of 4): rows of `w` (one
// column segment, col_block 0, Q8_0_IL) times the input's columns col0 .. col0 + w.cols.
void matmul_rows_q8_il(const Q8ILInput& in, int64_t col0, int n, const WeightMatrix& w, int64_t r0, int64_t r1,
                       float* y, int64_t ystride);

}  // namespace s1::cpu
