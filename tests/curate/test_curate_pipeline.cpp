// `s1 curate` end to end, offline: the bundled pools, the local engine on a tiny random
// model standing in for every LLM (answers meaningless, machinery real), a SIGKILL in
// the middle of generation, the cache, the seeded selection and the decontamination
// of the MATH test set against MATH500.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "curate/db.h"
#include "curate/pipeline.h"

using namespace s1::curate;
namespace fs = std::filesystem;

namespace {
const std::string kBin = S1_BINARY;
const std::string kRepo = S1_REPO_DATA;

struct CliResult {
  int code;
  std::string out, err;
};

std::string slurp(const std::string& p) {
  std::ifstream f(p);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

class CurateCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("s1-curate-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "c.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  CliResult run(const std::string& args) {
    std::string out = (dir_ / "stdout").string(), err = (dir_ / "stderr").string();
    int st = std::system((kBin + " " + args + " >" + out + " 2>" + err).c_str());
    return {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), slurp(out), slurp(err)};
  }
  // The tiny random Qwen2.5-shaped model (real tokenizer and chat template).
  std::string model() {
    std::string m = (dir_ / "tiny").string();
    if (!fs::exists(m + "/config.json")) {
      CliResult r = run("make-model --shape qwen2.5-tiny --out " + m);
      EXPECT_EQ(r.code, 0) << r.err;
    }
    return m;
  }
  fs::path dir_;
  std::string db_;
};

}  // namespace

TEST_F(CurateCli, DecontaminationRemovesEveryMath500ProblemFromTheMathTestSet) {
  CliResult a = run("curate ingest -q --db " + db_ + " --source math=" + kRepo + "/pools/math_test5000/test.jsonl");
  ASSERT_EQ(a.code, 0) << a.err;
  CliResult b = run("curate decontaminate -q --db " + db_ + " --eval " + kRepo + "/benchmarks/math500.jsonl");
  ASSERT_EQ(b.code, 0) << b.err;
  Db db(db_);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM questions"), 5000);
  EvalSet math500 = read_eval_set(kRepo + "/benchmarks/math500.jsonl");
  ASSERT_EQ(math500.questions.size(), 500u);
  Stmt q = db.prepare(
      "SELECT q.id, r.reason, r.detail FROM questions q LEFT JOIN removals r ON r.qid=q.id AND r.stage='decontaminate' "
      "WHERE q.question=?");
  int found = 0, removed = 0;
  for (const auto& p : math500.questions) {
    q.bind(1, p);
    while (q.step()) {
      ++found;
      if (q.str(1) == "eval_overlap" || q.str(1) == "eval_exact") ++removed;
      else ADD_FAILURE() << "kept: " << p.substr(0, 80);
    }
    q.reset();
  }
  EXPECT_EQ(found, 500);  // the MATH test set holds every MATH500 problem verbatim ...
  EXPECT_EQ(removed, 500);  // ... and every one goes
  // the short ones (< 8 words) have no 8-gram: they go by the exact (normalised) match
  EXPECT_GT(db.scalar("SELECT COUNT(*) FROM removals WHERE reason='eval_exact'"), 0);
  int64_t eval_removed = db.scalar("SELECT COUNT(*) FROM removals WHERE reason IN ('eval_overlap','eval_exact')");
  EXPECT_GE(eval_removed, 500);
  // s1's 8-grams also catch shared boilerplate ("where $m$ and $n$ are relatively prime positive"),
  // but not the whole set: 827 of 5,000 with the bundled files
  EXPECT_LT(eval_removed, 1000);
}

