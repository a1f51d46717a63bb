// Measures this machine's memory read bandwidth the way decode uses it: every thread
// streams its own share of a buffer far larger than the caches. `s1 bench` reports
// decode speed as a fraction of this number.
#pragma once
#include <cstddef>

namespace s1::cpu {

struct BandwidthResult {
  double gbps;        // best of the repeats, 1e9 bytes / s
  size_t bytes;       // buffer size
  int threads;
};

// Peak f32 FLOP/s of `threads` threads running register-only FMA chains (the
// ceiling for prefill GEMMs; `s1 bench` reports prefill as a fraction of it).
double measure_fma_peak_gflops(int threads);

BandwidthResult measure_read_bandwidth(int threads, size_t bytes = size_t(1) << 30, int repeats = 5);

}  // namespace s1::cpu
