// Work sharing for one-token matmuls: each thread streams its own contiguous share of the
// rows front to back, and a thread that runs out takes units from the back of the
// others' shares.
//
// Why: one-token matmuls are memory streams, and the hardware prefetchers follow one
// long run per thread best (small items handed out in turn cost ~20%, README "Speed").
// The previous plan, four equal items taken in turn, left the two threads finishing
// 3-25 us apart on every matmul (measured on the 0.5B shape, Q8_0: ~1.5 ms a token with
// one core idle), because two cores sharing memory never read at quite the same rate.
// Taking from the back leaves the owner's run unbroken, and the last piece of work is
// one small unit.
// An owner claims k units at a time, but never more than half of what is left of its
// share (rounded up), so its claims halve towards the end. With a fixed claim, the
// owner's last claim (~256 KB, ~9 us of streaming) often held all that was left, and a
// thread that ran out had nothing to take. In-process A/B on the 0.5B shape at 512, old
// and new toggled every 8 tokens: Q8_0 +2.9% / +5.3% (two runs) at this VM's high
// bandwidth level, +0-1.5% at the low level; bf16 +0.7% / +1.0%; at 4096 (where
// attention takes more of the token) Q8_0 +0.5%, bf16 +0.9%.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>

namespace s1::cpu {

class RowShares {
 public:
  // Units 0..units-1 cut into `threads` contiguous shares of (almost) equal size.
  void reset(int64_t units, int threads) {
    if (threads > capacity_) {
      shares_ = std::make_unique<Share[]>(size_t(threads));
      capacity_ = threads;
    }
    threads_ = threads;
    for (int t = 0; t < threads; ++t)
      shares_[t].range.store(pack(units * t / threads, units * (t + 1) / threads), std::memory_order_relaxed);
  }

  // Up to k units, and at most half of what is left (rounded up), from the front of
  // thread t's own share: [first, first + got), or -1.
  int64_t take_front(int t, int64_t k, int64_t& got) {
    std::atomic<uint64_t>& r = shares_[t].range;
    uint64_t v = r.load(std::memory_order_relaxed);
    for (;;) {
      const int64_t f = front(v), b = back(v);
      if (f >= b) return -1;
      const int64_t nf = f + std::min(k, (b - f + 1) / 2);
      if (r.compare_exchange_weak(v, pack(nf, b), std::memory_order_acq_rel, std::memory_order_relaxed)) {
        got = nf - f;
        return f;
      }
    }
  }

  // One unit from the back of thread `victim`'s share, or -1 when it is empty.
  int64_t take_back(int victim) {
    std::atomic<uint64_t>& r = shares_[victim].range;
    uint64_t v = r.load(std::memory_order_relaxed);
    for (;;) {
      const int64_t f = front(v), b = back(v);
      if (f >= b) return -1;
      if (r.compare_exchange_weak(v, pack(f, b - 1), std::memory_order_acq_rel, std::memory_order_relaxed)) return b - 1;
    }
  }

  // What thread t runs: its own share in runs of k units, then the others' from the back,
  // nearest share first. fn(first, count) does units first .. first + count - 1.
  template <class Fn>
  void run(int t, int64_t k, Fn&& fn) {
    int64_t got = 0;
    for (int64_t u; (u = take_front(t, k, got)) >= 0;) fn(u, got);
    for (int o = 1; o < threads_; ++o)
      for (int64_t u; (u = take_back((t + o) % threads_)) >= 0;) fn(u, int64_t(1));
  }

 private:
  // front in the low 32 bits, back (one past the last unit) in the high 32: one word, so
  // that an owner and a thief can never both take the last unit.
  static uint64_t pack(int64_t f, int64_t b) { return uint64_t(uint32_t(f)) | (uint64_t(uint32_t(b)) << 32); }
  static int64_t front(uint64_t v) { return int64_t(uint32_t(v)); }
  static int64_t back(uint64_t v) { return int64_t(v >> 32); }

  struct alignas(64) Share {  // a cache line each: threads claim without false sharing
    std::atomic<uint64_t> range{0};
  };
  std::unique_ptr<Share[]> shares_;
  int capacity_ = 0, threads_ = 0;
};

}  // namespace s1::cpu
