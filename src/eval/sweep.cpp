#include "eval/sweep.h"

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "chat/chat_template.h"
#include "control/budget_config.h"
#include "core/error.h"
#include "eval/journal.h"
#include "eval/report.h"
#include "eval/summary.h"
#include "grading/grader.h"
#include "tokenizer/tokenizer.h"
#include "util/progress.h"

namespace s1::eval {

namespace fs = std::filesystem;

std::string build_prompt(const ChatTemplate& tmpl, const std::string& question_text) {
  nlohmann::json messages = nlohmann::json::array({{{"role", "user"}, {"content", question_text}}});
  return tmpl.apply(messages, true);
}

namespace {

void write_file_atomic(const fs::path& path, const std::string& data) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) fail(tmp.string(), ": cannot write");
    f << data;
    if (!f.flush()) fail(tmp.string(), ": cannot write");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) fail(path.string(), ": cannot write (", ec.message(), ")");
}

// run.json holds the settings of the run; a --resume with other settings would mix two
// experiments in one journal.
void check_settings(const SweepConfig& cfg) {
  fs::path p = fs::path(cfg.out_dir) / "run.json";
  if (cfg.resume && fs::exists(p)) {
    std::ifstream f(p);
    nlohmann::json old;
    try {
      old = nlohmann::json::parse(f);
    } catch (const std::exception& e) {
      fail(p.string(), ": not JSON (", e.what(), ")");
    }
    std::string diffs;
    for (auto it = cfg.settings.begin(); it != cfg.settings.end(); ++it)
      if (!old.contains(it.key()) || old[it.key()] != it.value())
        diffs += (diffs.empty() ? "" : ", ") + it.key() + " (was " +
                 (old.contains(it.key()) ? old[it.key()].dump() : "unset") + ", now " + it.value().dump() + ")";
    if (!diffs.empty()) fail(cfg.out_dir, ": --resume with different settings: ", diffs, "; use another --out");
  }
  write_file_atomic(p, cfg.settings.dump(2) + "\n");
}

struct Task {
  size_t point, question;
  int sample;
};

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// What the judge of a (point, question)'s sample s sees: the answers of samples 0..s-1
// (s1's options grow in sample order). A sample waits until those are settled, so the
// verdicts do not depend on --parallel; tasks are handed out in order, so every earlier
// sample is already being worked on and the wait ends.
class JudgeBoard {
 public:
  JudgeBoard(size_t points, size_t questions, int samples)
      : questions_(questions), samples_(samples), slots_(points * questions * size_t(samples)) {}
  void settle(size_t p, size_t q, int s, std::optional<std::string> answer) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      Slot& slot = slots_[index(p, q, s)];
      slot.ready = true;
      slot.answer = std::move(answer);
    }
    cv_.notify_all();
  }
  std::vector<std::string> earlier_answers(size_t p, size_t q, int s) {
    std::unique_lock<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (int i = 0; i < s; ++i) {
      cv_.wait(lock, [&] { return slots_[index(p, q, i)].ready; });
      if (slots_[index(p, q, i)].answer) out.push_back(*slots_[index(p, q, i)].answer);
    }
    return out;
  }

 private:
  struct Slot {
    bool ready = false;
    std::optional<std::string> answer;
  };
  size_t index(size_t p, size_t q, int s) const { return (p * questions_ + q) * size_t(samples_) + size_t(s); }
  size_t questions_;
  int samples_;
  std::vector<Slot> slots_;
  std::mutex mu_;
  std::condition_variable cv_;
};

// Asks the judge about a graded sample, as `s1 grade --judge` does: letters and digit
// strings on both sides (s1 compares those as integers) keep the deterministic verdict.
void judge_sample(SampleRecord& r, const Question& q, const std::string& response, const std::vector<std::string>& earlier,
                  llm::Client& client, const grading::JudgeOptions& opts, std::mutex& client_mu) {
  std::optional<std::string> voted = r.extracted;
  if (q.kind == grading::AnswerKind::MultipleChoice || (r.extracted && all_digits(*r.extracted) && all_digits(q.gold))) {
    r.judge_correct = r.correct;
  } else {
    try {
      std::string attempt = grading::judge_attempt(response, r.extracted);
      std::lock_guard<std::mutex> lock(client_mu);  // one judge request at a time
      grading::JudgeResult jr = grading::judge(client, attempt, grading::judge_options(q.gold, earlier), opts);
      r.judge_correct = jr.correct;
      voted = jr.mapped;
    } catch (const std::exception& e) {  // recorded with the sample, which stays finished
      r.judge_error = e.what();
    }
  }
  r.judge_answer = voted;
}

}  // namespace

