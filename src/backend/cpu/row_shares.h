// Work sharing for one-token matmuls: each thread streams its own contiguous share of the
// rows front to back, and a thread that runs out takes the back half of what is left of
// another's share and streams that front to back.
//
// Why: one-token matmuls are memory streams, and the hardware prefetchers follow one
// long run per thread best (small items handed out in turn cost ~20%, README "Speed").
// The previous plan, four equal items taken in turn, left the two threads finishing
// 3-25 us apart on every matmul (measured on the 0.5B shape, Q8_0: ~1.5 ms a token with
// one core idle), because two cores sharing memory never read at quite the same rate.
// Taking from the back leaves the owner's run unbroken. Taking the back half, not one
// unit at a time: single units taken back to front were each a new stream, which the
// prefetchers (hardware, and the kernels' own 4 KB ahead) cannot follow; a half is one
// forward stream. In-process A/B on the 0.5B shape at 512, one unit vs half: Q8_0 +3.3%
// (high bandwidth level) and +5.1% (low), bf16 +1.3% / +1.7%.
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

  // The back half of what is left of thread `victim`'s share (rounded down, at least one
  // unit): [first, first + got), or -1 when it is empty.
  int64_t take_back_half(int victim, int64_t& got) {
    std::atomic<uint64_t>& r = shares_[victim].range;
    uint64_t v = r.load(std::memory_order_relaxed);
    for (;;) {
      const int64_t f = front(v), b = back(v);
      if (f >= b) return -1;
      const int64_t m = b - std::max<int64_t>(1, (b - f) / 2);
      if (r.compare_exchange_weak(v, pack(f, m), std::memory_order_acq_rel, std::memory_order_relaxed)) {
        got = b - m;
        return m;
      }
    }
  }

  // What thread t runs: its own share in runs of at most k units; then, nearest share
  // first, the back half of another's, which becomes its own share (so it runs that front
  // to back too, and others may take from it), until every share is empty.
  // fn(first, count) does units first .. first + count - 1.
  template <class Fn>
  void run(int t, int64_t k, Fn&& fn) {
    for (;;) {
      int64_t got = 0;
      for (int64_t u; (u = take_front(t, k, got)) >= 0;) fn(u, got);
      int64_t first = -1;
      for (int o = 1; o < threads_ && first < 0; ++o) first = take_back_half((t + o) % threads_, got);
      if (first < 0) return;
      // t's share is empty, and nobody adds to a share but its owner: a plain store
      shares_[t].range.store(pack(first, first + got), std::memory_order_release);
    }
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
