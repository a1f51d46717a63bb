// Per-ISA inner kernels. Each ISA's file is compiled with its own -m flags (see
// CMakeLists.txt) and only called after the CPU was checked (dispatch.cpp), so the
// portable build still runs on any x86-64. Files compiled with wider flags keep their
// helpers in anonymous namespaces: no inline function with AVX-512 code can leak into
// generic code through the linker.
#pragma once
#include <cstddef>
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

// Attention of `group` query heads sharing one kv head over cache rows 0..len-1
// (see attention_avx512.cpp). Requires attention_simd_head_dim(head_dim) and group <= 256.
// key_blocks: keys in AttentionShape::key_blocks layout (values still kv_stride apart).
void attention_group_avx512(const float* q, int64_t q_head_stride, int group, const float* k, const float* v,
                            int64_t kv_stride, bool key_blocks, int64_t len, int head_dim, float scale, float* scratch,
                            float* out);
// The head sizes the AVX-512 attention kernels take (head_dim / 16 of 1-6, 8 or 16);
// others go to the scalar reference.
bool attention_simd_head_dim(int head_dim);
bool bf16_attention_path();  // AVX-512 chosen (best_isa) and AVX512-BF16 present
// The same over a bf16 cache (AttentionShape::bf16_kv; k and v offset to the kv head),
// AVX512-BF16: only where __builtin_cpu_supports("avx512bf16"), for group <= 16 and
// attention_simd_head_dim. scratch: group * min(len, 256) floats.
void attention_group_bf16_avx512(const float* q, int64_t q_head_stride, int group, const uint16_t* k, const uint16_t* v,
                                 int64_t len, int head_dim, float scale, float* scratch, float* out);
// The same computed with FMAs on the bf16 widened to f32 instead of vdpbf16ps (the same
// products, summed in another order); same requirements.
void attention_group_bf16_fma_avx512(const float* q, int64_t q_head_stride, int group, const uint16_t* k,
                                     const uint16_t* v, int64_t len, int head_dim, float scale, float* scratch,
                                     float* out);
// Which of the two the backend runs: vdpbf16ps (true) where it is the faster, i.e. not on
// Intel (attention_bf16_avx512.cpp says why); env S1_BF16_ATTENTION=dot|fma chooses.
// The setter is for benchmarks and tests, not for use while kernels run.
bool bf16_attention_dot();
void set_bf16_attention_dot(bool dot);

// Whether the backend pulls a layer's KV cache into L2 during its Q/K/V matmul
// (Backend::prefetch_during_next): not on Intel, elsewhere yes; env S1_KV_PREFETCH=0|1
// chooses. Why: on the Zen 4 VM it moved attention's reads into the matmul (attention
// 0.39-0.46 -> 0.35-0.40 ms a token at 512, the token within noise). On the Emerald
// Rapids VM, where the weights stream at the probe's rate with their own prefetch plan
// and attention prefetches its blocks as it goes, those extra prefetches only slowed the
// weights: leaving them out, in one process (toggled every 8 tokens, 15-40 pairs a run),
// Q8_0 x1.007-1.033 at 4096 (three runs) and x0.998-1.019 at 512 (two), bf16 x1.020-1.051
// at 4096 (two) and x1.016 at 512. The setter is for benchmarks.
bool kv_side_prefetch();
void set_kv_side_prefetch(bool on);

// Whether AVX-512 prefill over float weights packs 16-row blocks (matmul_avx512.cpp,
// rows_packed); env S1_PACKED_PREFILL=0 turns it off. The setter is for benchmarks and tests.
bool packed_prefill();
void set_packed_prefill(bool on);

// The CPU is an Intel one (the choices above that depend on the microarchitecture, not
// the instruction set, were measured on an Intel Emerald Rapids VM and an AMD Zen 4 VM).
bool cpu_is_intel();
// Scalar reference of that: the query and the probabilities rounded to bf16 as there,
// sums in f32 (query / output heads head_dim apart; score: len floats).
void attention_group_bf16_scalar(const float* q, int group, const uint16_t* k, const uint16_t* v, int64_t len,
                                 int head_dim, float scale, float* score, float* out);
// Scalar reference of the same (query / output heads head_dim apart).
void attention_group_scalar(const float* q, int group, const float* k, const float* v, int64_t kv_stride,
                            bool key_blocks, int64_t len, int head_dim, float scale, float* score, float* out);

