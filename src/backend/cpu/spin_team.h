// The CPU backend's threads for one decoded token (Backend::token_session): one OpenMP
// parallel region for the whole forward pass, in which thread 0 runs the model and the
// others wait on a spin for work; run() hands them a function and waits for them.
//
// Why: a decoded token makes ~100 parallel calls (every matmul and attention), and
// starting an OpenMP region for each cost ~1 us to get both threads running and ~1 us
// more to join them at this VM's high bandwidth level (traced in the model, Q8_0 at 512:
// threads entered 0.9-1.2 us after the call and the region ended 1.2-1.5 us after the
// last thread was done), ~0.25 ms a token with a core idle. A spin hand-off costs a
// cache line each way.
#pragma once
#include <immintrin.h>

#include <atomic>
#include <cstdint>
#include <thread>

namespace s1::cpu {

// A wait on a spin that yields the core after ~0.1 ms, or at once where a team has more
// threads than the machine has cores (spin_limit 0): a waiting thread must not hold the
// core the thread it waits for needs. (3 threads on this 2-core VM, Q8_0 0.5B shape, 16
// decoded tokens: 5.7 tok/s spinning first, 53 yielding at once; 2 threads: 93.)
struct Backoff {
  explicit Backoff(int spin_limit = 20000) : limit(spin_limit) {}
  int spins = 0, limit;
  void pause() {
    if (++spins < limit)  // 20000: ~0.1 ms of pause instructions
      _mm_pause();
    else
      std::this_thread::yield();
  }
};

class SpinTeam {
 public:
  // Threads 1 .. size-1 call work(t) inside the region; thread 0 runs the body, calling
  // run() for its parallel work, then stop().
  // cores: how many the process may run on (more threads than that: yield at once)
  void begin(int size, int cores) {
    size_ = size;
    spin_limit_ = size > cores ? 0 : 20000;
    gen_.store(0, std::memory_order_relaxed);
    stopping_.store(false, std::memory_order_relaxed);
  }
  int size() const { return size_; }

  // fn(t) on every thread t < size (fn(0) on the caller); returns when all are done.
  template <class Fn>
  void run(Fn&& fn) {
    task_ = [](void* f, int t) { (*static_cast<Fn*>(f))(t); };
    arg_ = &fn;
    done_.store(0, std::memory_order_relaxed);
    arrived_.store(0, std::memory_order_relaxed);
    gen_.fetch_add(1, std::memory_order_release);
    fn(0);
    for (Backoff b(spin_limit_); done_.load(std::memory_order_acquire) < size_ - 1;) b.pause();
  }

  // Inside run()'s fn, on each of the n threads that run it (once per run): returns when
  // all n have called it.
  void arrive_and_wait(int n) {
    arrived_.fetch_add(1, std::memory_order_acq_rel);
    for (Backoff b(spin_limit_); arrived_.load(std::memory_order_acquire) < n;) b.pause();
  }

  void stop() { stopping_.store(true, std::memory_order_release); }

  void work(int t) {
    uint64_t seen = 0;
    for (;;) {
      uint64_t g;
      for (Backoff b(spin_limit_); (g = gen_.load(std::memory_order_acquire)) == seen; b.pause())
        if (stopping_.load(std::memory_order_acquire)) return;
      seen = g;
      task_(arg_, t);
      done_.fetch_add(1, std::memory_order_release);
    }
  }

 private:
  int size_ = 1, spin_limit_ = 20000;
  void (*task_)(void*, int) = nullptr;
  void* arg_ = nullptr;
  alignas(64) std::atomic<uint64_t> gen_{0};
  alignas(64) std::atomic<int> done_{0};
  alignas(64) std::atomic<int> arrived_{0};  // arrive_and_wait's
  alignas(64) std::atomic<bool> stopping_{false};
};

}  // namespace s1::cpu
