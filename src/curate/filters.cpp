// Stages 3 and 6: the free filters. Both recompute their removals from scratch over
// the questions that earlier stages kept.
#include "core/error.h"
#include "curate/io.h"
#include "curate/pipeline.h"
#include "curate/text_rules.h"

namespace s1::curate {
using nlohmann::json;

namespace {
std::string live_before(const std::string& stage) {
  std::string in;
  for (const auto& s : removal_stages()) {
    if (s == stage) break;
    in += (in.empty() ? "'" : ",'") + s + "'";
  }
  return "id NOT IN (SELECT qid FROM removals WHERE stage IN (" + in + "))";
}
bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\n") == std::string::npos; }

void summary(const std::string& stage, int64_t in, int64_t out, const std::map<std::string, int64_t>& counts,
             bool quiet) {
  if (quiet) return;
  std::string s = stage + ": " + std::to_string(in) + " -> " + std::to_string(out);
  for (auto& [r, c] : counts) s += ", " + r + " " + std::to_string(c);
  note(s);
}
}  // namespace

void quality(Db& db, bool quiet) {
  Tx tx(db);
  db.exec("DELETE FROM removals WHERE stage='quality'");
  Stmt rem = db.prepare("INSERT INTO removals(qid,stage,reason,detail) VALUES(?,'quality',?,?)");
  Stmt outs = db.prepare("SELECT role, text, thinking, attempt, error FROM outputs WHERE qid=? AND "
                         "(role='trace' OR role LIKE 'attempt:%') ORDER BY role");
  Stmt qs = db.prepare("SELECT id, question, solution, source_type FROM questions WHERE " + live_before("quality") +
                       " ORDER BY id");
  std::map<std::string, int64_t> counts;
  int64_t n = 0, kept = 0, with_outputs = 0;
  while (qs.step()) {
    ++n;
    int64_t id = qs.i64(0);
    std::string q = qs.str(1), sol = qs.str(2), st = qs.str(3);
    std::string reason, detail;
    if (blank(q)) reason = "empty_question";
    else if (blank(sol)) reason = "empty_solution";  // s1: rows with a None feature (grades need a solution)
    else reason = quality_reason(q, st);
    if (reason.empty()) {
      outs.bind(1, id);
      bool any = false;
      while (outs.step() && reason.empty()) {
        any = true;
        std::string role = outs.str(0), text = outs.str(1), thinking = outs.str(2), attempt = outs.str(3);
        bool is_trace = role == "trace";
        if (!outs.is_null(4)) {
          reason = "api_error";
          detail = dump_safe(json({{"role", role}, {"error", outs.str(4)}}));
        } else if (auto m = api_error_marker(is_trace ? thinking : text)) {
          reason = "api_error_string";
          detail = json({{"role", role}, {"marker", *m}}).dump();
        } else if (is_trace && blank(thinking)) {
          reason = "empty_trace";
        } else if (blank(is_trace ? attempt : text)) {
          reason = "empty_attempt";
          detail = dump_safe(json({{"role", role}}));
        }
      }
      outs.reset();
      with_outputs += any;
    }
    if (!reason.empty()) {
      rem.bind(1, id).bind(2, reason).bind(3, detail.empty() ? std::optional<std::string>() : detail).run();
      ++counts[reason];
    } else {
      ++kept;
    }
  }
  db.prepare("INSERT OR REPLACE INTO stages(stage, done_at, params) VALUES('quality', datetime('now'), ?)")
      .bind(1, json({{"checked_outputs", with_outputs}}).dump()).run();
  tx.commit();
  summary("quality", n, kept, counts, quiet);
}

void difficulty(Db& db, bool quiet) {
  int64_t graded_roles = db.scalar("SELECT COUNT(DISTINCT role) FROM grades WHERE role LIKE 'attempt:%'");
  if (graded_roles == 0) fail("difficulty: no graded attempts in the database; run `s1 curate generate` and `grade` first");
  Tx tx(db);
  db.exec("DELETE FROM removals WHERE stage='difficulty'");
  Stmt rem = db.prepare("INSERT INTO removals(qid,stage,reason,detail) VALUES(?,'difficulty',?,?)");
  Stmt g = db.prepare("SELECT role, correct FROM grades WHERE qid=? AND role LIKE 'attempt:%' ORDER BY role");
  Stmt qs = db.prepare("SELECT id FROM questions WHERE " + live_before("difficulty") + " ORDER BY id");
  std::map<std::string, int64_t> counts;
  int64_t n = 0, kept = 0, ungraded = 0, no_verdict = 0;
  while (qs.step()) {
    ++n;
    int64_t id = qs.i64(0);
    g.bind(1, id);
    std::vector<std::string> solved;
    int64_t rows = 0;
    while (g.step()) {
      ++rows;
      if (g.is_null(1)) ++no_verdict;
      else if (g.i64(1)) solved.push_back(g.str(0).substr(8));
    }
    g.reset();
    if (rows == 0) ++ungraded;
    if (!solved.empty()) {
      // s1: drop if isqwen7bcorrect or isqwen32bcorrect.
      rem.bind(1, id).bind(2, "solved_by_" + solved[0]).bind(3, dump_safe(json({{"solved_by", solved}}))).run();
      ++counts["solved_by_" + solved[0]];
    } else {
      ++kept;
    }
  }
  db.prepare("INSERT OR REPLACE INTO stages(stage, done_at) VALUES('difficulty', datetime('now'))").run();
  tx.commit();
  summary("difficulty", n, kept, counts, quiet);
  if (!quiet && ungraded) note("difficulty: " + std::to_string(ungraded) + " questions have no graded attempt (kept)");
  if (!quiet && no_verdict) note("difficulty: " + std::to_string(no_verdict) + " attempt grades without a verdict (counted as not solved)");
}

}  // namespace s1::curate