// One token, bf16 weights, x rounded to bf16 (AVX512-BF16 vdpbf16ps): only where
// __builtin_cpu_supports("avx512bf16"). Measured in bench_decode_ab, not dispatched.
void matmul_rows_bf16dot_avx512(const float* x, const WeightMatrix& w, int64_t r0, int64_t r1, float* y);
void matmul_rows_avx512_stream(const float* x, const WeightMatrix& w, int64_t r0, int64_t r1, float* y);

// out[i] = silu(gate[i]) * up[i]
void swiglu_avx512(const float* gate, const float* up, size_t n, float* out);
// y = x / rms(x) * w over one row of dim values (the sum of squares in double, as the
// scalar reference in cpu_backend.cpp; only its summation order differs).
void rmsnorm_row_avx512(const float* x, const float* w, int dim, float eps, float* y);

// Q8_0 weights times activations already quantised to int16 blocks (xq: n rows of
// blocks, token t's at xq + t * xq_stride), AVX-512BW. See matmul_q8_i16.cpp.
struct BlockI16;
void matmul_rows_q8_i16(const BlockI16* xq, int64_t xq_stride, int n, const WeightMatrix& w, int64_t r0, int64_t r1,
                        float* y, int64_t ystride);
bool q8_int_path();  // AVX-512 present and not disabled by S1_Q8_FLOAT=1
// quantize_row_i16 (quant.h) vectorised; rounds half to even (the reference: half away).
void quantize_row_i16_avx512(const float* x, int64_t cols, BlockI16* dst);

// How the one-token weight streams (row_stream_bf16, the Q8_0_IL kernel, and s1 bench
// --plain-read's read) prefetch ahead of their loads: prefetcht1 (into L2) l2_bytes ahead,
// and prefetcht0 (into L1) l1_bytes ahead as well, on every line or on every other line.
// l2_bytes 0 turns it off. The default depends on the CPU (below); env
// S1_WEIGHT_PREFETCH=L2[,L1[,LINES]] sets it (S1_WEIGHT_PREFETCH=0: off). The setter is for
// benchmarks (bench_decode_ab) and tests, not for use while kernels run.
//
// Why, on AMD Zen 4 (the 2-core VM; default 4096, 0, 2): with both cores reading at its
// high bandwidth level the hardware prefetchers alone left the bf16 kernel at 0.93 of a
// plain read of the same matrix (two threads, the 272 MB output head, 136 alternating
// rounds); one prefetcht1 per 128 bytes, 2-8 KB ahead, brought it to 1.01-1.03 (+10%),
// and the whole decoded token +6% (bf16) and +3% (Q8_0) at position 512. Every line, or
// into L1, was slower than none (0.78-0.83): there the prefetches compete with the demand
// loads for the L1's miss buffers. At the low level (~32 GB/s) it is neutral.
//
// Why, on Intel (the 2-core Emerald Rapids VM; default 8192, 4096, 1): there the L2
// streamer alone does not keep two cores' streams ahead, and a prefetch on one line in
// two leaves half the misses to the demand loads. Two threads on the bf16 head through the
// backend, as a fraction of the probe (bench_decode_ab Head2Threads_Prefetch): none 0.64,
// every other line 0.77, every line 0.91. A second prefetch into L1 half as far ahead
// takes a 1 GB bf16 matrix from 0.94-0.95 of the probe to 0.99-1.01 (1 and 2 threads,
// 20-25 alternating rounds; 4 KB + 8 KB, 4 + 12, 4 + 16 and 6 + 12 alike, 2 + 4 0.96-0.98).
struct WeightPrefetch {
  int l2_bytes = 4096;
  int l1_bytes = 0;
  int lines = 2;  // 1 or 2
};
const WeightPrefetch& weight_prefetch();
void set_weight_prefetch(const WeightPrefetch& p);
WeightPrefetch default_weight_prefetch();  // this CPU's, whatever the environment says

enum class Isa { Scalar, Avx2, Avx512 };
const char* isa_name(Isa isa);
Isa best_isa();  // what this CPU supports, capped by env S1_ISA=scalar|avx2|avx512
bool isa_supported(Isa isa);
MatmulRowsFn matmul_rows_for(Isa isa);

// Scalar conversion of one stored weight element (reference for every SIMD path).
float weight_at(const WeightMatrix& w, int64_t r, int64_t c);

}  // namespace s1::cpu
