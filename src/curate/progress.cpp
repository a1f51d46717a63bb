#include "curate/progress.h"

#include <unistd.h>

#include <cstdio>

namespace s1::curate {

namespace {
std::string fmt_duration(double s) {
  char buf[32];
  if (s < 90) std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 5400) std::snprintf(buf, sizeof buf, "%.0fm", s / 60);
  else std::snprintf(buf, sizeof buf, "%.1fh", s / 3600);
  return buf;
}
}  // namespace

void note(const std::string& line) { std::fprintf(stderr, "curate: %s\n", line.c_str()); }

Progress::Progress(std::string label, int64_t total, bool quiet)
    : label_(std::move(label)), total_(total), tty_(isatty(2)), quiet_(quiet || total == 0),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

void Progress::add(int64_t n) {
  done_ += n;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  int decile = total_ ? int(done_ * 10 / total_) : 0;
  double el = std::chrono::duration<double>(now - start_).count();
  // Off a terminal, a line per 10% (or 30 s) — and none for stages done within 5 s.
  if ((tty_ && since > 0.2) || (!tty_ && el > 5 && (decile > last_decile_ || since > 30))) {
    last_decile_ = decile;
    last_draw_ = now;
    draw(false);
  }
}

void Progress::draw(bool final) {
  if (quiet_) return;
  double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = el > 0 ? done_ / el : 0;
  char buf[256];
  std::snprintf(buf, sizeof buf, "curate: %s %lld/%lld  %.1f/s", label_.c_str(), (long long)done_, (long long)total_,
                rate);
  std::string line = buf;
  if (!final && rate > 0 && done_ < total_) line += "  ETA " + fmt_duration((total_ - done_) / rate);
  if (final) line += "  in " + fmt_duration(el);
  if (tty_) std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), final ? "\n" : "");
  else std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

void Progress::finish(const std::string& summary) {
  if (finished_) return;
  finished_ = true;
  if (quiet_) return;
  double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (tty_ || el > 5) draw(true);
  if (!summary.empty()) note(summary);
}

}  // namespace s1::curate
