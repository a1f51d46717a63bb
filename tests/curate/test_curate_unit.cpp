// The curation layer's parts: hashing, s1's text rules, adapters, decontamination on
// small hand-made files, the seeded sampling, the request runner's cache and retries.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>

#include "curate/db.h"
#include "curate/io.h"
#include "curate/pipeline.h"
#include "curate/runner.h"
#include "curate/text_rules.h"

using namespace s1::curate;
namespace fs = std::filesystem;

namespace {
const std::string kData = std::string(S1_TEST_DATA) + "/curate/";

std::string temp_db(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("s1-curate-unit-" + std::to_string(::getpid()) + "-" + name + ".db");
  for (const char* ext : {"", "-wal", "-shm"}) fs::remove(p.string() + ext);
  return p.string();
}
}  // namespace

// sha256_hex's vectors are in tests/util; here s1's question identity built on it.
TEST(CurateHash, QuestionHash) { EXPECT_EQ(question_hash("abc"), "ba7816bf8f01cfea"); }

TEST(CurateText, NormalisationAndNgrams) {
  EXPECT_EQ(normalize_text("  Hello \t  WORLD\n\nagain "), "hello world again");
  EXPECT_TRUE(word_ngram_hashes("one two three four five six seven").empty());  // < 8 words: none (as s1)
  EXPECT_EQ(word_ngram_hashes("one two three four five six seven eight").size(), 1u);
  EXPECT_EQ(word_ngram_hashes("a b c d e f g h i j").size(), 3u);
  EXPECT_EQ(word_ngram_hashes("ONE two three four five six seven eight"),
            word_ngram_hashes(" one  two\nthree four five six seven   eight "));
  EXPECT_NE(word_ngram_hashes("one two three four five six seven eight"),
            word_ngram_hashes("one two three four five six seven nine"));
  EXPECT_EQ(word_ngram_hashes("a b c d", 2).size(), 3u);
}

TEST(CurateQuality, S1Rules) {
  EXPECT_EQ(quality_reason("Find x. [asy] draw((0,0)--(1,1)); [/asy]", "math"), "asy_figure");
  EXPECT_EQ(quality_reason("Find x. [asy] draw((0,0)--(1,1)); [/asy]", "qq8933/AIME_1983_2024"), "");  // AIME keeps figures
  // ... and the exception wins over every other rule (s1's `or`)
  EXPECT_EQ(quality_reason("[asy] **5** p3. ![Image]", "AIME"), "");
  EXPECT_EQ(quality_reason("See ![Image](x.png).", "math"), "image_reference");
  EXPECT_EQ(quality_reason("As in p3. above", "math"), "numbered_figure");
  EXPECT_TRUE(has_numbered_figure("p1."));
  EXPECT_TRUE(has_numbered_figure("p999."));
  EXPECT_TRUE(has_numbered_figure("step1. do this"));  // substring semantics, as s1's `f"p{i}." in q`
  EXPECT_FALSE(has_numbered_figure("p0."));
  EXPECT_FALSE(has_numbered_figure("p1000."));
  EXPECT_FALSE(has_numbered_figure("p01."));
  EXPECT_FALSE(has_numbered_figure("help. p1 p2,"));
  EXPECT_EQ(quality_reason("The value is **5**.", "math"), "bolded_number");
  EXPECT_TRUE(has_bolded_number("**Answer** is 5"));      // the digit only has to follow on the same line
  EXPECT_FALSE(has_bolded_number("**Answer**\nis 5"));     // '.' does not cross a newline
  EXPECT_FALSE(has_bolded_number("** 5 **"));              // no whitespace inside
  EXPECT_FALSE(has_bolded_number("**[5]**"));              // no ']' inside
  EXPECT_FALSE(has_bolded_number("**bold** text"));        // no digit
  EXPECT_TRUE(has_bolded_number("x **a*b** 1"));
  EXPECT_EQ(quality_reason("An ordinary question about 5 apples.", "math"), "");
  EXPECT_TRUE(api_error_marker("Error code: 429 - rate limited").has_value());
  EXPECT_FALSE(api_error_marker("Let me think about the error term.").has_value());
}