TEST_F(CurateCli, WholePipelineOnTheBundledPoolsThenResumeIsFree) {
  std::string m = model(), out = (dir_ / "out").string(), svg = (dir_ / "svg").string();
  // Sampled (seeded) so that the tiny model writes something other than blank lines; a
  // three-subject MSC file keeps the classification prompt short.
  std::string common = " --db " + db_ + " --llm local:" + m +
                       " --all-max-tokens 8 --threads 2 --temperature 1 --attempt-temperature 0.9 --gen-seed 1 --msc " +
                       std::string(S1_TEST_DATA) + "/curate/msc3.json";
  CliResult r = run("curate run -q" + common + " --limit 8 --max-questions 12 --classify-tries 1 --concurrency 2 --n 6 --seed 5 --out " + out);
  ASSERT_EQ(r.code, 0) << r.err;

  CliResult rep = run("curate report --json --db " + db_ + " --svg " + svg);
  ASSERT_EQ(rep.code, 0) << rep.err;
  auto j = nlohmann::json::parse(rep.out);
  std::vector<int64_t> counts;
  for (const auto& c : j["counts"]) counts.push_back(c["count"].get<int64_t>());
  ASSERT_EQ(counts.size(), 6u);  // ingested, ingest, decontaminate, quality, difficulty, selected
  EXPECT_EQ(counts[0], 8 * 7);   // 7 files of the bundled pools, 8 rows each
  for (size_t i = 1; i < counts.size(); ++i) EXPECT_LE(counts[i], counts[i - 1]);
  EXPECT_EQ(counts[5], 6);
  EXPECT_EQ(j["paper"]["quality"], 51581);
  EXPECT_TRUE(j["removals"]["quality"].contains("asy_figure"));  // a MATH problem with an [asy] figure
  EXPECT_TRUE(j["removals"]["decontaminate"].contains("eval_overlap"));
  EXPECT_EQ(j["calls"]["total"], 2 * 12 + 12);  // trace + attempt for 12 questions, 1 classification each
  EXPECT_TRUE(fs::exists(svg + "/domains.svg"));
  EXPECT_TRUE(fs::exists(svg + "/lengths.svg"));

  // s1K's schema + s1's training text
  std::ifstream f(out + "/s1k.jsonl");
  std::string line;
  int rows = 0;
  while (std::getline(f, line)) {
    auto row = nlohmann::json::parse(line);
    for (const char* k : {"question", "solution", "cot_type", "source_type", "metadata", "cot", "attempt", "text"})
      EXPECT_TRUE(row.contains(k)) << k;
    ASSERT_TRUE(row["thinking_trajectories"].is_array());
    std::string text = row["text"];
    EXPECT_EQ(text.rfind("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                         "<|im_start|>user\n" + row["question"].get<std::string>() + "<|im_end|>\n<|im_start|>assistant\n"
                         "<|im_start|>think\n", 0), 0u);
    EXPECT_NE(text.find("\n<|im_start|>answer\nAnswer: "), std::string::npos);
    EXPECT_EQ(text.substr(text.size() - 11), "<|im_end|>\n");
    ++rows;
  }
  EXPECT_EQ(rows, 6);
  for (const char* n : {"random1k", "longest1k", "diverse1k", "full"}) EXPECT_TRUE(fs::exists(out + "/" + n + ".jsonl")) << n;

  // The selection is a function of the seed.
  auto selection = [&] {
    Db db(db_);
    std::vector<int64_t> ids;
    Stmt s = db.prepare("SELECT qid FROM selections WHERE name='s1k' ORDER BY pos");
    while (s.step()) ids.push_back(s.i64(0));
    return ids;
  };
  auto first = selection();
  ASSERT_EQ(run("curate select -q --db " + db_ + " --n 6 --seed 5").code, 0);
  EXPECT_EQ(selection(), first);
  ASSERT_EQ(run("curate select -q --db " + db_ + " --n 6 --seed 6").code, 0);
  EXPECT_NE(selection(), first);

  // Running everything again pays for nothing.
  int64_t calls = Db(db_).scalar("SELECT COUNT(*) FROM calls");
  EXPECT_GT(calls, 0);
  CliResult again = run("curate run -q" + common + " --limit 8 --max-questions 12 --classify-tries 1 --n 6 --seed 5 --out " + out);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(Db(db_).scalar("SELECT COUNT(*) FROM calls"), calls);
}

