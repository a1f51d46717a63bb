// The column-blocked weight layout (WeightMatrix::col_block) that one-token matmuls
// read fastest on long rows: which block a matrix gets, and the copy into it.
#pragma once
#include <cstdint>

#include "backend/backend.h"

namespace s1::cpu {

// Columns per segment for a matrix read at every decoded token: `block` when its rows
// are longer than that and the block keeps the format's blocks whole, else 0 (plain
// rows). block < 0 means the default: S1_COL_BLOCK=N from the environment (0 keeps
// every matrix plain; N a multiple of 32, anything else is an error), else
// kDecodeColBlock (measured on the 0.5B shape's 896 x 4864 down projection: 1024 and
// 2048 alike, 512 slower; 1024 on 3584-column rows).
constexpr int64_t kDecodeColBlock = 1024;
int64_t decode_col_block(const WeightMatrix& w, int64_t block = -1);

// Copies plain row-major `src` into dst (src.bytes() bytes) in the layout of col_block,
// and returns the matrix that describes dst. col_block 0 is a plain copy.
WeightMatrix copy_col_blocked(const WeightMatrix& src, int64_t col_block, void* dst);

// Row r of w, in either layout, as its plain stored bytes (w.row_bytes(w.cols) of them).
void copy_plain_row(const WeightMatrix& w, int64_t r, void* dst);

}  // namespace s1::cpu
