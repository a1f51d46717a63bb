// The backend boundary. The model (model/transformer.cpp) is written once against
// this interface; a backend supplies memory and kernels. The CPU backend lives in
// backend/cpu; a CUDA backend adds its kernels behind the same calls, not a second model.
//
// Conventions: activations are f32, row-major, one row per token. A WeightMatrix is
// [rows = outputs][cols = inputs] in its stored dtype, used in place (often mmapped).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>

#include "core/dtype.h"

namespace s1 {

struct WeightMatrix {
  DType dtype = DType::F32;
  const void* data = nullptr;
  int64_t rows = 0, cols = 0;
  // 0: plain row-major. Otherwise the columns are cut into segments of col_block (the
  // last one may be shorter), stored one after another, each a row-major rows x len
  // matrix. A one-token matmul then streams each segment with only col_block floats of
  // the input live in L1; with rows of thousands of values the input fell out of L1
  // under the weight stream and decode lost a third of its bandwidth (backend/README.md).
  int64_t col_block = 0;

  size_t bytes() const { return size_t(rows) * row_bytes(cols); }
  size_t row_bytes(int64_t ncols) const { return size_t(ncols) / dtype_block(dtype) * dtype_size(dtype); }
  int64_t segments() const { return col_block > 0 ? (cols + col_block - 1) / col_block : 1; }
  int64_t segment_col0(int64_t s) const { return s * col_block; }
  // Rows r0..r1 of column segment s as a plain row-major matrix of (r1 - r0) rows.
  WeightMatrix segment(int64_t s, int64_t r0, int64_t r1) const {
    const int64_t c0 = col_block > 0 ? s * col_block : 0;
    const int64_t len = col_block > 0 ? (c0 + col_block < cols ? col_block : cols - c0) : cols;
    const auto* base = static_cast<const uint8_t*>(data) + size_t(rows) * row_bytes(c0);
    return WeightMatrix{dtype, base + size_t(r0) * row_bytes(len), r1 - r0, len, 0};
  }
};

struct AttentionShape {
  int heads, kv_heads, head_dim;
  int64_t q_stride;   // floats between consecutive tokens' q rows (and out rows)
  int64_t kv_stride;       // floats between consecutive positions in the K/V cache
  int64_t kv_head_stride;  // floats between kv heads in the K/V cache
  // Keys in blocks of 16 positions, dimension-major inside a block: key j, dimension d of
  // a kv head at k[(j / 16) * 16 * head_dim + d * 16 + j % 16] (kv_stride then applies to
  // the values only). The 16 scores of a block are then 16 lanes of FMAs over the
  // dimensions, with no horizontal sums (the score pass ran 1.85x faster that way), and
  // the CPU attends such keys chunk by chunk (cpu/attention_avx512.cpp).
  bool key_blocks = false;
  // Keys and values are bf16 (what a bf16 model's own cache holds in transformers), in
  // layouts for vdpbf16ps, which multiplies pairs of bf16: key j, dimension d of a kv
  // head at key_index_bf16(j, d), 16 positions x 2 dimensions to a 64-byte line; value j,
  // dimension d at value_index_bf16(j, d), 16 dimensions x 2 positions to a line. The
  // strides then count bf16 elements, and kv_stride is unused. Half the bytes of f32 and
  // half the instructions: decode attention is most of what grows with the context.
  bool bf16_kv = false;
};
// Position j's index inside a kv head's keys in the key-block layout, dimension 0.
inline int64_t key_block_index(int64_t j, int64_t head_dim) { return (j / 16) * 16 * head_dim + j % 16; }
// AttentionShape::bf16_kv layouts (indices in bf16 elements within a kv head).
inline int64_t key_index_bf16(int64_t j, int64_t d, int64_t head_dim) {
  return (j / 16) * 16 * head_dim + (d / 2) * 32 + (j % 16) * 2 + d % 2;
}
inline int64_t value_index_bf16(int64_t j, int64_t d, int64_t head_dim) { return (j / 2) * 2 * head_dim + d * 2 + j % 2; }

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  virtual int threads() const = 0;

  // Memory the kernels can read and write (host memory here, device memory in CUDA).
  virtual float* alloc(size_t n_floats) = 0;
  virtual void free(float* p) = 0;
  // Whether that memory is the host's, so kernels may write straight into a caller's
  // array (the logits: no 600 KB copy per decoded token).
  virtual bool host_memory() const { return false; }