TEST_F(CurateCli, KillDuringGenerateLosesNothingAndRepeatsNoCall) {
  std::string m = model();
  ASSERT_EQ(run("curate ingest -q --db " + db_ + " --limit 6").code, 0);
  ASSERT_EQ(run("curate decontaminate -q --db " + db_).code, 0);
  ASSERT_EQ(run("curate quality -q --db " + db_).code, 0);
  const int kQuestions = 12, kRequests = 2 * kQuestions;  // a trace and an attempt each

  // The rate limit (5 requests/s) keeps the run going long enough to be killed mid-way.
  std::vector<std::string> args = {kBin, "curate", "generate", "-q", "--db", db_, "--llm", "local:" + m,
                                   "--all-max-tokens", "8", "--threads", "2", "--max-questions",
                                   std::to_string(kQuestions), "--rpm", "300", "--concurrency", "2"};
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(kBin.c_str(), argv.data());
    _exit(127);
  }
  ASSERT_GT(pid, 0);
  int64_t before = 0;
  {
    Db db(db_);
    for (int i = 0; i < 2000 && before < 4; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      before = db.scalar("SELECT COUNT(*) FROM calls");
    }
  }
  kill(pid, SIGKILL);
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFSIGNALED(st)) << "generate finished before it could be killed";
  std::set<std::string> keys_before;
  {
    Db db(db_);
    before = db.scalar("SELECT COUNT(*) FROM calls");
    Stmt s = db.prepare("SELECT key FROM calls");
    while (s.step()) keys_before.insert(s.str(0));
    EXPECT_GE(before, 4);
    EXPECT_LT(before, kRequests);
    // every committed call has its answer stored with it
    EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM outputs WHERE cache_key IS NOT NULL"), before);
  }

  CliResult resume = run("curate generate -q --db " + db_ + " --llm local:" + m +
                   " --all-max-tokens 8 --threads 2 --concurrency 2 --max-questions " + std::to_string(kQuestions));
  ASSERT_EQ(resume.code, 0) << resume.err;
  {
    Db db(db_);
    EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM outputs WHERE error IS NULL"), kRequests);
    EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM outputs WHERE role='trace'"), kQuestions);
    EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM outputs WHERE role='attempt:default'"), kQuestions);
    // each request was made once: the killed run's calls were not made again
    EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM calls"), kRequests);
    EXPECT_EQ(db.scalar("SELECT COUNT(DISTINCT key) FROM calls"), kRequests);
    for (const auto& k : keys_before) {
      Stmt s = db.prepare("SELECT COUNT(*) FROM calls WHERE key=?");
      s.bind(1, k);
      ASSERT_TRUE(s.step());
      EXPECT_EQ(s.i64(0), 1);
    }
    // Cache: forget the outputs, keep the cache; generating again calls nothing.
    db.exec("DELETE FROM outputs");
  }
  CliResult cached = run("curate generate --db " + db_ + " --llm local:" + m +
                   " --all-max-tokens 8 --threads 2 --max-questions " + std::to_string(kQuestions));
  ASSERT_EQ(cached.code, 0) << cached.err;
  EXPECT_NE(cached.err.find("generate trace: 12 requests, 12 from the cache, 0 model calls"), std::string::npos) << cached.err;
  {
    Db db(db_);
    EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM calls"), kRequests);
    EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM outputs"), kRequests);
  }
  // The LLM grader with s1's prompt: one request per trace / attempt; the tiny model's
  // text never ends in "Yes" / "No", so every grade is "no verdict" (not solved).
  CliResult g = run("curate grade -q --grader llm --db " + db_ + " --llm local:" + m +
                    " --all-max-tokens 8 --threads 2 --grading-prompt " + kRepo + "/s1/grading.txt");
  ASSERT_EQ(g.code, 0) << g.err;
  Db db(db_);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM grades WHERE grader LIKE 'llm:local:%' AND method='no_verdict' AND correct IS NULL"),
            kRequests);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM calls"), 2 * kRequests);
  EXPECT_GT(db.scalar("SELECT COUNT(*) FROM questions WHERE trace_tokens IS NOT NULL"), 0);
  CliResult d = run("curate difficulty --db " + db_);
  ASSERT_EQ(d.code, 0) << d.err;
  EXPECT_NE(d.err.find("attempt grades without a verdict (counted as not solved)"), std::string::npos) << d.err;
}

TEST_F(CurateCli, BadInputIsOneErrorLine) {
  CliResult a = run("curate ingest --db " + db_ + " --source /nonexistent/pool.jsonl");
  EXPECT_EQ(a.code, 1);
  EXPECT_EQ(a.err, "s1: error: /nonexistent/pool.jsonl: no such file or folder\n");
  CliResult u = run("curate ingest --db " + db_ + " --source nope=" + std::string(S1_TEST_DATA) + "/curate/aime_sample.csv");
  EXPECT_EQ(u.code, 1);
  EXPECT_NE(u.err.find("s1: error: unknown adapter 'nope'"), std::string::npos) << u.err;
  CliResult b = run("curate generate --db " + db_);
  EXPECT_EQ(b.code, 1);
  EXPECT_NE(b.err.find("s1: error: generate: the database has no questions"), std::string::npos) << b.err;
  std::ofstream((dir_ / "junk.db").string()) << std::string(5000, 'j');
  CliResult c = run("curate report --db " + (dir_ / "junk.db").string());
  EXPECT_EQ(c.code, 1);
  EXPECT_NE(c.err.find("not a curation database"), std::string::npos) << c.err;
  CliResult d = run("curate generate --db " + db_ + " --attempt-llm nospec");
  EXPECT_EQ(d.code, 1);
  EXPECT_NE(d.err.find("--attempt-llm wants NAME=SPEC"), std::string::npos) << d.err;
}
