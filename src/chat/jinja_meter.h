// Work meter of the render running on this thread. Every evaluation step and every
// walk over a value (==, repr, tojson, sort) charges it, so a hostile template cannot
// run away: past the budget the render fails with s1::Error.
#pragma once
#include <cstddef>
#include <cstdint>

namespace s1::jinja {

// Bound on any one string built while printing a value (repr/str of a list).
inline constexpr size_t kMaxPrintBytes = size_t{64} << 20;

struct Meter {
  uint64_t steps = 0;
  uint64_t max_steps = UINT64_MAX;
  [[noreturn]] void exhausted() const;
  void charge(uint64_t n) {
    steps += n;
    if (steps > max_steps) exhausted();
  }
};

Meter*& current_meter();  // thread-local; null outside a render

inline void meter_charge(uint64_t n) {
  if (Meter* m = current_meter()) m->charge(n);
}

// Installs a meter for the lifetime of the scope (restores the previous one).
class MeterScope {
 public:
  explicit MeterScope(Meter* m) : prev_(current_meter()) { current_meter() = m; }
  ~MeterScope() { current_meter() = prev_; }
  MeterScope(const MeterScope&) = delete;
  MeterScope& operator=(const MeterScope&) = delete;

 private:
  Meter* prev_;
};

}  // namespace s1::jinja
