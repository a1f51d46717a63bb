// Progress of a long stage on stderr: "x/N, rate, ETA" redrawn in place with a bar on a
// terminal; plain lines when stderr is a file or pipe, so logs stay readable — either one
// per item (a sweep's samples, each with its outcome) or one per 10% / 30 s.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace s1::util {

struct ProgressOptions {
  std::string prefix{};        // every line starts "<prefix>: " ("curate", "s1 eval")
  std::string label{};         // the stage, after the prefix ("decontaminate"); may be empty
  int64_t total = 0;           // items to do in this run
  std::string unit{};          // "samples": announce "N samples to run" and always close with a line
  int64_t resumed = 0;         // items done before this run (named in the announcement)
  bool quiet = false;          // print nothing at all
  bool line_per_item = false;  // off a terminal, a line per add() instead of one per 10% or 30 s
                               // (and none for stages done within 5 s)
  std::FILE* out = stderr;
  int tty = -1;                // -1: ask isatty(out); 0 / 1: forced (tests)
};

class Progress {
 public:
  explicit Progress(ProgressOptions o);
  // n items done (thread-safe). tokens: what they generated (the rate becomes tok/s);
  // detail: what finished ("budget@512 q 17 s 0: correct"), shown on the line drawn for it.
  void add(int64_t n = 1, int64_t tokens = 0, const std::string& detail = "");
  // The closing line (count, time, rate), then `summary` as a note. Later calls do nothing.
  void finish(const std::string& summary = "");

  static std::string format_duration(double seconds);  // "42s", "3m05s", "1h02m"; "?" if unknown

 private:
  std::string head() const;  // "<prefix>: <label> "
  std::string rate(double elapsed) const;
  void draw(const std::string& detail, double elapsed);

  ProgressOptions o_;
  bool tty_;
  int64_t done_ = 0, tokens_ = 0;
  bool finished_ = false;
  int last_decile_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::mutex mu_;
};

// One plain line "<prefix>: <line>" on stderr.
void note(const std::string& prefix, const std::string& line);

}  // namespace s1::util
