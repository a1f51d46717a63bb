// samples.jsonl: one JSON line per finished sample, appended and flushed to disk (fsync)
// the moment it finishes, so a crash or kill -9 loses at most the sample being written.
// On --resume the file is read back: a torn last line (no newline, or not JSON) is cut
// off and its sample redone; a damaged line before the last is an error (that is not
// what a crash leaves). A key seen twice keeps its last line (a retried error).
#pragma once
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "eval/sample.h"

namespace s1::eval {

struct JournalContents {
  std::map<SampleKey, SampleRecord> samples;  // last line per key
  size_t lines = 0;                            // complete lines read
  size_t good_bytes = 0;                       // the file up to the end of the last good line
  bool torn_tail = false;                      // bytes after it were dropped
};

// Parses journal text (`name` for messages). Throws s1::Error on a damaged middle line.
JournalContents parse_journal(std::string_view text, const std::string& name);

class Journal {
 public:
  // resume = false: the file must not exist or be empty. resume = true: reads it, cuts a
  // torn tail, and appends after it.
  Journal(const std::string& path, bool resume);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  const JournalContents& existing() const { return existing_; }
  // Thread-safe. Writes one line and fsyncs it; throws s1::Error if the disk refuses.
  void append(const SampleRecord& r);

 private:
  std::string path_;
  int fd_ = -1;
  std::mutex mu_;
  JournalContents existing_;
};

}  // namespace s1::eval
