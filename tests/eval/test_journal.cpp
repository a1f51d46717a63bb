// samples.jsonl: flushed lines, a torn tail after a kill cut off and redone, damage in
// the middle refused, a record's JSON round trip.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "eval/journal.h"

namespace s1::eval {
namespace {

namespace fs = std::filesystem;

SampleRecord rec(const std::string& q, int s, bool correct) {
  SampleRecord r;
  r.key = {"budget", 512, q, s};
  r.seed = 1000003u * uint64_t(s);
  r.prompt = "<|im_start|>user\n" + q + "<|im_end|>";
  r.start_text = "<|im_start|>think";
  r.thinking_text = "\nhmm\u00e9Wait more";
  r.end_text = "\n<|im_start|>answer\nFinal Answer:";
  r.answer_text = " 42";
  r.output = r.start_text + r.thinking_text + r.end_text + r.answer_text;
  r.waits.push_back({3, 6, "Wait"});
  r.forced_end = true;
  r.end_cause = "budget";
  r.thinking_tokens = 3;
  r.engine_thinking_tokens = 5;
  r.gold = "42";
  r.extracted = "42";
  r.canonical = "42";
  r.correct = correct;
  r.grade_method = "exact";
  return r;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("s1-eval-journal-" + std::to_string(::getpid()));
  TempDir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

TEST(EvalJournal, RecordRoundTrip) {
  SampleRecord r = rec("q1", 2, true);
  r.error = "boom";
  r.key.budget = std::nullopt;
  SampleRecord back = sample_from_json(to_json(r));
  EXPECT_EQ(to_json(back), to_json(r));
  EXPECT_FALSE(back.ok());
  EXPECT_THROW(sample_from_json(nlohmann::json::object()), Error);
  EXPECT_THROW(sample_from_json(nlohmann::json::array()), Error);
}

TEST(EvalJournal, TornTailIsCutAndTheRunContinues) {
  TempDir d;
  fs::path p = d.path / "samples.jsonl";
  {
    Journal j(p.string(), false);
    j.append(rec("q1", 0, true));
    j.append(rec("q2", 0, false));
    j.append(rec("q3", 0, true));
  }
  std::string full = slurp(p);
  size_t two_lines = full.find('\n', full.find('\n') + 1) + 1;
  // killed while writing the third line: half of it is on disk
  fs::resize_file(p, two_lines + 40);
  {
    Journal j(p.string(), true);
    EXPECT_TRUE(j.existing().torn_tail);
    EXPECT_EQ(j.existing().samples.size(), 2u);
    EXPECT_EQ(fs::file_size(p), two_lines);  // the torn bytes are gone before appending
    j.append(rec("q3", 0, true));
  }
  auto c = parse_journal(slurp(p), "x");
  EXPECT_FALSE(c.torn_tail);
  EXPECT_EQ(c.lines, 3u);
  EXPECT_EQ(slurp(p), full);  // exactly what an uninterrupted run wrote
  // a last line with its newline but no valid JSON (garbage after a crash) is torn too
  std::ofstream(p, std::ios::app) << "{\"method\":\n";
  EXPECT_TRUE(parse_journal(slurp(p), "x").torn_tail);
}

TEST(EvalJournal, DamageInTheMiddleAndAnExistingRunAreRefused) {
  TempDir d;
  fs::path p = d.path / "samples.jsonl";
  {
    Journal j(p.string(), false);
    j.append(rec("q1", 0, true));
  }
  EXPECT_THROW(Journal(p.string(), false), Error);  // would mix two runs
  std::string text = slurp(p);
  std::ofstream(p, std::ios::trunc) << "garbage\n" << text;
  EXPECT_THROW(Journal(p.string(), true), Error);
}

TEST(EvalJournal, LastLineOfAKeyWins) {
  SampleRecord failed = rec("q1", 0, false);
  failed.error = "timeout";
  std::string text = to_json(failed).dump() + "\n" + to_json(rec("q1", 0, true)).dump() + "\n";
  auto c = parse_journal(text, "x");
  ASSERT_EQ(c.samples.size(), 1u);
  EXPECT_TRUE(c.samples.begin()->second.ok());
}

}  // namespace
}  // namespace s1::eval
