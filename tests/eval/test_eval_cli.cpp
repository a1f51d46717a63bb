// `s1 eval` end to end on a tiny random model (its accuracy is meaningless; the pipeline
// is real): the output folder, resume after a cut line and after kill -9, the report in
// headless Chromium, and clear errors.
#include <signal.h>

#include <chrono>
#include <set>
#include <thread>

#include "cli_helpers.h"

namespace s1::eval::test {
namespace {

// 2 budgets x 2 methods x 3 questions; --end-bias makes the random model try to end its
// thinking, so that Waits are injected and budgets cut.
const char* kSweep = " --budgets 8,24 --control budget,token-prompt --num-ignore 1 --end-bias 1 -n 8 -t 1 --ctx 256";

struct Sweep {
  fs::path out = temp_dir("sweep");
  CliRun run;
  Sweep() { run = run_s1("eval -m " + tiny_model() + " " + data_args() + kSweep + " --out " + out.string()); }
  ~Sweep() { fs::remove_all(out); }
};
const Sweep& sweep() {
  static Sweep s;
  return s;
}

TEST(EvalCli, EndToEndOnATinyModel) {
  const Sweep& s = sweep();
  ASSERT_EQ(s.run.code, 0) << s.run.err;
  for (const char* f : {"samples.jsonl", "summary.json", "scaling.svg", "report.html", "run.json"})
    EXPECT_TRUE(fs::exists(s.out / f)) << f;
  auto samples = read_jsonl(s.out / "samples.jsonl");
  ASSERT_EQ(samples.size(), 12u);
  std::set<std::string> keys;
  int waits = 0, forced = 0;
  for (const auto& j : samples) {
    keys.insert(j["method"].get<std::string>() + "@" + j["budget"].dump() + "/" + j["question_id"].get<std::string>());
    EXPECT_TRUE(j["error"].is_null()) << j["error"];
    const std::string prompt = j["prompt"];
    // the question verbatim through Qwen's template, which adds its default system prompt
    EXPECT_EQ(prompt.rfind("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant."
                           "<|im_end|>\n<|im_start|>user\n",
                           0),
              0u)
        << prompt;
    EXPECT_NE(prompt.find("<|im_start|>assistant\n"), std::string::npos);
    if (j["method"] == "token-prompt") {
      EXPECT_NE(prompt.find("\n\nThink for up to " + j["budget"].dump() + " tokens.<|im_end|>"), std::string::npos);
    } else {
      EXPECT_EQ(prompt.find("Think for up to"), std::string::npos);
    }
    const std::string output = j["output"];
    EXPECT_EQ(output.rfind("<|im_start|>think", 0), 0u) << output;
    EXPECT_EQ(output, j["start_text"].get<std::string>() + j["thinking_text"].get<std::string>() +
                          j["end_text"].get<std::string>() + j["answer_text"].get<std::string>());
    if (j["method"] == "budget") {
      EXPECT_LE(j["engine_thinking_tokens"].get<int>(), j["budget"].get<int>());
    }
    if (j["forced_end"].get<bool>()) {
      ++forced;
      EXPECT_NE(j["end_text"].get<std::string>().find("<|im_start|>answer\nFinal Answer:"), std::string::npos);
    }
    EXPECT_LE(j["waits"].size(), 1u);  // --num-ignore 1
    for (const auto& w : j["waits"]) {
      ++waits;
      EXPECT_EQ(j["thinking_text"].get<std::string>().substr(w["char_offset"].get<size_t>(), 4), "Wait");
    }
    EXPECT_TRUE(j.contains("extracted") && j.contains("correct") && j.contains("thinking_tokens") &&
                j.contains("answer_tokens") && j.contains("seconds"));
  }
  EXPECT_EQ(keys.size(), 12u);
  EXPECT_GT(waits, 0);
  EXPECT_GT(forced, 0);

  auto summary = nlohmann::json::parse(slurp(s.out / "summary.json"));
  ASSERT_EQ(summary["points"].size(), 4u);
  EXPECT_EQ(summary["questions"], 3);
  EXPECT_TRUE(summary["complete"].get<bool>());
  for (const auto& p : summary["points"]) {
    EXPECT_EQ(p["samples_ok"], 3);
    EXPECT_EQ(p["accuracy_ci95"].size(), 2u);
    EXPECT_EQ(p["a_max"], p["budget"]);
  }
  ASSERT_EQ(summary["methods"].size(), 2u);
  for (const auto& m : summary["methods"]) {
    EXPECT_TRUE(m.contains("control") && m.contains("scaling") && m.contains("performance"));
    EXPECT_EQ(m["points"].size(), 2u);
  }
  EXPECT_NE(summary["noise"]["text"].get<std::string>().find("3 questions"), std::string::npos);
  // the table and the noise warning are printed
  EXPECT_NE(s.run.out.find("budget@8"), std::string::npos);
  EXPECT_NE(s.run.out.find("token-prompt@24"), std::string::npos);
  EXPECT_NE(s.run.out.find("Control"), std::string::npos);
  EXPECT_NE(s.run.out.find("one question moves accuracy by 33.3 points"), std::string::npos);
  // not a terminal: plain progress lines, one per sample
  EXPECT_NE(s.run.err.find("s1 eval: 12/12 "), std::string::npos) << s.run.err;

  std::string svg = slurp(s.out / "scaling.svg");
  EXPECT_NE(svg.find("data-method=\"budget\""), std::string::npos);
  EXPECT_NE(svg.find("data-method=\"token-prompt\""), std::string::npos);
}

bool have_chromium() { return std::system("command -v chromium >/dev/null 2>&1") == 0; }

TEST(EvalCli, ReportRendersEverySampleInHeadlessChromium) {
  if (!have_chromium()) GTEST_SKIP() << "chromium is not installed";
  const Sweep& s = sweep();
  ASSERT_EQ(s.run.code, 0) << s.run.err;
  std::string html = slurp(s.out / "report.html");
  // self-contained: nothing is fetched (the SVG namespace URI is a name, not a request)
  for (const char* fetch : {"src=\"http", "href=\"http", "src=\"//", "@import", "url(", "fetch(", "XMLHttpRequest"})
    EXPECT_EQ(html.find(fetch), std::string::npos) << fetch;
  // the question with markup in it never appears unescaped
  EXPECT_EQ(html.find("<b>bold</b>"), std::string::npos);
  EXPECT_EQ(html.find("</script> dangerous"), std::string::npos);
  fs::path dom = s.out / "dom.html", log = s.out / "chromium.log";
  std::string cmd = "timeout 120 chromium --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 "
                    "--user-data-dir=" + (s.out / "profile").string() + " --dump-dom file://" +
                    (s.out / "report.html").string() + " >" + dom.string() + " 2>" + log.string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << slurp(log);
  std::string d = slurp(dom), l = slurp(log);
  // data-rendered is set by the script after it built every sample: proof it ran to the end
  EXPECT_NE(d.find("data-rendered=\"12\""), std::string::npos) << d.substr(0, 2000);
  EXPECT_EQ(d.find("data-js-error=\""), std::string::npos) << d.substr(0, 3000);  // set by window.onerror
  EXPECT_EQ(l.find("Uncaught"), std::string::npos) << l;
  size_t rendered = 0;
  for (size_t p = 0; (p = d.find("<details class=\"sample ", p)) != std::string::npos; ++p) ++rendered;
  EXPECT_EQ(rendered, 12u);
  EXPECT_NE(d.find("showing 12 of 12 samples"), std::string::npos);
  EXPECT_NE(d.find("data-key=\"budget@8|q-add|0\""), std::string::npos);
  EXPECT_NE(d.find("<mark class=\"wait\""), std::string::npos);  // a Wait marked
  EXPECT_NE(d.find("class=\"cut\""), std::string::npos);         // a budget cut marked
  // the markup in the question is text in the DOM, not elements
  EXPECT_NE(d.find("&lt;b&gt;bold&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(d.find("<b>bold</b>"), std::string::npos);
}

size_t count_lines(const fs::path& p) { return read_jsonl(p).size(); }

TEST(EvalCli, ResumeAfterACutLineRedoesOnlyThatSample) {
  fs::path out = temp_dir("resume-cut");
  std::string args = "eval -m " + tiny_model() + " " + data_args() +
                     " --budgets 8,16 --control budget -n 4 -t 1 --ctx 256 --out " + out.string();
  CliRun first = run_s1(args);
  ASSERT_EQ(first.code, 0) << first.err;
  std::string full = slurp(out / "samples.jsonl");
  ASSERT_EQ(count_lines(out / "samples.jsonl"), 6u);
  // as if killed while writing the 4th line: 3 whole lines and half of the 4th
  size_t cut = 0;
  for (int i = 0; i < 3; ++i) cut = full.find('\n', cut) + 1;
  size_t fourth_end = full.find('\n', cut) + 1;
  fs::resize_file(out / "samples.jsonl", cut + (fourth_end - cut) / 2);
  fs::remove(out / "summary.json");

  CliRun again = run_s1(args);  // without --resume: refused, nothing touched
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("--resume"), std::string::npos) << again.err;

  CliRun resumed = run_s1(args + " --resume");
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("3 samples to run (3 already done, resumed)"), std::string::npos) << resumed.err;
  EXPECT_NE(resumed.err.find("last line was cut off"), std::string::npos) << resumed.err;
  std::string now = slurp(out / "samples.jsonl");
  EXPECT_EQ(now.substr(0, cut), full.substr(0, cut));  // the finished lines were kept as they were
  auto lines = read_jsonl(out / "samples.jsonl");
  ASSERT_EQ(lines.size(), 6u);
  std::set<std::string> keys;
  for (const auto& j : lines) keys.insert(j["budget"].dump() + "/" + j["question_id"].get<std::string>());
  EXPECT_EQ(keys.size(), 6u);  // nothing twice, nothing lost
  EXPECT_TRUE(fs::exists(out / "summary.json"));

  CliRun nothing = run_s1(args + " --resume");
  ASSERT_EQ(nothing.code, 0) << nothing.err;
  EXPECT_NE(nothing.err.find("0 samples to run (6 already done, resumed)"), std::string::npos) << nothing.err;
  EXPECT_EQ(slurp(out / "samples.jsonl"), now);

  // resuming with other settings would mix two experiments
  CliRun other = run_s1(args + " --resume --temperature 0.5");
  EXPECT_EQ(other.code, 1);
  EXPECT_NE(other.err.find("different settings: temperature"), std::string::npos) << other.err;
  // more budgets on resume: only the new points run
  CliRun more = run_s1("eval -m " + tiny_model() + " " + data_args() +
                       " --budgets 8,16,4 --control budget -n 4 -t 1 --ctx 256 --resume --out " + out.string());
  ASSERT_EQ(more.code, 0) << more.err;
  EXPECT_NE(more.err.find("3 samples to run (6 already done, resumed)"), std::string::npos) << more.err;
  fs::remove_all(out);
}

TEST(EvalCli, ResumeAfterKill9LosesNothing) {
  fs::path out = temp_dir("resume-kill");
  // long enough per sample (a random model thinks to its budget) to be killed mid-run
  std::string args = "eval -m " + tiny_model() + " " + data_args() +
                     " --budgets 150,151,152 --control budget -n 4 -t 1 --ctx 512 --out " + out.string();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string cmd = std::string("exec ") + S1_BINARY + " " + args + " >/dev/null 2>&1";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), (char*)nullptr);
    _exit(127);
  }
  // wait for at least two finished samples, then kill -9 (no chance to clean up)
  for (int i = 0; i < 2400; ++i) {  // up to 2 minutes on a slow machine
    if (fs::exists(out / "samples.jsonl") && count_lines(out / "samples.jsonl") >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed";
  std::string before = slurp(out / "samples.jsonl");
  size_t done = 0;
  for (char c : before) done += c == '\n';
  ASSERT_GE(done, 2u);
  ASSERT_LT(done, 9u);
  CliRun resumed = run_s1(args + " --resume");
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find(std::to_string(9 - done) + " samples to run (" + std::to_string(done) + " already done"),
            std::string::npos)
      << resumed.err;
  auto lines = read_jsonl(out / "samples.jsonl");
  ASSERT_EQ(lines.size(), 9u);
  std::set<std::string> keys;
  for (const auto& j : lines) keys.insert(j["budget"].dump() + "/" + j["question_id"].get<std::string>());
  EXPECT_EQ(keys.size(), 9u);
  auto summary = nlohmann::json::parse(slurp(out / "summary.json"));
  EXPECT_TRUE(summary["complete"].get<bool>());
  fs::remove_all(out);
}

