// Stage 2: s1's decontamination (data/decontaminate_util.py, collect_data.py): a
// question goes if any of its word 8-grams (after normalize_text) occurs in an
// evaluation set, or in a source processed before its own (sources are added to the
// lookup after they are processed); then exact duplicates of the question text go
// (the first is kept). Every removal records what it matched.
#include <filesystem>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "util/csv.h"
#include "curate/io.h"
#include "curate/pipeline.h"
#include "curate/text_rules.h"

namespace s1::curate {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {
// The k-th n-gram of the normalised text, for the removal's record.
std::string ngram_at(std::string_view text, size_t k, int n) {
  std::string norm = normalize_text(text), out;
  size_t pos = 0, w = 0;
  while (pos <= norm.size()) {
    size_t e = norm.find(' ', pos);
    if (e == std::string::npos) e = norm.size();
    if (w >= k && w < k + size_t(n)) out += (out.empty() ? "" : " ") + norm.substr(pos, e - pos);
    ++w;
    pos = e + 1;
  }
  return out;
}
}  // namespace

std::vector<std::string> bundled_eval_files(const std::string& data_dir) {
  std::vector<std::string> out;
  std::string dir = data_dir + "/benchmarks";
  if (!fs::is_directory(dir)) return out;
  for (auto& e : fs::directory_iterator(dir)) {
    auto ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".jsonl" || ext == ".csv")) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

EvalSet read_eval_set(const std::string& path) {
  EvalSet s;
  s.name = fs::path(path).stem().string();
  std::string text = read_file(path);
  if (fs::path(path).extension() == ".csv") {  // GPQA's CSV: the "Question" column
    auto rows = util::parse_csv(text, path, util::CsvQuotes::Lenient);
    if (rows.empty()) fail(path, ": empty CSV");
    auto it = std::find(rows[0].begin(), rows[0].end(), "Question");
    if (it == rows[0].end()) fail(path, ": no \"Question\" column");
    size_t c = size_t(it - rows[0].begin());
    for (size_t i = 1; i < rows.size(); ++i)
      if (c < rows[i].size()) s.questions.push_back(rows[i][c]);
    return s;
  }
  for_each_jsonl_object(text, path, 0, [&](json&& v, size_t line) {
    const char* key = v.contains("problem") ? "problem" : v.contains("question") ? "question" : "Question";
    if (!v.contains(key)) fail(path, ":", line, ": no problem / question field");
    s.questions.push_back(json_text(v[key]));
  });
  return s;
}

void decontaminate(Db& db, const DecontamOptions& o) {
  std::vector<EvalSet> evals;
  for (const auto& f : o.eval_files) evals.push_back(read_eval_set(f));
  if (evals.empty() && !o.quiet) note("decontaminate: no evaluation sets given; only cross-source and exact duplicates");

  // origin > 0: a question id; origin < 0: -(index into eval_items + 1).
  std::vector<std::pair<size_t, size_t>> eval_items;  // (set, item)
  std::unordered_map<uint64_t, int64_t> lookup;
  // Our addition: a question equal to an eval item after normalisation goes too. s1's
  // n-grams alone miss items of fewer than n words ("Compute $\dbinom{8}{4}$.").
  std::unordered_map<std::string, int64_t> eval_exact;
  for (size_t s = 0; s < evals.size(); ++s)
    for (size_t k = 0; k < evals[s].questions.size(); ++k) {
      eval_items.emplace_back(s, k);
      eval_exact.emplace(normalize_text(evals[s].questions[k]), -int64_t(eval_items.size()));
      for (uint64_t h : word_ngram_hashes(evals[s].questions[k], o.n)) lookup.emplace(h, -int64_t(eval_items.size()));
    }

  struct Q {
    int64_t id, source;
    std::string text;
  };
  std::vector<Q> qs;
  {
    Stmt s = db.prepare(
        "SELECT id, source_id, question FROM questions WHERE id NOT IN (SELECT qid FROM removals WHERE stage='ingest')"
        " ORDER BY source_id, row");
    while (s.step()) qs.push_back({s.i64(0), s.i64(1), s.str(2)});
  }
  std::unordered_map<int64_t, std::string> source_names;
  {
    Stmt s = db.prepare("SELECT id, name FROM sources");
    while (s.step()) source_names[s.i64(0)] = s.str(1);
  }

  Tx tx(db);
  db.exec("DELETE FROM removals WHERE stage='decontaminate'");
  Stmt rem = db.prepare("INSERT INTO removals(qid,stage,reason,detail) VALUES(?,'decontaminate',?,?)");
  util::Progress prog({.prefix = "curate", .label = "decontaminate", .total = int64_t(qs.size()), .quiet = o.quiet});
  std::vector<bool> kept(qs.size(), true);
  std::map<std::string, int64_t> counts;
  size_t begin = 0;
  while (begin < qs.size()) {
    size_t end = begin;
    while (end < qs.size() && qs[end].source == qs[begin].source) ++end;
    for (size_t i = begin; i < end; ++i) {
      if (auto ex = eval_exact.find(normalize_text(qs[i].text)); ex != eval_exact.end()) {
        auto [s, item] = eval_items[size_t(-ex->second - 1)];
        json d = {{"eval", evals[s].name}, {"item", item}, {"eval_question", evals[s].questions[item].substr(0, 200)}};
        rem.bind(1, qs[i].id).bind(2, "eval_exact").bind(3, dump_safe(d)).run();
        ++counts["eval_exact"];
        kept[i] = false;
        prog.add();
        continue;
      }
      auto hs = word_ngram_hashes(qs[i].text, o.n);
      for (size_t k = 0; k < hs.size(); ++k) {
        auto it = lookup.find(hs[k]);
        if (it == lookup.end()) continue;
        json d = {{"ngram", ngram_at(qs[i].text, k, o.n)}};
        std::string reason;
        if (it->second < 0) {
          auto [s, item] = eval_items[size_t(-it->second - 1)];
          reason = "eval_overlap";
          d["eval"] = evals[s].name;
          d["item"] = item;
          d["eval_question"] = evals[s].questions[item].substr(0, 200);
        } else {
          reason = "cross_source_overlap";
          d["qid"] = it->second;
        }
        rem.bind(1, qs[i].id).bind(2, reason).bind(3, dump_safe(d)).run();
        ++counts[reason];
        kept[i] = false;
        break;
      }
      prog.add();
    }
    // s1 appends each processed source to the test lookup: later sources dedup against it.
    for (size_t i = begin; i < end; ++i)
      if (kept[i])
        for (uint64_t h : word_ngram_hashes(qs[i].text, o.n)) lookup.emplace(h, qs[i].id);
    begin = end;
  }
  std::unordered_map<std::string, int64_t> first;
  for (size_t i = 0; i < qs.size(); ++i) {
    if (!kept[i]) continue;
    auto [it, fresh] = first.emplace(qs[i].text, qs[i].id);
    if (!fresh) {
      rem.bind(1, qs[i].id).bind(2, "exact_duplicate").bind(3, dump_safe(json({{"qid", it->second}}))).run();
      ++counts["exact_duplicate"];
      kept[i] = false;
    }
  }
  json params = {{"eval_files", o.eval_files}, {"n", o.n}};
  db.prepare("INSERT OR REPLACE INTO stages(stage, done_at, params) VALUES('decontaminate', datetime('now'), ?)")
      .bind(1, dump_safe(params)).run();
  tx.commit();
  int64_t left = int64_t(std::count(kept.begin(), kept.end(), true));
  std::string summary = "decontaminate: " + std::to_string(qs.size()) + " -> " + std::to_string(left);
  for (auto& [r, c] : counts) summary += ", " + r + " " + std::to_string(c);
  prog.finish();
  if (!o.quiet) note(summary);
}

}  // namespace s1::curate