TEST(CurateIngest, Adapters) {
  IngestOptions o;
  EXPECT_EQ(detect_adapter(kData + "aime_sample.csv"), "aime_csv");
  EXPECT_EQ(detect_adapter(kData + "s1k_sample.jsonl"), "s1");
  EXPECT_EQ(detect_adapter(kData + "math_sample.jsonl"), "math");
  EXPECT_EQ(detect_adapter(kData + "agieval_sample.jsonl"), "agieval");
  EXPECT_EQ(detect_adapter(kData + "olympiad_sample.jsonl"), "olympiadbench");
  EXPECT_EQ(detect_adapter(kData + "unified_sample.csv"), "s1");

  auto aime = read_source("", kData + "aime_sample.csv", o);
  ASSERT_EQ(aime.size(), 3u);
  EXPECT_EQ(aime[0].answer, "60");
  EXPECT_EQ(aime[0].answer_kind, "integer");
  EXPECT_EQ(aime[0].source_type, "qq8933/AIME_1983_2024");
  EXPECT_NE(aime[1].question.find("Find the \"answer\""), std::string::npos);
  EXPECT_EQ(aime[1].answer, "031");
  EXPECT_EQ(aime[2].drop_reason, "aime_after_2022");
  EXPECT_EQ(nlohmann::json::parse(aime[0].metadata)["ID"], "1983-1");

  auto s1k = read_source("s1", kData + "s1k_sample.jsonl", o);
  ASSERT_EQ(s1k.size(), 3u);
  EXPECT_TRUE(s1k[0].has_trace);
  EXPECT_EQ(s1k[0].thinking, "Six sevens.\nThat is 42.");  // s1 joins the list with "\n"
  EXPECT_EQ(s1k[0].attempt, "The product is 42.");
  EXPECT_EQ(s1k[0].answer, "42");
  EXPECT_EQ(s1k[1].answer_kind, "integer");
  EXPECT_EQ(s1k[2].metadata, "{\"Record ID\":\"rec1\"}");
  IngestOptions ds;
  ds.trace_field = "deepseek";
  auto s1k11 = read_source("s1", kData + "s1k_sample.jsonl", ds);
  EXPECT_EQ(s1k11[0].thinking, "Let me compute 6*7 = 42.");
  EXPECT_EQ(s1k11[0].attempt, "Answer: 42");
  EXPECT_FALSE(s1k11[1].has_trace);

  auto math = read_source("math", kData + "math_sample.jsonl", o);
  EXPECT_EQ(math[0].answer, "2");
  EXPECT_EQ(math[0].source_type, "hendrycks/math/test/Algebra");
  auto ag = read_source("agieval", kData + "agieval_sample.jsonl", o);
  EXPECT_EQ(ag[0].question, "Six people sit in a row.\n\nWhich could be the order?\nAnswer Choices:\n(A)x\n(B)y");
  EXPECT_EQ(ag[0].answer, "B");
  EXPECT_EQ(ag[0].answer_kind, "choice");
  EXPECT_EQ(ag[1].answer, "3");
  EXPECT_EQ(ag[1].solution, "So $x=\\boxed{3}$.");
  auto ol = read_source("olympiadbench", kData + "olympiad_sample.jsonl", o);
  EXPECT_EQ(ol[0].solution, "It is 2.");  // s1: solution[0]
  EXPECT_EQ(ol[0].answer, "2");
  auto csv = read_source("", kData + "unified_sample.csv", o);
  ASSERT_EQ(csv.size(), 2u);
  EXPECT_EQ(csv[1].question, "A line\nthat spans two lines");

  IngestOptions lim;
  lim.limit = 1;
  EXPECT_EQ(read_source("", kData + "aime_sample.csv", lim).size(), 1u);
  EXPECT_THROW(read_source("nope", kData + "math_sample.jsonl", o), s1::Error);
}

