// CPU kernels of the training backward pass (the forward reuses the Backend's kernels).
// Plain C++ compiled once per x86-64 level (GCC target_clones: AVX-512, AVX2, baseline)
// and picked at load time, so the build stays portable like backend/cpu's dispatch.
#pragma once
#include <cstdint>

namespace s1::train_kernels {

// C[i][j] += sum_k A(i,k) * B[k][j] for i < M, j < N, k < K, where A(i,k) = a[i*sai + k*sak]
// (so A or its transpose), B row-major with row stride ldb, C row-major with stride ldc.
// Covers both products of a linear layer's backward: dX = dY·W and dW += dYᵀ·X.
void gemm_acc(int64_t M, int64_t N, int64_t K, const float* a, int64_t sai, int64_t sak, const float* b, int64_t ldb,
              float* c, int64_t ldc, int threads);

// y = w * x / rms(x) per row; dx += dL/dx, dw += dL/dw given dy.
void rmsnorm_backward(const float* x, const float* w, const float* dy, int64_t rows, int64_t dim, float eps, float* dx,
                      float* dw);

// Rotary embedding transposed (rotation by -angle): the gradient of Backend::rope.
void rope_backward(float* x, int64_t n, int heads, int head_dim, int64_t stride, const double* inv_freq);

// Causal softmax attention of one sequence (q [n][heads*D], k / v [n][kv_heads*D],
// dout like q), softmax recomputed: writes dq, dk, dv (overwritten).
void attention_backward(const float* q, const float* k, const float* v, const float* dout, int64_t n, int heads,
                        int kv_heads, int head_dim, float* dq, float* dk, float* dv, int threads);

// gu rows are [gate (I) | up (I)]; act = silu(gate) * up. dgu = d(act)/d(gu) · dact.
void swiglu_backward(const float* gu, const float* dact, int64_t n, int64_t I, float* dgu);

// Softmax cross-entropy of `rows` logit rows against targets (all valid), in place:
// each row becomes scale * (softmax - onehot). Returns the sum of the rows' losses.
double cross_entropy_backward(float* logits, const int32_t* targets, int64_t rows, int64_t vocab, float scale,
                              int threads);

// db[i] += sum_t dy[t][i]
void colsum_acc(const float* dy, int64_t n, int64_t dim, float* db);

}  // namespace s1::train_kernels
