#include "backend/cpu/membw.h"
#include "core/streamed_memory.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "backend/cpu/row_shares.h"
#include "backend/cpu/simd_kernels.h"

namespace s1::cpu {

float read_sum_avx512(const float* p, size_t n);
float read_sum_avx2(const float* p, size_t n);
float fma_loop_avx512(int64_t iters);
float fma_loop_avx2(int64_t iters);

namespace {
float read_sum_scalar(const float* p, size_t n) {
  float s = 0;
  for (size_t i = 0; i < n; ++i) s += p[i];
  return s;
}
}  // namespace

double measure_fma_peak_gflops(int threads) {
  if (threads <= 0) threads = omp_get_num_procs();
  const Isa isa = best_isa();
  if (isa == Isa::Scalar) return 0;
  const int lanes = isa == Isa::Avx512 ? 16 : 8;
  const int64_t iters = 20'000'000;
  double best = 0;
  volatile float sink = 0;
  for (int r = 0; r < 3; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    float total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    total += isa == Isa::Avx512 ? fma_loop_avx512(iters) : fma_loop_avx2(iters);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sink = sink + total;
    best = std::max(best, 2.0 * lanes * 12.0 * double(iters) * threads / s / 1e9);
  }
  return best;
}

BandwidthProbe::BandwidthProbe(int threads, size_t bytes)
    : threads_(threads > 0 ? threads : omp_get_num_procs()), n_(bytes / sizeof(float) / 64 * 64) {
  // The same kind of memory the weights and KV cache are read from (huge pages), so the
  // limit the decode speed is compared with is the one it can reach.
  buf_ = static_cast<float*>(alloc_streamed(n_ * sizeof(float)));
  // First touch from the threads that will read, so pages sit where they are read.
#pragma omp parallel for num_threads(threads_) schedule(static)
  for (size_t i = 0; i < n_; ++i) buf_[i] = 1.0f;
}

BandwidthProbe::~BandwidthProbe() { free_streamed(buf_); }

BandwidthResult BandwidthProbe::measure(int repeats) {
  auto sum = best_isa() == Isa::Avx512 ? read_sum_avx512 : best_isa() == Isa::Avx2 ? read_sum_avx2 : read_sum_scalar;
  double best = 0;
  volatile float sink = 0;
  for (int r = 0; r < repeats + 1; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    float total = 0;
#pragma omp parallel num_threads(threads_) reduction(+ : total)
    {
      const int t = omp_get_thread_num(), nt = omp_get_num_threads();
      const size_t chunk = (n_ / nt) / 64 * 64;
      const size_t b = size_t(t) * chunk, e = t == nt - 1 ? n_ : b + chunk;
      total += sum(buf_ + b, e - b);
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sink = sink + total;
    if (r > 0) best = std::max(best, double(n_ * sizeof(float)) / s / 1e9);  // run 0 is a warm-up
  }
  return {best, n_ * sizeof(float), threads_};
}

uint64_t read_bytes_scalar(const uint8_t* p, size_t n) {
  uint64_t s = 0;
  for (size_t i = 0; i < n; ++i) s += p[i];
  return s;
}

namespace {
using ReadBytesFn = uint64_t (*)(const uint8_t*, size_t);
ReadBytesFn read_bytes_fn() {
  const Isa isa = best_isa();
  return isa == Isa::Avx512 ? read_bytes_avx512 : isa == Isa::Avx2 ? read_bytes_avx2 : read_bytes_scalar;
}
}  // namespace

uint64_t read_bytes(const void* p, size_t n) { return read_bytes_fn()(static_cast<const uint8_t*>(p), n); }

PlainRead time_plain_read(std::span<const MemRegion> regions, int threads) {
  if (threads <= 0) threads = omp_get_num_procs();
  const ReadBytesFn read = read_bytes_fn();
  // A shared region is cut the way one_token cuts a matrix: units of ~32 KB, each thread
  // its own contiguous share front to back, claims of up to 256 KB, then the back half of
  // what is left of another's share (RowShares). Even halves with no stealing made the
  // faster core wait for the slower one, and decode, which steals, then beat the "plain"
  // read (119% on a 2-layer model).
  constexpr size_t kUnit = size_t(32) << 10;
  constexpr int64_t kClaim = 8;
  std::vector<RowShares> shares(regions.size());
  for (size_t i = 0; i < regions.size(); ++i)
    if (regions[i].owner < 0) shares[i].reset(int64_t((regions[i].bytes + kUnit - 1) / kUnit), threads);
  uint64_t total = 0;
  const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : total)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    for (size_t i = 0; i < regions.size(); ++i) {
      const MemRegion& r = regions[i];
      const auto* base = static_cast<const uint8_t*>(r.data);
      if (r.owner >= 0) {
        if (r.owner % nt == t) total += read(base, r.bytes);
        continue;
      }
      // (a thread OpenMP did not give leaves its share to the others' stealing)
      shares[i].run(t, kClaim, [&](int64_t first, int64_t count) {
        const size_t b = size_t(first) * kUnit, e = std::min(r.bytes, size_t(first + count) * kUnit);
        total += read(base + b, e - b);
      });
    }
  }
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), total};
}

BandwidthResult measure_read_bandwidth(int threads, size_t bytes, int repeats) {
  return BandwidthProbe(threads, bytes).measure(repeats);
}

}  // namespace s1::cpu