TEST(CurateIngest, BadInputIsOneClearError) {
  std::string p = (fs::temp_directory_path() / "s1-curate-bad.jsonl").string();
  write_file_atomic(p, "{\"question\": \"ok\"}\n{not json\n");
  try {
    read_source("s1", p, {});
    FAIL();
  } catch (const s1::Error& e) {
    EXPECT_NE(std::string(e.what()).find(":2: not valid JSON"), std::string::npos) << e.what();
  }
  fs::remove(p);
  EXPECT_THROW(read_source("", "/nonexistent/x.jsonl", {}), s1::Error);
}

TEST(CurateDecontaminate, EvalCrossSourceAndExact) {
  std::string path = temp_db("decon");
  {
    Db db(path);
    IngestOptions o;
    o.quiet = true;
    o.sources = {{"math", kData + "math_sample.jsonl"}, {"s1", kData + "unified_sample.csv"},
                 {"aime_csv", kData + "aime_sample.csv"}};
    ingest(db, o);
    // the same file again under another folder name: a second source whose rows all duplicate the first
    fs::path dup = fs::temp_directory_path() / ("s1-curate-dup-" + std::to_string(::getpid()));
    fs::create_directories(dup);
    fs::copy_file(kData + "aime_sample.csv", dup / "aime_sample.csv", fs::copy_options::overwrite_existing);
    o.sources = {{"aime_csv", (dup / "aime_sample.csv").string()}};
    ingest(db, o);
    ingest(db, o);  // already ingested: skipped
    EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM questions"), 2 + 2 + 3 + 3);
    decontaminate(db, {{kData + "eval_sample.jsonl"}, 8, true});
    std::map<std::string, int64_t> reasons;
    Stmt s = db.prepare("SELECT reason, COUNT(*) FROM removals GROUP BY reason");
    while (s.step()) reasons[s.str(0)] = s.i64(1);
    EXPECT_EQ(reasons["eval_overlap"], 1);           // the asymptote problem
    EXPECT_EQ(reasons["aime_after_2022"], 2);        // at ingest, both copies
    EXPECT_EQ(reasons["cross_source_overlap"], 2);   // the copy's two long AIME questions
    EXPECT_EQ(reasons["exact_duplicate"], 0);
    Stmt d = db.prepare("SELECT detail FROM removals WHERE reason='eval_overlap'");
    ASSERT_TRUE(d.step());
    auto detail = nlohmann::json::parse(d.str(0));
    EXPECT_EQ(detail["eval"], "eval_sample");
    EXPECT_EQ(detail["item"], 0);
    EXPECT_EQ(detail["ngram"].get<std::string>().size() > 0, true);
    // re-running recomputes the same removals
    decontaminate(db, {{kData + "eval_sample.jsonl"}, 8, true});
    EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM removals WHERE stage='decontaminate'"), 3);
    // with 20-grams the short questions have none: the copied 9-word AIME question goes as an exact duplicate
    decontaminate(db, {{kData + "eval_sample.jsonl"}, 20, true});
    EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM removals WHERE reason='eval_overlap'"), 0);
    EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM removals WHERE reason='cross_source_overlap'"), 1);
    EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM removals WHERE reason='exact_duplicate'"), 1);
    fs::remove_all(dup);
  }
  for (const char* ext : {"", "-wal", "-shm"}) fs::remove(path + ext);
}

