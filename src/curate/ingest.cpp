// Stage 1: sources -> the unified schema {question, solution, cot_type, source_type,
// metadata} of s1's collect_data.py, one adapter per source format.
#include <algorithm>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "util/csv.h"
#include "curate/io.h"
#include "curate/pipeline.h"

namespace s1::curate {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string trim(std::string s) {
  size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// The short answer inside a solution: its last \boxed{}, or the solution itself when short.
std::string answer_of_solution(const std::string& sol) {
  std::string b = last_boxed(sol);
  if (!b.empty()) return b;
  std::string t = trim(sol);
  return t.size() <= 64 ? t : "";
}

std::vector<json> read_jsonl_text(const std::string& text, const std::string& path, int64_t limit) {
  std::vector<json> out;
  for_each_jsonl_object(text, path, limit, [&](json&& v, size_t) { out.push_back(std::move(v)); });
  return out;
}
std::vector<json> read_jsonl(const std::string& path, int64_t limit) { return read_jsonl_text(read_file(path), path, limit); }

std::string str_field(const json& r, const char* key) { return r.contains(key) ? json_text(r[key]) : ""; }

// metadata: what the row says beyond the unified fields (s1 stores str(rest_of_row); we store JSON).
std::string rest_of(const json& r, std::initializer_list<const char*> used) {
  json m = json::object();
  for (auto it = r.begin(); it != r.end(); ++it) {
    const std::string& k = it.key();  // (not a structured binding: clang 14 cannot capture those)
    if (std::find_if(used.begin(), used.end(), [&](const char* u) { return k == u; }) == used.end()) m[k] = it.value();
  }
  return dump_safe(m);
}

Row math_row(const json& r) {
  Row w;
  w.question = str_field(r, "problem");
  w.solution = str_field(r, "solution");
  w.answer = r.contains("answer") ? str_field(r, "answer") : last_boxed(w.solution);
  w.cot_type = "math";
  w.source_type = "hendrycks/math/test/" + str_field(r, "type");
  w.metadata = rest_of(r, {"problem", "solution"});
  return w;
}

Row agieval_row(const json& r, const std::string& stem) {
  Row w;
  std::string passage = str_field(r, "passage");
  if (passage == "None") passage.clear();
  w.question = passage.empty() ? "" : passage + "\n\n";
  w.question += str_field(r, "question");
  if (r.contains("options") && r["options"].is_array()) {
    w.question += "\nAnswer Choices:";
    for (const auto& o : r["options"]) w.question += "\n" + json_text(o);
  } else if (r.contains("options") && r["options"].is_string() && r["options"] != "None") {
    w.question += "\nAnswer Choices:\n" + r["options"].get<std::string>();
  }
  std::string sol;
  if (r.contains("other") && r["other"].is_object()) sol = json_text(r["other"].value("solution", json()));
  std::string label = str_field(r, "label"), answer = str_field(r, "answer");
  if (label == "None") label.clear();
  if (answer == "None") answer.clear();
  if (!label.empty()) {
    w.answer = label;
    w.answer_kind = "choice";
    sol += (sol.empty() ? "" : "\n\n") + std::string("Answer: ") + label;
  } else {
    w.answer = !answer.empty() ? answer : last_boxed(sol);
    if (sol.empty()) sol = answer;
  }
  w.solution = sol;
  w.cot_type = stem.rfind("lsat", 0) == 0 ? "english" : "math";
  std::string sub = stem;
  std::replace(sub.begin(), sub.end(), '-', '_');
  w.source_type = "baber/agieval/" + (sub == "math" ? std::string("math_agieval") : sub);
  w.metadata = rest_of(r, {"passage", "question", "options"});
  return w;
}

Row olympiad_row(const json& r) {
  Row w;
  std::string ctx = str_field(r, "context");
  w.question = (ctx.empty() ? "" : ctx + "\n\n") + str_field(r, "question");
  const json& sol = r.contains("solution") ? r["solution"] : json();
  w.solution = sol.is_array() && !sol.empty() ? json_text(sol[0]) : json_text(sol);  // s1: solution[0]
  const json& fa = r.contains("final_answer") ? r["final_answer"] : json();
  std::string a = fa.is_array() && !fa.empty() ? json_text(fa[0]) : json_text(fa);
  if (a.size() >= 2 && a.front() == '$' && a.back() == '$') a = a.substr(1, a.size() - 2);
  w.answer = a;
  w.cot_type = "math";
  w.source_type = "Hothan/OlympiadBench/Open-ended/Math";
  w.metadata = rest_of(r, {"question", "context", "solution"});
  return w;
}

// s1's released files (s1K, s1K-1.1, data_ablation_full59K) and any file in the unified schema.
Row s1_row(const json& r, const IngestOptions& o) {
  Row w;
  w.question = str_field(r, "question");
  w.solution = str_field(r, "solution");
  w.cot_type = str_field(r, "cot_type");
  w.source_type = str_field(r, "source_type");
  w.metadata = r.contains("metadata") ? json_text(r["metadata"]) : "";
  w.answer = answer_of_solution(w.solution);
  if (w.source_type.find("AIME") != std::string::npos && all_digits(w.answer)) w.answer_kind = "integer";
  auto take = [&](const char* think_key, const char* attempt_key) {
    if (!r.contains(think_key) || r[think_key].is_null()) return;
    const json& t = r[think_key];
    if (t.is_array()) {  // s1 joins the list with "\n" in tokenization.py
      std::string s;
      for (size_t i = 0; i < t.size(); ++i) s += (i ? "\n" : "") + json_text(t[i]);
      w.thinking = s;
    } else {
      w.thinking = json_text(t);
    }
    w.attempt = str_field(r, attempt_key);
    w.has_trace = true;
  };
  if (o.trace_field == "gemini") take("gemini_thinking_trajectory", "gemini_attempt");
  else if (o.trace_field == "deepseek") take("deepseek_thinking_trajectory", "deepseek_attempt");
  else take("thinking_trajectories", "attempt");
  return w;
}

std::string stem_of(const std::string& path) { return fs::path(path).stem().string(); }

}  // namespace

std::string detect_adapter(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  if (ext == ".csv") {
    std::string text = read_file(path);
    auto rows = util::parse_csv(text.substr(0, text.find('\n')) + "\n", path, util::CsvQuotes::Lenient);  // the header line
    if (rows.empty()) fail(path, ": empty CSV");
    auto& h = rows[0];
    auto has = [&](const char* k) { return std::find(h.begin(), h.end(), k) != h.end(); };
    if (has("Question") && has("Year") && has("Answer")) return "aime_csv";
    if (has("question")) return "s1";
    fail(path, ": unknown CSV columns (expected AIME's ID,Year,Question,Answer or s1's question,solution,...)");
  }
  if (ext != ".jsonl" && ext != ".json")
    fail(path, ": unknown source format (expected .jsonl or .csv; name an adapter with ADAPTER=PATH)");
  auto rows = read_jsonl(path, 1);
  if (rows.empty()) fail(path, ": no records");
  const json& r = rows[0];
  if (r.contains("thinking_trajectories") || r.contains("cot_type") || r.contains("gemini_thinking_trajectory"))
    return "s1";
  if (r.contains("problem") && r.contains("solution")) return "math";
  if (r.contains("passage") && r.contains("options")) return "agieval";
  if (r.contains("final_answer")) return "olympiadbench";
  if (r.contains("question")) return "s1";
  std::string keys;
  for (auto& [k, v] : r.items()) keys += (keys.empty() ? "" : ", ") + k;
  fail(path, ": cannot tell the format from its fields (", keys, "); name an adapter with ADAPTER=PATH");
}

std::vector<Row> read_source(const std::string& adapter_in, const std::string& path, const IngestOptions& o) {
  std::string adapter = adapter_in.empty() ? detect_adapter(path) : adapter_in;
  return read_source_text(adapter, read_file(path), path, o);
}

std::vector<Row> read_source_text(const std::string& adapter, const std::string& text, const std::string& path,
                                  const IngestOptions& o) {
  std::vector<Row> out;
  if (adapter == "aime_csv" || (adapter == "s1" && fs::path(path).extension() == ".csv")) {
    auto rows = util::parse_csv(text, path, util::CsvQuotes::Lenient);
    if (rows.empty()) fail(path, ": empty CSV");
    const auto& h = rows[0];
    auto col = [&](const char* k) -> int {
      auto it = std::find(h.begin(), h.end(), k);
      return it == h.end() ? -1 : int(it - h.begin());
    };
    for (size_t i = 1; i < rows.size() && (o.limit <= 0 || int64_t(out.size()) < o.limit); ++i) {
      const auto& r = rows[i];
      if (r.size() != h.size()) fail(path, ": record ", i, " has ", r.size(), " fields, the header ", h.size());
      json obj = json::object();
      for (size_t c = 0; c < h.size(); ++c) obj[h[c]] = r[c];
      if (adapter == "s1") {
        out.push_back(s1_row(obj, o));
        continue;
      }
      if (col("Question") < 0 || col("Answer") < 0) fail(path, ": expected columns Question and Answer");
      Row w;
      w.question = r[size_t(col("Question"))];
      w.solution = r[size_t(col("Answer"))];  // s1's add_aime.py: solution = Answer
      w.answer = trim(w.solution);
      w.answer_kind = all_digits(w.answer) ? "integer" : "math";
      w.cot_type = "math";
      w.source_type = "qq8933/AIME_1983_2024";
      w.metadata = rest_of(obj, {"Question", "Answer"});
      int year = col("Year") >= 0 ? std::atoi(r[size_t(col("Year"))].c_str()) : 0;
      if (o.aime_max_year > 0 && year > o.aime_max_year) w.drop_reason = "aime_after_" + std::to_string(o.aime_max_year);
      out.push_back(std::move(w));
    }
    return out;
  }
  std::string stem = stem_of(path);
  for (const json& r : read_jsonl_text(text, path, o.limit)) {
    if (adapter == "math") out.push_back(math_row(r));
    else if (adapter == "agieval") out.push_back(agieval_row(r, stem));
    else if (adapter == "olympiadbench") out.push_back(olympiad_row(r));
    else if (adapter == "s1") out.push_back(s1_row(r, o));
    else fail("unknown adapter '", adapter, "' (known: aime_csv, math, agieval, olympiadbench, s1)");
  }
  return out;
}

std::vector<Source> bundled_pools(const std::string& data_dir) {
  std::string p = data_dir + "/pools/";
  return {{"math", p + "math_test5000/test.jsonl"},
          {"olympiadbench", p + "olympiadbench/test.jsonl"},
          {"agieval", p + "agieval_v1"},
          {"aime_csv", p + "aime_1983_2024/AIME_Dataset_1983_2024.csv"}};
}

void ingest(Db& db, const IngestOptions& o) {
  // Expand folders into their files, sorted, so the source order is stable.
  std::vector<Source> files;
  static const std::set<std::string> kAdapters = {"", "aime_csv", "math", "agieval", "olympiadbench", "s1"};
  for (const auto& s : o.sources)
    if (!kAdapters.count(s.adapter))
      fail("unknown adapter '", s.adapter, "' for ", s.path, " (known: aime_csv, math, agieval, olympiadbench, s1)");
  for (const auto& s : o.sources) {
    if (!fs::exists(s.path)) fail(s.path, ": no such file or folder");
    if (fs::is_directory(s.path)) {
      std::vector<std::string> in;
      for (auto& e : fs::directory_iterator(s.path)) {
        auto ext = e.path().extension().string();
        if (e.is_regular_file() && (ext == ".jsonl" || ext == ".csv")) in.push_back(e.path().string());
      }
      std::sort(in.begin(), in.end());
      if (in.empty()) fail(s.path, ": no .jsonl or .csv files");
      for (auto& f : in) files.push_back({s.adapter, f});
    } else {
      files.push_back(s);
    }
  }
  for (const auto& f : files) {
    std::string name = fs::path(f.path).parent_path().filename().string() + "/" + fs::path(f.path).filename().string();
    {
      Stmt q = db.prepare("SELECT rows FROM sources WHERE name=?");
      q.bind(1, name);
      if (q.step()) {
        if (!o.quiet) note("ingest: " + name + " already ingested (" + std::to_string(q.i64(0)) + " rows), skipped");
        continue;
      }
    }
    std::string adapter = f.adapter.empty() ? detect_adapter(f.path) : f.adapter;
    std::vector<Row> rows = read_source(adapter, f.path, o);
    Tx tx(db);
    db.prepare("INSERT INTO sources(name, adapter, path, rows) VALUES(?,?,?,?)")
        .bind(1, name).bind(2, adapter).bind(3, f.path).bind(4, int64_t(rows.size())).run();
    int64_t sid = db.last_insert_id();
    Stmt ins = db.prepare(
        "INSERT INTO questions(source_id,row,qhash,question,solution,answer,answer_kind,cot_type,source_type,metadata)"
        " VALUES(?,?,?,?,?,?,?,?,?,?)");
    Stmt rem = db.prepare("INSERT INTO removals(qid,stage,reason,detail) VALUES(?,'ingest',?,?)");
    Stmt out = db.prepare(
        "INSERT INTO outputs(qid,role,model,text,thinking,attempt) VALUES(?,'trace',?,?,?,?)");
    int64_t dropped = 0, traces = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      ins.bind(1, sid).bind(2, int64_t(i)).bind(3, question_hash(r.question)).bind(4, r.question);
      ins.bind(5, r.solution).bind(6, r.answer).bind(7, r.answer_kind).bind(8, r.cot_type).bind(9, r.source_type);
      ins.bind(10, r.metadata).run();
      int64_t qid = db.last_insert_id();
      if (!r.drop_reason.empty()) {
        rem.bind(1, qid).bind(2, r.drop_reason).bind(3, name).run();
        ++dropped;
      }
      if (r.has_trace) {
        out.bind(1, qid).bind(2, "import:" + name + "#" + o.trace_field).bind(3, r.thinking).bind(4, r.thinking);
        out.bind(5, r.attempt).run();
        ++traces;
      }
    }
    tx.commit();
    if (!o.quiet)
      note("ingest: " + name + " (" + adapter + "): " + std::to_string(rows.size()) + " questions" +
           (dropped ? ", " + std::to_string(dropped) + " dropped at ingest" : "") +
           (traces ? ", " + std::to_string(traces) + " traces imported" : ""));
  }
  db.prepare("INSERT OR REPLACE INTO stages(stage, done_at) VALUES('ingest', datetime('now'))").run();
}

}  // namespace s1::curate
