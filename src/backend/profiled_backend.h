// A Backend that times every call of another one: where a decoded token's time goes,
// per kind of op, with the bytes each op must read (weights, KV cache) so that a slow op
// shows up as low GB/s. Used by `s1 bench --profile`; adds two clock reads per call.
#pragma once
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "backend/backend.h"

namespace s1 {

class ProfiledBackend final : public Backend {
 public:
  struct Stat {
    int64_t calls = 0;
    double seconds = 0, bytes = 0;
  };
  // Keyed by op, matmuls by their shapes ("matmul 896x4864 bf16"): one line per kind of
  // matrix, so a slow shape is seen apart from the others.
  using Stats = std::map<std::string, Stat>;

  explicit ProfiledBackend(std::shared_ptr<Backend> inner) : inner_(std::move(inner)) {}
  const Stats& stats() const { return stats_; }
  void reset() { stats_.clear(); }

  const char* name() const override { return inner_->name(); }
  int threads() const override { return inner_->threads(); }
  float* alloc(size_t n) override { return inner_->alloc(n); }
  void free(float* p) override { inner_->free(p); }

  void embed(const int32_t* ids, int n, const WeightMatrix& table, float* out) override {
    timed("embed", double(n) * double(table.row_bytes(table.cols)), [&] { inner_->embed(ids, n, table, out); });
  }
  void matmul(const float* x, int n, const WeightMatrix& w, float* y) override {
    timed("matmul " + shape(w), double(w.bytes()), [&] { inner_->matmul(x, n, w, y); });
  }
  void matmul_same_input(const float* x, int n, std::initializer_list<MatmulJob> jobs) override {
    double b = 0;
    std::string label = "matmul";
    for (const auto& j : jobs) {
      b += double(j.w->bytes());
      label += (label.size() > 6 ? " + " : " ") + shape(*j.w);
    }
    timed(label, b, [&] { inner_->matmul_same_input(x, n, jobs); });
  }
  void mlp(const float* x, int n, const MatmulJob& gate, const MatmulJob& up, const MatmulJob& down) override {
    const double b = double(gate.w->bytes()) + double(up.w->bytes()) + double(down.w->bytes());
    timed("mlp " + shape(*gate.w) + " + " + shape(*up.w) + ", swiglu, " + shape(*down.w), b,
          [&] { inner_->mlp(x, n, gate, up, down); });
  }
  void add_bias(float* y, int n, int dim, const float* b) override {
    timed("add bias", 0, [&] { inner_->add_bias(y, n, dim, b); });
  }
  void rmsnorm(const float* x, const float* w, int rows, int dim, float eps, float* y) override {
    timed("rmsnorm", 0, [&] { inner_->rmsnorm(x, w, rows, dim, eps, y); });
  }
  void add_rmsnorm(const float* x, const float* y, float* x_out, const float* w, int rows, int dim, float eps,
                   float* xn) override {
    timed("add + rmsnorm", 0, [&] { inner_->add_rmsnorm(x, y, x_out, w, rows, dim, eps, xn); });
  }
  void rope(float* x, int n, int heads, int head_dim, int64_t stride, int64_t pos0, const double* inv_freq) override {
    timed("rope", 0, [&] { inner_->rope(x, n, heads, head_dim, stride, pos0, inv_freq); });
  }
  void attention(const float* q, int n, const void* k, const void* v, int64_t pos0, const AttentionShape& s,
                 float* out) override {
    // each query row reads the keys and values of every position up to its own
    const double rows = double(n) * double(pos0) + double(n) * double(n + 1) / 2;
    timed("attention", rows * 2.0 * double(s.kv_heads) * s.head_dim * (s.bf16_kv ? 2.0 : 4.0),
          [&] { inner_->attention(q, n, k, v, pos0, s, out); });
  }
  void swiglu(const float* gate, const float* up, size_t n, float* out) override {
    timed("swiglu", 0, [&] { inner_->swiglu(gate, up, n, out); });
  }
  void add(float* x, const float* y, size_t n) override { timed("add", 0, [&] { inner_->add(x, y, n); }); }
  void copy(float* dst, const float* src, size_t n) override { timed("copy", 0, [&] { inner_->copy(dst, src, n); }); }
  void copy_strided(float* dst, int64_t dst_stride, const float* src, size_t n) override {
    timed("copy", 0, [&] { inner_->copy_strided(dst, dst_stride, src, n); });
  }
  void store_bf16(uint16_t* dst, int64_t dst_stride, int group, const float* src, size_t n) override {
    timed("copy", 0, [&] { inner_->store_bf16(dst, dst_stride, group, src, n); });
  }
  bool supports_bf16_kv() const override { return inner_->supports_bf16_kv(); }
  bool host_memory() const override { return inner_->host_memory(); }
  void prefetch_during_next(std::span<const Region> regions) override { inner_->prefetch_during_next(regions); }
  void token_session(const std::function<void()>& body) override { inner_->token_session(body); }
  void to_host(float* dst, const float* src, size_t n) override {
    timed("to host", 0, [&] { inner_->to_host(dst, src, n); });
  }

 private:
  static std::string shape(const WeightMatrix& w) {
    return std::to_string(w.rows) + "x" + std::to_string(w.cols) + " " + dtype_name(w.dtype);
  }
  template <class F>
  void timed(const std::string& op, double bytes, F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    Stat& s = stats_[op];
    s.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    s.calls += 1;
    s.bytes += bytes;
  }

  std::shared_ptr<Backend> inner_;
  Stats stats_;
};

}  // namespace s1
