// util/progress: the lines written to a file (plain) and to a forced terminal (redrawn).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "util/progress.h"

namespace s1::util {
namespace {

// Runs f with a temporary FILE* and returns what it wrote.
template <class F>
std::string written(F f) {
  std::FILE* out = std::tmpfile();
  f(out);
  std::fflush(out);
  std::rewind(out);
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, out)) > 0) s.append(buf, n);
  std::fclose(out);
  return s;
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(UtilProgress, FormatDuration) {
  EXPECT_EQ(Progress::format_duration(42), "42s");
  EXPECT_EQ(Progress::format_duration(185), "3m05s");
  EXPECT_EQ(Progress::format_duration(3720), "1h02m");
  EXPECT_EQ(Progress::format_duration(-1), "?");
}

TEST(UtilProgress, PlainLinePerItemWithAnnouncement) {
  std::string s = written([](std::FILE* out) {
    Progress p({.prefix = "s1 eval", .total = 2, .unit = "samples", .resumed = 3, .line_per_item = true, .out = out,
                .tty = 0});
    p.add(1, 10, "budget@512 q 1 s 0: correct");
    p.add(1, 20, "budget@512 q 2 s 0: wrong");
    p.finish();
    p.finish();  // once
  });
  EXPECT_TRUE(has(s, "s1 eval: 2 samples to run (3 already done, resumed)\n")) << s;
  EXPECT_TRUE(has(s, "s1 eval: 1/2 budget@512 q 1 s 0: correct (")) << s;
  EXPECT_TRUE(has(s, "tok/s, ETA ")) << s;
  EXPECT_TRUE(has(s, "s1 eval: 2/2 budget@512 q 2 s 0: wrong (")) << s;
  EXPECT_TRUE(has(s, "s1 eval: 2/2 samples in ")) << s;
  EXPECT_TRUE(has(s, ", 30 tokens)\n")) << s;
  EXPECT_FALSE(has(s, "\033")) << s;  // no terminal codes in a file
  EXPECT_EQ(s.find("samples in "), s.rfind("samples in ")) << s;
}

TEST(UtilProgress, ShortStageIsSilentOffATerminal) {
  // curate's stages: no lines within the first 5 s off a terminal, and quiet means nothing
  std::string s = written([](std::FILE* out) {
    Progress p({.prefix = "curate", .label = "decontaminate", .total = 4, .out = out, .tty = 0});
    for (int i = 0; i < 4; ++i) p.add();
    p.finish();
    Progress empty({.prefix = "curate", .label = "generate", .total = 0, .out = out, .tty = 1});
    empty.finish("never shown");
    Progress q({.prefix = "s1 eval", .total = 1, .unit = "samples", .quiet = true, .out = out, .tty = 1});
    q.add(1, 5, "x");
    q.finish();
  });
  EXPECT_EQ(s, "");
}

TEST(UtilProgress, TerminalRedrawsABar) {
  std::string s = written([](std::FILE* out) {
    Progress p({.prefix = "s1 eval", .total = 4, .line_per_item = true, .out = out, .tty = 1});
    p.add(1, 0, "q 1");
    p.add(1, 0, "q 2");
    p.finish();
  });
  EXPECT_TRUE(has(s, "\r\033[Ks1 eval: [##############..............] 2/4 | ")) << s;
  EXPECT_TRUE(has(s, "/s | ETA ")) << s;
  EXPECT_TRUE(has(s, " | q 2")) << s;
  EXPECT_TRUE(has(s, "\r\033[Ks1 eval: 2/4 in ")) << s;
  EXPECT_EQ(s.back(), '\n');
}

}  // namespace
}  // namespace s1::util