TEST(EvalCli, SamplesGiveMajAndCovAtK) {
  fs::path out = temp_dir("vote");
  CliRun r = run_s1("eval -m " + tiny_model() + " " + data_args() +
                    " --budgets 8 --samples 2 --temperature 1 --seed 3 -n 4 -t 1 --ctx 256 --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = read_jsonl(out / "samples.jsonl");
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[1]["seed"], 3 + 1000003);
  auto summary = nlohmann::json::parse(slurp(out / "summary.json"));
  ASSERT_TRUE(summary["points"][0].contains("maj_at_k"));
  EXPECT_TRUE(summary["points"][0]["maj_at_k"].contains("2"));
  EXPECT_TRUE(summary["points"][0]["cov_at_k"].contains("2"));
  fs::remove_all(out);
}

TEST(EvalCli, BadInputIsOneClearLine) {
  fs::path out = temp_dir("bad");
  auto expect_error = [&](const std::string& args, const std::string& needle) {
    CliRun r = run_s1("eval " + args + " --out " + (out / "o").string());
    EXPECT_EQ(r.code, 1) << args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("s1: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  };
  const std::string m = "-m " + tiny_model() + " ";
  expect_error(m + "--bench aime99 --budgets 8", "aime99");
  expect_error(m + "--bench gpqa --budgets 8", "--gpqa-zip");
  expect_error(m + "--data " + questions_file() + " --question-field nope --answer-field answer --budgets 8", "nope");
  expect_error(m + data_args() + " --budgets 8 --control sometimes", "sometimes");
  expect_error(m + data_args() + " --budgets 8,x", "'x'");
  expect_error(m + data_args() + " --control budget", "needs --budgets");
  expect_error(m + "--data /nonexistent.jsonl --question-field q --answer-field a --budgets 8", "nonexistent");
  expect_error("-m /nonexistent-model " + data_args() + " --budgets 8", "nonexistent-model");
  fs::remove_all(out);
}

}  // namespace
}  // namespace s1::eval::test
