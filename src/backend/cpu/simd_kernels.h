// Per-ISA inner kernels. Each ISA's file is compiled with its own -m flags (see
// CMakeLists.txt) and only called after the CPU was checked (dispatch.cpp), so the
// portable build still runs on any x86-64. Files compiled with wider flags keep their
// helpers in anonymous namespaces: no inline function with AVX-512 code can leak into
// generic code through the linker.
#pragma once
#include <cstdint>

#include "backend/backend.h"

namespace s1::cpu {

// y[t * ystride + r] = dot(x[t * xstride ..], w row r) for t < n, r0 <= r < r1.
using MatmulRowsFn = void (*)(const float* x, int n, int64_t xstride, const WeightMatrix& w, int64_t r0,
                              int64_t r1, float* y, int64_t ystride);

void matmul_rows_scalar(const float* x, int n, int64_t xstride, const WeightMatrix& w, int64_t r0, int64_t r1,
                        float* y, int64_t ystride);
void matmul_rows_avx2(const float* x, int n, int64_t xstride, const WeightMatrix& w, int64_t r0, int64_t r1,
                      float* y, int64_t ystride);
void matmul_rows_avx512(const float* x, int n, int64_t xstride, const WeightMatrix& w, int64_t r0, int64_t r1,
                        float* y, int64_t ystride);

enum class Isa { Scalar, Avx2, Avx512 };
const char* isa_name(Isa isa);
Isa best_isa();  // what this CPU supports, capped by env S1_ISA=scalar|avx2|avx512
bool isa_supported(Isa isa);
MatmulRowsFn matmul_rows_for(Isa isa);

// Scalar conversion of one stored weight element (reference for every SIMD path).
float weight_at(const WeightMatrix& w, int64_t r, int64_t c);

}  // namespace s1::cpu
