// Stage 5: is each attempt (and the trace's own answer) right? s1 asked Claude with
// data/grading.txt; we ask any Client with the same prompt, or — when the reference
// answer is short — the deterministic checker of the evaluation (grading/grader.h).
// Also the trace length in tokens of a chosen tokenizer (s1: Qwen2.5-32B-Instruct's).
#include "core/error.h"
#include "curate/io.h"
#include "curate/pipeline.h"
#include "curate/runner.h"
#include "grading/grader.h"
#include "tokenizer/tokenizer.h"

namespace s1::curate {
using nlohmann::json;

std::optional<bool> parse_yes_no(const std::string& text) {
  size_t end = text.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return std::nullopt;
  size_t start = text.rfind('\n', end);
  std::string last = text.substr(start == std::string::npos ? 0 : start + 1, end + 1 - (start == std::string::npos ? 0 : start + 1));
  size_t a = last.find_first_not_of(" \t");
  last = a == std::string::npos ? "" : last.substr(a);
  if (last == "Yes") return true;
  if (last == "No") return false;
  return std::nullopt;
}

namespace {
grading::AnswerKind kind_of(const std::string& k) {
  if (k == "integer") return grading::AnswerKind::Integer;
  if (k == "choice") return grading::AnswerKind::MultipleChoice;
  return grading::AnswerKind::Math;
}

void trace_lengths(Db& db, const std::string& tokenizer_dir, bool quiet) {
  if (tokenizer_dir.empty()) return;
  // A different tokenizer than last time: every length is counted again.
  if (db.meta("length_tokenizer") != tokenizer_dir) db.exec("UPDATE questions SET trace_tokens=NULL");
  Tokenizer tok = Tokenizer::from_hf_folder(tokenizer_dir);
  struct T {
    int64_t qid;
    std::string thinking;
  };
  std::vector<T> todo;
  {
    Stmt s = db.prepare(
        "SELECT q.id, o.thinking FROM questions q JOIN outputs o ON o.qid=q.id AND o.role='trace' "
        "WHERE q.trace_tokens IS NULL AND o.error IS NULL AND q.id NOT IN (SELECT qid FROM removals "
        "WHERE stage IN ('ingest','decontaminate','quality'))");
    while (s.step()) todo.push_back({s.i64(0), s.str(1)});
  }
  util::Progress prog({.prefix = "curate", .label = "trace lengths", .total = int64_t(todo.size()), .quiet = quiet});
  Tx tx(db);
  Stmt up = db.prepare("UPDATE questions SET trace_tokens=? WHERE id=?");
  for (auto& t : todo) {
    up.bind(1, int64_t(tok.encode(t.thinking).size())).bind(2, t.qid).run();
    prog.add();
  }
  db.set_meta("length_tokenizer", tokenizer_dir);
  tx.commit();
  prog.finish();
}
}  // namespace

void grade(Db& db, Clients& clients, const LlmOptions& lo, const GradeOptions& g) {
  if (g.grader != "auto" && g.grader != "llm" && g.grader != "checker")
    fail("--grader must be auto, llm or checker (got '", g.grader, "')");
  trace_lengths(db, g.tokenizer, lo.quiet);

  struct Item {
    int64_t qid;
    std::string role, question, solution, answer, kind, response;
  };
  std::vector<Item> items;
  {
    Stmt s = db.prepare(
        "SELECT q.id, o.role, q.question, q.solution, q.answer, q.answer_kind, "
        "CASE WHEN o.role='trace' THEN o.attempt ELSE o.text END "
        "FROM questions q JOIN outputs o ON o.qid=q.id "
        "WHERE (o.role='trace' OR o.role LIKE 'attempt:%') AND o.error IS NULL "
        "AND q.id NOT IN (SELECT qid FROM removals WHERE stage IN ('ingest','decontaminate','quality')) "
        "AND NOT EXISTS (SELECT 1 FROM grades gr WHERE gr.qid=q.id AND gr.role=o.role) ORDER BY q.id, o.role");
    while (s.step()) items.push_back({s.i64(0), s.str(1), s.str(2), s.str(3), s.str(4), s.str(5), s.str(6)});
  }
  Stmt put = db.prepare("INSERT OR REPLACE INTO grades(qid,role,grader,correct,method,extracted) VALUES(?,?,?,?,?,?)");
  std::vector<Job> llm_jobs;
  std::map<std::pair<int64_t, std::string>, const Item*> by_job;
  int64_t checked = 0, right = 0;
  {
    Tx tx(db);
    for (const Item& it : items) {
      bool short_answer = !it.answer.empty() && it.answer.size() <= g.short_answer_chars;
      bool use_checker = g.grader == "checker" || (g.grader == "auto" && short_answer);
      if (use_checker) {
        put.bind(1, it.qid).bind(2, it.role).bind(3, "checker");
        if (!short_answer) {
          put.bind_null(4).bind(5, "no_short_answer").bind_null(6).run();
          continue;
        }
        grading::Verdict v = grading::grade(it.response, it.answer, kind_of(it.kind));
        put.bind(4, int64_t(v.correct)).bind(5, v.method).bind(6, v.extracted).run();
        ++checked;
        right += v.correct;
        continue;
      }
      Job j;
      j.qid = it.qid;
      j.role = it.role;
      j.req.messages = {{"system", g.grading_prompt},
                        {"user", "## Problem\n" + it.question + "\n\n## Attempt\n" + it.response +
                                     "\n\n## Correct answer\n" + it.solution}};
      j.req.max_tokens = g.max_tokens;
      by_job[{it.qid, it.role}] = &it;
      llm_jobs.push_back(std::move(j));
    }
    tx.commit();
  }
  if (!lo.quiet && !items.empty())
    note("grade: checker graded " + std::to_string(checked) + " (" + std::to_string(right) + " correct), " +
         std::to_string(llm_jobs.size()) + " for the LLM grader");
  if (!llm_jobs.empty()) {
    if (g.grading_prompt.empty()) fail("grade: the grading prompt is empty (--grading-prompt data/s1/grading.txt)");
    llm::Client& client = clients.get(lo.grader_llm, "grading (--grader-llm)");
    RunnerOptions ro{lo.concurrency, lo.rpm, lo.retries, lo.backoff_s, "grade", lo.quiet};
    int64_t yes = 0, no = 0, none = 0;
    RunStats st = run_jobs(db, client, llm_jobs, ro, [&](const Job& j, const llm::Response* r, const std::string&) {
      if (!r) return;  // failed for good: no grade row, the next run asks again
      auto v = parse_yes_no(r->text);
      put.bind(1, j.qid).bind(2, j.role).bind(3, "llm:" + client.id());
      if (v) put.bind(4, int64_t(*v)).bind(5, "llm").bind(6, *v ? "Yes" : "No");
      else put.bind_null(4).bind(5, "no_verdict").bind_null(6);
      put.run();
      (v ? (*v ? yes : no) : none)++;
    });
    if (!lo.quiet)
      note("grade: LLM grader " + std::to_string(st.jobs) + " requests (" + std::to_string(st.cache_hits) +
           " cached, " + std::to_string(st.calls) + " calls, " + std::to_string(st.failures) + " failed): Yes " +
           std::to_string(yes) + ", No " + std::to_string(no) + ", no verdict " + std::to_string(none));
  }
  db.prepare("INSERT OR REPLACE INTO stages(stage, done_at) VALUES('grade', datetime('now'))").run();
}

}  // namespace s1::curate
