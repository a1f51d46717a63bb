#include "util/progress.h"

#include <unistd.h>

#include <algorithm>

namespace s1::util {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

void note(const std::string& prefix, const std::string& line) {
  std::fprintf(stderr, "%s: %s\n", prefix.c_str(), line.c_str());
}

Progress::Progress(ProgressOptions o)
    : o_(std::move(o)),
      tty_(o_.tty >= 0 ? o_.tty == 1 : ::isatty(::fileno(o_.out)) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {
  if (o_.total == 0 && o_.unit.empty()) o_.quiet = true;  // an empty stage: nothing to show
  if (o_.quiet || o_.unit.empty()) return;
  std::string resumed = o_.resumed > 0 ? " (" + std::to_string(o_.resumed) + " already done, resumed)" : "";
  std::fprintf(o_.out, "%s%lld %s to run%s\n", head().c_str(), (long long)o_.total, o_.unit.c_str(), resumed.c_str());
  std::fflush(o_.out);
}

std::string Progress::format_duration(double s) {
  if (!(s >= 0) || s > 1e8) return "?";
  long long t = (long long)(s + 0.5);
  char buf[32];
  if (t < 60) std::snprintf(buf, sizeof buf, "%llds", t);
  else if (t < 3600) std::snprintf(buf, sizeof buf, "%lldm%02llds", t / 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%lldh%02lldm", t / 3600, (t / 60) % 60);
  return buf;
}

std::string Progress::head() const {
  std::string h = o_.prefix.empty() ? "" : o_.prefix + ": ";
  if (!o_.label.empty()) h += o_.label + " ";
  return h;
}

std::string Progress::rate(double elapsed) const {
  char buf[48];
  if (tokens_ > 0) std::snprintf(buf, sizeof buf, "%.1f tok/s", elapsed > 0 ? double(tokens_) / elapsed : 0.0);
  else std::snprintf(buf, sizeof buf, "%.1f/s", elapsed > 0 ? double(done_) / elapsed : 0.0);
  return buf;
}

void Progress::add(int64_t n, int64_t tokens, const std::string& detail) {
  std::lock_guard<std::mutex> lock(mu_);
  done_ += n;
  tokens_ += tokens;
  if (o_.quiet || finished_) return;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  double elapsed = std::chrono::duration<double>(now - start_).count();
  int decile = o_.total > 0 ? int(done_ * 10 / o_.total) : 0;
  bool due = tty_ ? (o_.line_per_item || since > 0.2)
                  : (o_.line_per_item || (elapsed > 5 && (decile > last_decile_ || since > 30)));
  if (!due) return;
  last_decile_ = decile;
  last_draw_ = now;
  draw(detail, elapsed);
}

void Progress::draw(const std::string& detail, double elapsed) {
  std::string eta = done_ > 0 && done_ < o_.total ? format_duration(elapsed / double(done_) * double(o_.total - done_)) : "";
  std::string count = std::to_string(done_) + "/" + std::to_string(o_.total);
  if (tty_) {
    const int width = 28;
    int filled = o_.total > 0 ? int(double(std::min(done_, o_.total)) / double(o_.total) * width) : width;
    std::string bar = std::string(size_t(filled), '#') + std::string(size_t(width - filled), '.');
    std::string line = head() + "[" + bar + "] " + count + " | " + rate(elapsed);
    if (!eta.empty()) line += " | ETA " + eta;
    if (!detail.empty()) line += " | " + detail;
    std::fprintf(o_.out, "\r\033[K%s", line.c_str());
  } else {
    std::string line = head() + count;
    if (!detail.empty()) line += " " + detail;
    line += " (" + rate(elapsed);
    if (!eta.empty()) line += ", ETA " + eta;
    std::fprintf(o_.out, "%s)\n", line.c_str());
  }
  std::fflush(o_.out);
}

void Progress::finish(const std::string& summary) {
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  finished_ = true;
  if (o_.quiet) return;
  double elapsed = seconds_since(start_);
  // Off a terminal a short stage stays silent unless it announced itself.
  if (tty_ || o_.line_per_item || !o_.unit.empty() || elapsed > 5) {
    std::string line = head() + std::to_string(done_) + "/" + std::to_string(o_.total) + " ";
    if (!o_.unit.empty()) line += o_.unit + " ";
    line += "in " + format_duration(elapsed) + " (" + rate(elapsed);
    if (tokens_ > 0) line += ", " + std::to_string(tokens_) + " tokens";
    line += ")";
    std::fprintf(o_.out, "%s%s\n", tty_ ? "\r\033[K" : "", line.c_str());
    std::fflush(o_.out);
  }
  if (!summary.empty()) note(o_.prefix, summary);
}

}  // namespace s1::util