  // out[t] = table[ids[t]] converted to f32.
  virtual void embed(const int32_t* ids, int n, const WeightMatrix& table, float* out) = 0;
  // y[t][r] = sum_c x[t][c] * w[r][c]  for t < n, r < w.rows; rows of y are w.rows apart.
  virtual void matmul(const float* x, int n, const WeightMatrix& w, float* y) = 0;
  // Several matmuls of the same input (Q, K, V; gate, up): one call, so a backend can
  // run them as one parallel region instead of one per matrix.
  // A job's bias, when given, is added to its rows (y[t][r] += bias[r]) by the same call,
  // so a backend can add it where the rows are computed instead of in a pass of its own.
  struct MatmulJob {
    const WeightMatrix* w;
    float* y;
    const float* bias = nullptr;
  };
  virtual void matmul_same_input(const float* x, int n, std::initializer_list<MatmulJob> jobs) {
    for (const auto& j : jobs) {
      matmul(x, n, *j.w, j.y);
      if (j.bias) add_bias(j.y, n, int(j.w->rows), j.bias);
    }
  }
  // The gated MLP of n rows: gate.y = silu(x . gate) * (x . up), then down.y = gate.y .
  // down (each job's bias added to its own product; up.y is scratch, gate.y keeps the
  // SwiGLU). One call, so a backend can keep each thread's share of the SwiGLU next to
  // the gate and up rows it computed instead of passing them between cores.
  virtual void mlp(const float* x, int n, const MatmulJob& gate, const MatmulJob& up, const MatmulJob& down) {
    matmul_same_input(x, n, {gate, up});
    swiglu(gate.y, up.y, size_t(n) * size_t(gate.w->rows), gate.y);
    matmul_same_input(gate.y, n, {down});
  }
  // y[t][i] += b[i]
  virtual void add_bias(float* y, int n, int dim, const float* b) = 0;
  // y[r] = x[r] / rms(x[r]) * w   for r < rows (in place allowed).
  virtual void rmsnorm(const float* x, const float* w, int rows, int dim, float eps, float* y) = 0;
  // The residual step between sublayers: x_out = x + y, then xn = rmsnorm(x_out) * w, for
  // `rows` rows of dim. x_out and xn must not overlap x or y (so threads may read x and y
  // while others write). A backend may keep copies of xn for its threads, read by the
  // next matmul call if its input is xn: nothing may write xn in between.
  virtual void add_rmsnorm(const float* x, const float* y, float* x_out, const float* w, int rows, int dim, float eps,
                           float* xn) {
    const size_t n = size_t(rows) * size_t(dim);
    copy(x_out, x, n);
    add(x_out, y, n);
    rmsnorm(x_out, w, rows, dim, eps, xn);
  }
  // Rotary embedding (rotate-half layout) on `heads` heads of each of n rows, row t at
  // position pos0 + t; inv_freq has head_dim/2 entries.
  virtual void rope(float* x, int n, int heads, int head_dim, int64_t stride, int64_t pos0, const double* inv_freq) = 0;
  // Causal attention of n query rows at positions pos0.. over the cache rows 0..pos0+t.
  // The cache holds f32, or bf16 where s.bf16_kv (only where supports_bf16_kv()).
  virtual void attention(const float* q, int n, const void* k_cache, const void* v_cache, int64_t pos0,
                         const AttentionShape& s, float* out) = 0;
  // Whether attention reads a bf16 cache at full speed (the CPU: AVX512-BF16).
  virtual bool supports_bf16_kv() const { return false; }
  // A hint: these bytes are read right after the next matmul call (a layer's KV cache,
  // read by its attention after the Q/K/V matmul), so a backend may pull them toward the
  // cores while that call streams its weights. Split evenly between the threads in the
  // order given (regions of kv head h first: its attention runs on one thread).
  struct Region {
    const void* data;
    size_t bytes;
  };
  virtual void prefetch_during_next(std::span<const Region> /*regions*/) {}
  // Runs `body`, one decoded token's forward pass, so that the backend's parallel calls
  // inside it start cheaply: the CPU backend keeps its threads waiting on a spin for the
  // whole body instead of starting a parallel region for every matmul. Exceptions from
  // body propagate.
  virtual void token_session(const std::function<void()>& body) { body(); }
  // out[i] = silu(gate[i]) * up[i]
  virtual void swiglu(const float* gate, const float* up, size_t n, float* out) = 0;
  // x[i] += y[i]
  virtual void add(float* x, const float* y, size_t n) = 0;
  // Copy between backend buffers, and to / from host memory.
  virtual void copy(float* dst, const float* src, size_t n) = 0;
  // dst[i * dst_stride] = src[i] for i < n (a key into the key-block layout).
  virtual void copy_strided(float* dst, int64_t dst_stride, const float* src, size_t n) = 0;
  // src[i] rounded to bf16 (to nearest even) into dst[(i / group) * dst_stride + i % group]
  // for i < n: a key or value into the AttentionShape::bf16_kv layouts.
  virtual void store_bf16(uint16_t* dst, int64_t dst_stride, int group, const float* src, size_t n) = 0;
  virtual void to_host(float* host_dst, const float* src, size_t n) = 0;
};

// The CPU backend; threads <= 0 means all cores.
std::unique_ptr<Backend> make_cpu_backend(int threads = 0);

}  // namespace s1
