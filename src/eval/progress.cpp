#include "eval/progress.h"

#include <unistd.h>

namespace s1::eval {

Progress::Progress(int64_t total, int64_t resumed, std::FILE* out)
    : Progress(total, resumed, out, ::isatty(::fileno(out)) == 1) {}

Progress::Progress(int64_t total, int64_t resumed, std::FILE* out, bool tty)
    : out_(out), tty_(tty), total_(total), resumed_(resumed), start_(std::chrono::steady_clock::now()) {
  std::fprintf(out_, "s1 eval: %lld samples to run%s\n", (long long)total_,
               resumed_ > 0 ? (" (" + std::to_string(resumed_) + " already done, resumed)").c_str() : "");
  std::fflush(out_);
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

void Progress::sample_done(const std::string& label, const std::string& status, int64_t tokens, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++done_;
  tokens_ += tokens;
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double tps = elapsed > 0 ? double(tokens_) / elapsed : 0;
  double eta = done_ > 0 ? elapsed / double(done_) * double(total_ - done_) : 0;
  if (tty_) {
    const int width = 28;
    int filled = total_ > 0 ? int(double(done_) / double(total_) * width) : width;
    std::string bar(size_t(filled), '#');
    bar += std::string(size_t(width - filled), '.');
    std::fprintf(out_, "\r\033[K[%s] %lld/%lld | %.1f tok/s | ETA %s | %s", bar.c_str(), (long long)done_,
                 (long long)total_, tps, format_duration(eta).c_str(), label.c_str());
  } else {
    std::fprintf(out_, "s1 eval: %lld/%lld %s: %s, %lld tokens in %.1fs (%.1f tok/s overall, ETA %s)\n",
                 (long long)done_, (long long)total_, label.c_str(), status.c_str(), (long long)tokens, seconds, tps,
                 format_duration(eta).c_str());
  }
  std::fflush(out_);
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(mu_);
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (tty_) std::fprintf(out_, "\n");
  std::fprintf(out_, "s1 eval: %lld samples in %s (%lld tokens, %.1f tok/s)\n", (long long)done_,
               format_duration(elapsed).c_str(), (long long)tokens_, elapsed > 0 ? double(tokens_) / elapsed : 0.0);
  std::fflush(out_);
}

}  // namespace s1::eval
