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

// The same measurement kept ready to repeat: the buffer is allocated and touched once,
// so a reading costs only its passes (~20 ms a pass over 1 GiB here) and can be taken
// right before and after each stretch of decoding (the read rate of a shared VM moves).
class BandwidthProbe {
 public:
  explicit BandwidthProbe(int threads, size_t bytes = size_t(1) << 30);
  ~BandwidthProbe();
  BandwidthProbe(const BandwidthProbe&) = delete;
  BandwidthProbe& operator=(const BandwidthProbe&) = delete;
  BandwidthResult measure(int repeats = 3);  // best of `repeats` passes, after one warm-up pass

 private:
  int threads_;
  size_t n_;  // floats
  float* buf_;
};

}  // namespace s1::cpu