SweepResult run_sweep(const SweepConfig& cfg, Backend& backend, const Tokenizer& tok, const ChatTemplate& tmpl) {
  if (cfg.questions.empty()) fail("no questions to evaluate");
  if (cfg.points.empty()) fail("nothing to run: give --control and --budgets");
  if (cfg.samples < 1) fail("--samples must be >= 1, got ", cfg.samples);
  std::error_code ec;
  fs::create_directories(cfg.out_dir, ec);
  if (ec || !fs::is_directory(cfg.out_dir)) fail(cfg.out_dir, ": cannot create the output folder");
  Journal journal((fs::path(cfg.out_dir) / "samples.jsonl").string(), cfg.resume);
  check_settings(cfg);

  // Prompts per point, and each point's thinking cap: its budget, or s1's "auto" (the
  // context minus the longest prompt of the point's batch minus the delimiters minus 100).
  std::optional<int64_t> class_bound;
  for (const auto& p : cfg.points)
    if (p.budget) class_bound = std::max(class_bound.value_or(0), *p.budget);
  std::vector<PointSettings> settings;
  std::vector<int64_t> caps;
  std::vector<std::vector<std::string>> prompts;
  for (const auto& p : cfg.points) {
    PointSettings s = point_settings(p, cfg.gen.min_thinking, cfg.step_tokens, class_bound);
    std::vector<std::string> ps;
    int64_t longest = 0;
    for (const auto& q : cfg.questions) {
      ps.push_back(build_prompt(tmpl, q.question + s.question_suffix));
      longest = std::max<int64_t>(longest, int64_t(tok.encode(ps.back()).size()));
    }
    caps.push_back(s.max_thinking ? *s.max_thinking
                                  : control::auto_thinking_budget(backend.context_tokens(), longest,
                                                                  cfg.gen.delimiters, tok));
    settings.push_back(s);
    prompts.push_back(std::move(ps));
  }

  // What is left to do: a key with a finished (non-error) line is never redone.
  const auto& done = journal.existing().samples;
  std::vector<Task> tasks;
  int64_t resumed = 0;
  for (size_t p = 0; p < cfg.points.size(); ++p)
    for (size_t q = 0; q < cfg.questions.size(); ++q)
      for (int s = 0; s < cfg.samples; ++s) {
        SampleKey key{method_name(cfg.points[p].method), cfg.points[p].budget, cfg.questions[q].id, s};
        auto it = done.find(key);
        if (it != done.end() && it->second.ok()) ++resumed;
        else tasks.push_back({p, q, s});
      }
  // The judge's view of the samples already finished (their judged answer, else their extracted one).
  JudgeBoard board(cfg.points.size(), cfg.questions.size(), cfg.samples);
  std::mutex judge_mu;
  if (cfg.judge)
    for (size_t p = 0; p < cfg.points.size(); ++p)
      for (size_t q = 0; q < cfg.questions.size(); ++q)
        for (int s = 0; s < cfg.samples; ++s) {
          auto it = done.find(SampleKey{method_name(cfg.points[p].method), cfg.points[p].budget, cfg.questions[q].id, s});
          if (it != done.end() && it->second.ok())
            board.settle(p, q, s, it->second.judge_answer ? it->second.judge_answer : it->second.extracted);
        }
  if (journal.existing().torn_tail)
    std::fprintf(stderr, "s1 eval: the journal's last line was cut off (killed while writing); that sample is redone\n");
  if (cfg.gen.temperature == 0 && cfg.samples > 1)
    std::fprintf(stderr, "s1: warning: --samples %d at temperature 0 repeats the same greedy sample\n", cfg.samples);

  // One line per sample off a terminal (its outcome); quiet_progress keeps only the first and last lines.
  util::Progress progress({.prefix = "s1 eval", .total = int64_t(tasks.size()), .unit = "samples", .resumed = resumed,
                           .line_per_item = !cfg.quiet_progress});
  std::atomic<size_t> next{0};
  std::atomic<int64_t> errors{0};
  std::mutex fatal_mu;
  std::string fatal;  // the journal itself failed: stop everything

  auto work = [&] {
    while (true) {
      {
        std::lock_guard<std::mutex> lock(fatal_mu);
        if (!fatal.empty()) return;
      }
      size_t i = next.fetch_add(1);
      if (i >= tasks.size()) return;
      const Task& t = tasks[i];
      const RunPoint& pt = cfg.points[t.point];
      const Question& q = cfg.questions[t.question];
      uint64_t seed = cfg.seed + uint64_t(t.sample) * 1000003u;
      SampleRecord r;
      try {
        r = backend.generate(prompts[t.point][t.question], settings[t.point], caps[t.point], seed);
        count_stats_tokens(r, tok, cfg.gen.delimiters.think_end);
        // the answer is read where s1 reads it: after the end delimiter (or the whole
        // output of a plain run)
        std::string response = r.controlled ? r.end_text + r.answer_text : r.output;
        grading::Verdict v = grading::grade(response, q.gold, q.kind);
        r.extracted = v.extracted;
        r.correct = v.correct;
        r.grade_method = v.method;
        if (v.extracted) r.canonical = grading::canonical(*v.extracted, q.kind);
        if (cfg.judge)
          judge_sample(r, q, response, board.earlier_answers(t.point, t.question, t.sample), *cfg.judge,
                       cfg.judge_options, judge_mu);
      } catch (const std::exception& e) {
        r.error = e.what();
        r.prompt = prompts[t.point][t.question];
        r.judge_correct.reset();
        r.judge_answer.reset();
        r.judge_error.reset();
        errors++;
      }
      // settled whatever happened, so later samples of the question never wait forever
      if (cfg.judge) board.settle(t.point, t.question, t.sample, r.ok() ? r.judge_answer : std::nullopt);
      r.key = {method_name(pt.method), pt.budget, q.id, t.sample};
      r.seed = seed;
      r.gold = q.gold;
      try {
        journal.append(r);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(fatal_mu);
        fatal = e.what();
        return;
      }
      char took[64];
      std::snprintf(took, sizeof took, ", %lld tokens in %.1fs", (long long)r.generated_tokens, r.seconds);
      progress.add(1, r.generated_tokens,
                   pt.label() + " q " + q.id + " s " + std::to_string(t.sample) + ": " +
                       (r.error ? "error: " + *r.error : r.correct ? "correct" : "wrong") + took);
    }
  };
  int threads = backend.concurrent() ? std::max(1, cfg.parallel) : 1;
  if (threads == 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) pool.emplace_back(work);
    for (auto& th : pool) th.join();
  }
  if (!fatal.empty()) fail(fatal);
  progress.finish();

  // Everything the journal holds for this sweep's points, the last line per key.
  std::ifstream f(fs::path(cfg.out_dir) / "samples.jsonl", std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  JournalContents all = parse_journal(ss.str(), (fs::path(cfg.out_dir) / "samples.jsonl").string());
  std::vector<SampleRecord> records;
  for (auto& [k, r] : all.samples) records.push_back(std::move(r));

  SweepResult out;
  out.summary = write_outputs(cfg, records);
  out.ran = int64_t(tasks.size());
  out.resumed = resumed;
  out.errors = errors.load();
  return out;
}

nlohmann::json write_outputs(const SweepConfig& cfg, const std::vector<SampleRecord>& records) {
  nlohmann::json summary = build_summary(cfg, records);
  fs::path dir(cfg.out_dir);
  write_file_atomic(dir / "summary.json", summary.dump(2) + "\n");
  write_file_atomic(dir / "scaling.svg", scaling_svg(summary));
  write_file_atomic(dir / "report.html", report_html(summary, records, cfg));
  return summary;
}

}  // namespace s1::eval
