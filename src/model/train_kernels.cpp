#include "model/train_kernels.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__)
#define S1_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define S1_CLONES
#endif

namespace s1::train_kernels {
namespace {

// 16-float vectors are only held in registers of the cloned kernels (never passed
// across an ABI boundary), so GCC's note about AVX-512 argument passing does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float v16 __attribute__((vector_size(64)));
__attribute__((always_inline)) inline v16 ld(const float* p) {
  v16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
__attribute__((always_inline)) inline void st(float* p, v16 v) { std::memcpy(p, &v, sizeof v); }

constexpr int64_t kNB = 64;   // columns of C per tile (4 vectors of 16)
constexpr int64_t kKB = 256;  // depth per pass: the B panel (256 x 64 floats) stays in L2
constexpr int64_t kMB = 64;   // rows of C per work item

// MR rows x 64 columns of C, accumulated over kn steps of k.
template <int MR>
__attribute__((always_inline)) inline void tile_full(int64_t kn, const float* a, int64_t sai, int64_t sak,
                                                     const float* b, int64_t ldb, float* c, int64_t ldc) {
  v16 acc[MR][4];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < 4; ++j) acc[i][j] = ld(c + i * ldc + 16 * j);
  for (int64_t k = 0; k < kn; ++k) {
    const float* bk = b + k * ldb;
    const v16 b0 = ld(bk), b1 = ld(bk + 16), b2 = ld(bk + 32), b3 = ld(bk + 48);
    for (int i = 0; i < MR; ++i) {
      const float av = a[i * sai + k * sak];
      acc[i][0] += av * b0;
      acc[i][1] += av * b1;
      acc[i][2] += av * b2;
      acc[i][3] += av * b3;
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < 4; ++j) st(c + i * ldc + 16 * j, acc[i][j]);
}

S1_CLONES void tile4(int64_t kn, const float* a, int64_t sai, int64_t sak, const float* b, int64_t ldb, float* c,
                     int64_t ldc) {
  tile_full<4>(kn, a, sai, sak, b, ldb, c, ldc);
}
S1_CLONES void tile1(int64_t kn, const float* a, int64_t sai, int64_t sak, const float* b, int64_t ldb, float* c,
                     int64_t ldc) {
  tile_full<1>(kn, a, sai, sak, b, ldb, c, ldc);
}

// Any shape (ragged edges): plain loops.
void tile_any(int64_t mr, int64_t nc, int64_t kn, const float* a, int64_t sai, int64_t sak, const float* b,
              int64_t ldb, float* c, int64_t ldc) {
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t k = 0; k < kn; ++k) {
      const float av = a[i * sai + k * sak];
      const float* bk = b + k * ldb;
      float* ci = c + i * ldc;
      for (int64_t j = 0; j < nc; ++j) ci[j] += av * bk[j];
    }
}

// Dot product of D floats: 16-lane partial sums when D allows (a plain float loop is a
// serial reduction the compiler may not reorder), else scalar.
__attribute__((always_inline)) inline float dot(const float* a, const float* b, int D) {
  if (D % 16 == 0) {
    v16 acc = ld(a) * ld(b);
    for (int d = 16; d < D; d += 16) acc += ld(a + d) * ld(b + d);
    float r = 0;
    for (int i = 0; i < 16; ++i) r += acc[i];
    return r;
  }
  float r = 0;
  for (int d = 0; d < D; ++d) r += a[d] * b[d];
  return r;
}

S1_CLONES void attention_row(const float* qh, const float* k, const float* v, const float* doh, int64_t len,
                             int64_t kv_stride, int D, float scale, float* p, float* dp, float* dqh, float* dk,
                             float* dv) {
  float m = -INFINITY;
  for (int64_t j = 0; j < len; ++j) {
    p[j] = dot(qh, k + j * kv_stride, D) * scale;
    m = std::max(m, p[j]);
  }
  double sum = 0;
  for (int64_t j = 0; j < len; ++j) {
    p[j] = std::exp(p[j] - m);
    sum += p[j];
  }
  const float inv = float(1.0 / sum);
  double dsum = 0;
  for (int64_t j = 0; j < len; ++j) {
    p[j] *= inv;
    const float s = dot(doh, v + j * kv_stride, D);
    dp[j] = s;
    dsum += double(p[j]) * s;
  }
  const float ds0 = float(dsum);
  for (int d = 0; d < D; ++d) dqh[d] = 0;
  for (int64_t j = 0; j < len; ++j) {
    const float ds = p[j] * (dp[j] - ds0) * scale;
    const float* kj = k + j * kv_stride;
    float* dkj = dk + j * kv_stride;
    float* dvj = dv + j * kv_stride;
    const float pj = p[j];
    for (int d = 0; d < D; ++d) {
      dqh[d] += ds * kj[d];
      dkj[d] += ds * qh[d];
      dvj[d] += pj * doh[d];
    }
  }
}

}  // namespace

void gemm_acc(int64_t M, int64_t N, int64_t K, const float* a, int64_t sai, int64_t sak, const float* b, int64_t ldb,
              float* c, int64_t ldc, int threads) {
  if (M <= 0 || N <= 0 || K <= 0) return;
  const int64_t npan = (N + kNB - 1) / kNB, mchunks = (M + kMB - 1) / kMB;
  const int64_t items = npan * mchunks;
  const int nt = int(std::max<int64_t>(1, std::min<int64_t>(threads, items)));
  // Items sharing a B panel are adjacent, so the threads work on the same panel at once.
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
  for (int64_t it = 0; it < items; ++it) {
    const int64_t j0 = (it / mchunks) * kNB, i0 = (it % mchunks) * kMB;
    const int64_t nc = std::min(kNB, N - j0), i1 = std::min(M, i0 + kMB);
    for (int64_t k0 = 0; k0 < K; k0 += kKB) {
      const int64_t kn = std::min(kKB, K - k0);
      const float* bk = b + k0 * ldb + j0;
      for (int64_t i = i0; i < i1;) {
        const float* ai = a + i * sai + k0 * sak;
        float* ci = c + i * ldc + j0;
        if (nc == kNB && i + 4 <= i1) {
          tile4(kn, ai, sai, sak, bk, ldb, ci, ldc);
          i += 4;
        } else if (nc == kNB) {
          tile1(kn, ai, sai, sak, bk, ldb, ci, ldc);
          i += 1;
        } else {
          tile_any(i1 - i, nc, kn, ai, sai, sak, bk, ldb, ci, ldc);
          i = i1;
        }
      }
    }
  }
}

void rmsnorm_backward(const float* x, const float* w, const float* dy, int64_t rows, int64_t dim, float eps, float* dx,
                      float* dw) {
  std::vector<double> dws(static_cast<size_t>(dim), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    const float* dr = dy + r * dim;
    float* o = dx + r * dim;
    double ss = 0, dot = 0;
    for (int64_t i = 0; i < dim; ++i) {
      ss += double(xr[i]) * xr[i];
      dot += double(w[i]) * dr[i] * xr[i];
    }
    const double inv = 1.0 / std::sqrt(ss / double(dim) + eps);
    const float a = float(inv), bcoef = float(inv * inv * inv * dot / double(dim));
    for (int64_t i = 0; i < dim; ++i) {
      o[i] += a * w[i] * dr[i] - bcoef * xr[i];
      dws[size_t(i)] += double(dr[i]) * xr[i] * inv;
    }
  }
  for (int64_t i = 0; i < dim; ++i) dw[i] += float(dws[size_t(i)]);
}

void rope_backward(float* x, int64_t n, int heads, int head_dim, int64_t stride, const double* inv_freq) {
  // The same angles as Backend::rope (double, rounded to float), rotated the other way.
  const int half = head_dim / 2;
  std::vector<float> cs(static_cast<size_t>(half)), sn(static_cast<size_t>(half));
  for (int64_t t = 0; t < n; ++t) {
    for (int i = 0; i < half; ++i) {
      const double a = double(t) * inv_freq[i];
      cs[size_t(i)] = float(std::cos(a));
      sn[size_t(i)] = float(std::sin(a));
    }
    for (int h = 0; h < heads; ++h) {
      float* v = x + t * stride + int64_t(h) * head_dim;
      for (int i = 0; i < half; ++i) {
        const float a = v[i], b = v[i + half];
        v[i] = a * cs[size_t(i)] + b * sn[size_t(i)];
        v[i + half] = b * cs[size_t(i)] - a * sn[size_t(i)];
      }
    }
  }
}

void attention_backward(const float* q, const float* k, const float* v, const float* dout, int64_t n, int heads,
                        int kv_heads, int D, float* dq, float* dk, float* dv, int threads) {
  const int64_t Q = int64_t(heads) * D, KV = int64_t(kv_heads) * D;
  const int group = heads / kv_heads;
  const float scale = 1.0f / std::sqrt(float(D));
  const int64_t items = n * heads;
  const int nt = int(std::max<int64_t>(1, std::min<int64_t>(threads, items)));
  // Keys and values receive gradients from many queries: each thread sums into its own
  // copy, added up at the end (no atomics, deterministic for a fixed thread count).
  std::vector<std::vector<float>> dk_t(static_cast<size_t>(nt)), dv_t(static_cast<size_t>(nt));
#pragma omp parallel num_threads(nt)
  {
    const int tid = omp_get_thread_num();
    auto& mk = dk_t[size_t(tid)];
    auto& mv = dv_t[size_t(tid)];
    mk.assign(size_t(n * KV), 0.0f);
    mv.assign(size_t(n * KV), 0.0f);
    std::vector<float> p(static_cast<size_t>(n)), dp(static_cast<size_t>(n));
    // Longest rows first, dealt round-robin: a fixed item -> thread map keeps the sums
    // (and so a resumed run) bit-identical for a given thread count.
#pragma omp for schedule(static, 1)
    for (int64_t it = 0; it < items; ++it) {
      const int64_t t = n - 1 - it / heads;
      const int h = int(it % heads), kvh = h / group;
      attention_row(q + t * Q + int64_t(h) * D, k + int64_t(kvh) * D, v + int64_t(kvh) * D,
                    dout + t * Q + int64_t(h) * D, t + 1, KV, D, scale, p.data(), dp.data(), dq + t * Q + int64_t(h) * D,
                    mk.data() + int64_t(kvh) * D, mv.data() + int64_t(kvh) * D);
    }
  }
  std::memcpy(dk, dk_t[0].data(), size_t(n * KV) * sizeof(float));
  std::memcpy(dv, dv_t[0].data(), size_t(n * KV) * sizeof(float));
  for (int t = 1; t < nt; ++t)
    for (int64_t i = 0; i < n * KV; ++i) {
      dk[i] += dk_t[size_t(t)][size_t(i)];
      dv[i] += dv_t[size_t(t)][size_t(i)];
    }
}

void swiglu_backward(const float* gu, const float* dact, int64_t n, int64_t I, float* dgu) {
  for (int64_t t = 0; t < n; ++t) {
    const float* g = gu + t * 2 * I;
    const float* u = g + I;
    const float* da = dact + t * I;
    float* dg = dgu + t * 2 * I;
    float* du = dg + I;
    for (int64_t i = 0; i < I; ++i) {
      const float s = 1.0f / (1.0f + std::exp(-g[i]));
      dg[i] = da[i] * u[i] * s * (1.0f + g[i] * (1.0f - s));
      du[i] = da[i] * g[i] * s;
    }
  }
}

double cross_entropy_backward(float* logits, const int32_t* targets, int64_t rows, int64_t vocab, float scale,
                              int threads) {
  std::vector<double> row_loss(static_cast<size_t>(rows));  // summed in order below: deterministic
  const int nt = int(std::max<int64_t>(1, std::min<int64_t>(threads, rows)));
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    float* z = logits + r * vocab;
    float m = -INFINITY;
    for (int64_t i = 0; i < vocab; ++i) m = std::max(m, z[i]);
    const float zt = z[targets[r]];
    double sum = 0;
    for (int64_t i = 0; i < vocab; ++i) {
      z[i] = std::exp(z[i] - m);  // one exp per logit; the sum in double
      sum += z[i];
    }
    row_loss[size_t(r)] = double(m) + std::log(sum) - double(zt);
    const float k = float(double(scale) / sum);
    for (int64_t i = 0; i < vocab; ++i) z[i] *= k;
    z[targets[r]] -= scale;
  }
  double total = 0;
  for (double l : row_loss) total += l;
  return total;
}

void colsum_acc(const float* dy, int64_t n, int64_t dim, float* db) {
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i < dim; ++i) db[i] += dy[t * dim + i];
}

}  // namespace s1::train_kernels
