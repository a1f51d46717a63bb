// Progress of a long stage on stderr: "x/N, rate, ETA" redrawn in place on a terminal,
// plain lines (every 10% or 30 s) when stderr is a file or pipe, so logs stay readable.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace s1::curate {

class Progress {
 public:
  Progress(std::string label, int64_t total, bool quiet = false);
  void add(int64_t n = 1);
  void finish(const std::string& summary = "");

 private:
  void draw(bool final);
  std::string label_;
  int64_t total_, done_ = 0;
  bool tty_, quiet_, finished_ = false;
  int last_decile_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// One plain line on stderr ("curate: ..."), unless quiet.
void note(const std::string& line);

}  // namespace s1::curate
