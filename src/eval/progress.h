// Progress of a sweep on stderr: on a terminal one redrawn bar with samples done, tokens
// per second and the time left; otherwise (logs, pipes, CI) one plain line per sample.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace s1::eval {

class Progress {
 public:
  // total: samples to run in this session; resumed: already done before it.
  Progress(int64_t total, int64_t resumed, std::FILE* out = stderr);
  Progress(int64_t total, int64_t resumed, std::FILE* out, bool tty);  // tty forced (tests)
  // One sample finished (thread-safe). label: "budget@512 q 17 s 0"; status: "correct",
  // "wrong", "error: ...".
  void sample_done(const std::string& label, const std::string& status, int64_t tokens, double seconds);
  void finish();
  static std::string format_duration(double seconds);  // "42s", "3m05s", "1h02m"

 private:
  std::FILE* out_;
  bool tty_;
  int64_t total_, resumed_, done_ = 0, tokens_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
};

}  // namespace s1::eval