TEST(CurateSampling, SeededReproducibleAndLengthWeighted) {
  std::vector<Candidate> pool;
  for (int d = 0; d < 5; ++d)
    for (int i = 0; i < 40; ++i) pool.push_back({d * 100 + i, "d" + std::to_string(d), 10 * i + d});
  auto a = diversity_sample(pool, 50, 7), b = diversity_sample(pool, 50, 7), c = diversity_sample(pool, 50, 8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(a.size(), 50u);
  std::set<int64_t> uniq(a.begin(), a.end());
  EXPECT_EQ(uniq.size(), 50u);
  // everything when n exceeds the pool; a domain that runs out stops being drawn
  EXPECT_EQ(diversity_sample(pool, 1000, 1).size(), pool.size());
  std::vector<Candidate> lopsided = {{1, "small", 5}};
  for (int i = 0; i < 50; ++i) lopsided.push_back({100 + i, "big", i});
  auto l = diversity_sample(lopsided, 3, 3);
  EXPECT_EQ(l.size(), 3u);
  // the first draw of a domain is its longest trace with probability 1/2, second 1/4 ...
  std::vector<Candidate> one;
  for (int i = 0; i < 10; ++i) one.push_back({i, "d", 100 - i});  // qid 0 longest
  int first = 0, second = 0;
  for (uint64_t seed = 0; seed < 4000; ++seed) {
    auto s = diversity_sample(one, 1, seed);
    first += s[0] == 0;
    second += s[0] == 1;
  }
  EXPECT_NEAR(first / 4000.0, 0.5, 0.04);
  EXPECT_NEAR(second / 4000.0, 0.25, 0.04);
  // uniform over domains, not over questions
  int small_first = 0;
  for (uint64_t seed = 0; seed < 2000; ++seed) small_first += diversity_sample(lopsided, 1, seed)[0] == 1;
  EXPECT_NEAR(small_first / 2000.0, 0.5, 0.05);
}

TEST(CurateParse, TraceSplitVerdictDomainAndText) {
  EXPECT_EQ(split_trace("<|im_start|>think\nhmm\n<|im_start|>answer\nAnswer: 4"),
            (std::pair<std::string, std::string>{"hmm\n", "Answer: 4"}));
  EXPECT_EQ(split_trace("<think>\nhmm</think>\n\n4").second, "4");
  EXPECT_EQ(split_trace("plain"), (std::pair<std::string, std::string>{"plain", "plain"}));
  EXPECT_EQ(parse_yes_no("Reasoning...\nYes"), std::optional<bool>(true));
  EXPECT_EQ(parse_yes_no("Reasoning...\nNo\n"), std::optional<bool>(false));
  EXPECT_EQ(parse_yes_no("Yes, it is right"), std::nullopt);
  auto msc = read_msc(std::string(S1_REPO_DATA) + "/s1/msc.json");
  EXPECT_EQ(msc.size(), 61u);
  EXPECT_EQ(parse_domain_code("It is number theory.\n11", msc), std::optional<std::string>("11"));
  EXPECT_EQ(parse_domain_code("code 00", msc), std::nullopt);  // not an MSC subject here
  EXPECT_EQ(parse_domain_code("abc", msc), std::nullopt);
  EXPECT_EQ(assistant_turn(" t \n", "4"), "<|im_start|>think\nt\n<|im_start|>answer\nAnswer: 4");
  EXPECT_EQ(assistant_turn("t", "Final Answer: 4 "), "<|im_start|>think\nt\n<|im_start|>answer\nFinal Answer: 4");
}

namespace {
// A model that fails before it answers: the runner's retries and the cache are what is
// under test, and no real endpoint fails on cue.
class FlakyClient : public s1::llm::Client {
 public:
  int fail_first = 0;
  bool retryable = true;
  std::atomic<int> calls{0};
  std::string name = "test:flaky";
  s1::llm::Response complete(const s1::llm::Request& req) override {
    int n = ++calls;
    if (n <= fail_first) throw s1::llm::ClientError("HTTP 503", 503, retryable);
    s1::llm::Response r;
    r.text = "echo: " + req.messages.at(0).content;
    r.finish_reason = "stop";
    return r;
  }
  std::string id() const override { return name; }
};
}  // namespace

TEST(CurateRunner, CacheRetriesAndDuplicates) {
  std::string path = temp_db("runner");
  {
    Db db(path);
    FlakyClient c;
    c.fail_first = 2;
    std::vector<Job> jobs;
    for (int i = 0; i < 6; ++i) {
      Job j;
      j.qid = i;
      j.role = "t";
      j.req.messages = {{"user", "q" + std::to_string(i % 4)}};  // jobs 4, 5 repeat jobs 0, 1
      jobs.push_back(j);
    }
    RunnerOptions ro;
    ro.concurrency = 3;
    ro.backoff_s = 0.001;
    ro.quiet = true;
    std::map<int64_t, std::string> got;
    auto store = [&](const Job& j, const s1::llm::Response* r, const std::string&) { got[j.qid] = r ? r->text : "ERR"; };
    RunStats st = run_jobs(db, c, jobs, ro, store);
    EXPECT_EQ(st.calls, 4);  // 4 distinct requests
    EXPECT_EQ(st.failures, 0);
    EXPECT_EQ(c.calls.load(), 4 + 2);  // + the two retried 503s
    EXPECT_EQ(got[5], "echo: q1");
    EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM calls"), 4);
    EXPECT_EQ(db.scalar("SELECT SUM(tries) FROM calls"), 6);
    // again: everything from the cache, the model is not called
    got.clear();
    RunStats again = run_jobs(db, c, jobs, ro, store);
    EXPECT_EQ(again.cache_hits, 6);
    EXPECT_EQ(again.calls, 0);
    EXPECT_EQ(c.calls.load(), 6);
    EXPECT_EQ(got[4], "echo: q0");
    // a non-retryable failure is tried once and reported
    FlakyClient bad;
    bad.fail_first = 100;
    bad.retryable = false;
    bad.name = "test:bad";  // another model: the cache of the first does not answer for it
    got.clear();
    RunStats b = run_jobs(db, bad, {jobs[0]}, ro, store);
    EXPECT_EQ(b.failures, 1);
    EXPECT_EQ(bad.calls.load(), 1);
    EXPECT_EQ(got[0], "ERR");
    // retryable failures stop after --retries
    FlakyClient down;
    down.fail_first = 100;
    down.name = "test:down";
    ro.retries = 2;
    run_jobs(db, down, {jobs[1]}, ro, store);
    EXPECT_EQ(down.calls.load(), 3);
  }
  for (const char* ext : {"", "-wal", "-shm"}) fs::remove(path + ext);
}

TEST(CurateDecontaminate, EvalSetsFromJsonlAndGpqaCsv) {
  EvalSet j = read_eval_set(kData + "eval_sample.jsonl");
  EXPECT_EQ(j.name, "eval_sample");
  ASSERT_EQ(j.questions.size(), 2u);
  EXPECT_EQ(j.questions[1], "short one");  // "question" when there is no "problem"
  std::string p = (fs::temp_directory_path() / ("gpqa-" + std::to_string(::getpid()) + ".csv")).string();
  write_file_atomic(p, "Record ID,Question,Correct Answer\nrec1,\"An invented question,\nover two lines\",A\n");
  EvalSet g = read_eval_set(p);
  ASSERT_EQ(g.questions.size(), 1u);
  EXPECT_EQ(g.questions[0], "An invented question,\nover two lines");
  write_file_atomic(p, "Record ID,Text\nrec1,x\n");
  EXPECT_THROW(read_eval_set(p), s1::Error);
  fs::remove(p);
}

TEST(CurateDb, NotADatabaseIsAClearError) {
  std::string p = (fs::temp_directory_path() / "s1-curate-notdb.db").string();
  write_file_atomic(p, std::string(4096, 'x'));
  EXPECT_THROW(Db db(p), s1::Error);
  fs::remove(p);
}
