// Measures this machine's memory read bandwidth the way decode uses it: every thread
// streams its own share of a buffer far larger than the caches. `s1 bench` reports
// decode speed as a fraction of this number.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

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

// Memory to read with time_plain_read: shared among the threads as a one-token matmul
// shares its rows (owner < 0), or read whole by thread owner % threads.
struct MemRegion {
  const void* data;
  size_t bytes;
  int owner = -1;
};

// Seconds `threads` threads take to read every region once, in one parallel pass: what a
// decoded token would take if it only read its memory, shared out between the threads
// as decode shares it (a matrix's rows among all, each thread its own share first and
// then part of what another has left, as in row_shares.h; a kv head's cache to one),
// with no arithmetic and no waits between layers. s1 bench --plain-read times it next
// to decoding, over the same memory.
struct PlainRead {
  double seconds;
  uint64_t sum;  // of every byte read (read_bytes): each region's bytes once, whatever the split
};
PlainRead time_plain_read(std::span<const MemRegion> regions, int threads);

// The sum of the n bytes at p (any alignment), with the widest loads the CPU has, or with
// the ones named (for tests of each path): the reads time_plain_read makes.
uint64_t read_bytes(const void* p, size_t n);
uint64_t read_bytes_scalar(const uint8_t* p, size_t n);
uint64_t read_bytes_avx2(const uint8_t* p, size_t n);
uint64_t read_bytes_avx512(const uint8_t* p, size_t n);

}  // namespace s1::cpu
