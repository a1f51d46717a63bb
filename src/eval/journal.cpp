#include "eval/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace s1::eval {

JournalContents parse_journal(std::string_view text, const std::string& name) {
  JournalContents c;
  size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    ++line_no;
    if (nl == std::string_view::npos) {
      // a last line without its newline was being written when the run died
      c.torn_tail = true;
      break;
    }
    std::string_view line = text.substr(pos, nl - pos);
    bool last = nl + 1 >= text.size();
    try {
      SampleRecord r = sample_from_json(nlohmann::json::parse(line));
      c.samples[r.key] = std::move(r);
    } catch (const std::exception& e) {
      if (last) {
        c.torn_tail = true;
        break;
      }
      fail(name, ":", line_no, ": damaged line in the middle of the journal (", e.what(),
           "); fix or remove it by hand, or start a new --out");
    }
    ++c.lines;
    pos = nl + 1;
    c.good_bytes = pos;
  }
  return c;
}

Journal::Journal(const std::string& path, bool resume) : path_(path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  bool exists = fs::exists(path, ec);
  if (exists && !resume && fs::file_size(path, ec) > 0)
    fail(path, " already holds samples: pass --resume to continue that run, or choose another --out");
  if (exists && resume) {
    std::ifstream f(path, std::ios::binary);
    if (!f) fail(path, ": cannot read");
    std::stringstream ss;
    ss << f.rdbuf();
    std::string text = ss.str();
    existing_ = parse_journal(text, path);
    if (existing_.good_bytes < text.size()) {
      // drop the torn tail before appending after it
      if (::truncate(path.c_str(), off_t(existing_.good_bytes)) != 0)
        fail(path, ": cannot cut the torn last line (", std::strerror(errno), ")");
    }
  }
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(path, ": cannot open for writing (", std::strerror(errno), ")");
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

void Journal::append(const SampleRecord& r) {
  std::string line = to_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t w = ::write(fd_, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail(path_, ": cannot write a sample (", std::strerror(errno), ")");
    }
    p += w;
    left -= size_t(w);
  }
  if (::fdatasync(fd_) != 0) fail(path_, ": cannot flush a sample to disk (", std::strerror(errno), ")");
}

}  // namespace s1::eval
