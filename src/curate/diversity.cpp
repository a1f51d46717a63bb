// Stage 7: domains (s1: featurization.py do_domain_classification, MSC 2020 top-level
// subjects) and the diversity sampling of filter.ipynb, plus the paper's ablation
// selections.
#include <algorithm>
#include <cctype>
#include <numeric>
#include <set>

#include "core/error.h"
#include "curate/io.h"
#include "curate/pipeline.h"
#include "curate/rng.h"
#include "curate/runner.h"

namespace s1::curate {
using nlohmann::json;

namespace {
const char* kClassifySystem =
    "You are a helpful assistant that classifies questions into different subjects based on the provided "
    "classification rubrics. You will be given a question and a list of subjects. You need to classify the question "
    "into one of the subjects. If the question has multiple subjects, you should classify the question into the most "
    "relevant subject. Explain your reasoning, and end your response on a new line with two-digit code of the "
    "subject that the question belongs to.";
}

std::vector<MscDomain> read_msc(const std::string& path) {
  json j = json::parse(read_file(path), nullptr, false);
  if (j.is_discarded() || !j.is_array()) fail(path, ": expected a JSON list of MSC subjects");
  std::vector<MscDomain> out;
  for (const auto& n : j) {
    if (!n.is_object() || !n.contains("code") || !n.contains("title") || !n.contains("prompt"))
      fail(path, ": every subject needs code, title and prompt");
    out.push_back({json_text(n["code"]), json_text(n["title"]), json_text(n["prompt"])});
  }
  if (out.empty()) fail(path, ": no subjects");
  return out;
}

std::optional<std::string> parse_domain_code(const std::string& text, const std::vector<MscDomain>& msc) {
  // s1: response[-2:] when both are digits (after the provider's own trimming of trailing space).
  size_t end = text.find_last_not_of(" \t\r\n");
  if (end == std::string::npos || end < 1) return std::nullopt;
  std::string code = text.substr(end - 1, 2);
  if (!std::isdigit((unsigned char)code[0]) || !std::isdigit((unsigned char)code[1])) return std::nullopt;
  for (const auto& d : msc)
    if (d.code == code) return code;
  return std::nullopt;
}

void classify(Db& db, Clients& clients, const LlmOptions& lo, const ClassifyOptions& c) {
  auto msc = read_msc(c.msc_path);
  std::string rubrics;
  for (const auto& d : msc) rubrics += (rubrics.empty() ? "" : "\n\n") + d.prompt;
  std::string scope = c.include_hard_removed
                          ? "id NOT IN (SELECT qid FROM removals WHERE stage IN ('ingest','decontaminate','quality'))"
                          : "id NOT IN (SELECT qid FROM removals)";
  std::vector<std::pair<int64_t, std::string>> todo;
  {
    // --max-questions: the first N questions of the pool, as in generate, so that a
    // second run asks about the same questions instead of the next N.
    int64_t cutoff = INT64_MAX;
    if (lo.limit > 0) {
      Stmt m = db.prepare("SELECT id FROM questions WHERE " + scope + " ORDER BY id LIMIT 1 OFFSET ?");
      m.bind(1, lo.limit - 1);
      if (m.step()) cutoff = m.i64(0);
    }
    Stmt s = db.prepare("SELECT id, question FROM questions WHERE " + scope +
                        " AND id NOT IN (SELECT qid FROM domains) AND id <= ? ORDER BY id");
    s.bind(1, cutoff);
    while (s.step()) todo.emplace_back(s.i64(0), s.str(1));
  }
  llm::Client* client = todo.empty() ? nullptr : &clients.get(lo.classify_llm, "classification (--classify-llm)");
  Stmt put = db.prepare("INSERT OR REPLACE INTO domains(qid,code,title,tries) VALUES(?,?,?,?)");
  auto title_of = [&](const std::string& code) {
    for (const auto& d : msc)
      if (d.code == code) return d.title;
    return std::string();
  };
  int64_t classified = 0;
  for (int t = 0; t < c.tries && !todo.empty(); ++t) {
    std::vector<Job> jobs;
    for (auto& [qid, q] : todo) {
      Job j;
      j.qid = qid;
      j.role = "classify#" + std::to_string(t);
      j.req.messages = {{"system", kClassifySystem}, {"user", "## Question\n" + q + "\n\n## Classification rubrics\n" + rubrics}};
      j.req.max_tokens = c.max_tokens;
      // s1 asked again until the answer ended in a code; a later try samples (T=1, seeded)
      // so that it is a different request, not the cached answer again.
      if (t > 0) {
        j.req.temperature = 1.0;
        j.req.seed = uint64_t(t);
      }
      jobs.push_back(std::move(j));
    }
    std::set<int64_t> done;
    bool last = t + 1 == c.tries;
    RunnerOptions ro{lo.concurrency, lo.rpm, lo.retries, lo.backoff_s, "classify (try " + std::to_string(t + 1) + ")",
                     lo.quiet};
    run_jobs(db, *client, jobs, ro, [&](const Job& j, const llm::Response* r, const std::string&) {
      if (!r) return;
      if (auto code = parse_domain_code(r->text, msc)) {
        put.bind(1, j.qid).bind(2, *code).bind(3, title_of(*code)).bind(4, int64_t(t + 1)).run();
        done.insert(j.qid);
        ++classified;
      } else if (last) {
        put.bind(1, j.qid).bind(2, "").bind(3, "Unclassified").bind(4, int64_t(t + 1)).run();
        done.insert(j.qid);
      }
    });
    std::erase_if(todo, [&](auto& p) { return done.count(p.first) > 0; });
  }
  int64_t uncl = db.scalar("SELECT COUNT(*) FROM domains WHERE code=''");
  if (!lo.quiet)
    note("classify: " + std::to_string(classified) + " classified now; " + std::to_string(uncl) +
         " in the database without a code (\"Unclassified\")" +
         (todo.empty() ? "" : "; " + std::to_string(todo.size()) + " failed requests, rerun to retry"));
  db.prepare("INSERT OR REPLACE INTO stages(stage, done_at) VALUES('classify', datetime('now'))").run();
}

std::vector<int64_t> diversity_sample(const std::vector<Candidate>& pool, size_t n, uint64_t seed,
                                      bool length_weighted) {
  std::map<std::string, std::vector<Candidate>> by_domain;
  for (const auto& c : pool) by_domain[c.domain].push_back(c);
  std::vector<std::string> domains;
  for (auto& [d, items] : by_domain) {
    // rank 0 = longest trace (s1: n-1 - argsort(argsort(L))); ties broken by qid.
    std::sort(items.begin(), items.end(), [](const Candidate& a, const Candidate& b) {
      return a.length != b.length ? a.length > b.length : a.qid < b.qid;
    });
    domains.push_back(d);
  }
  Rng rng(seed);
  std::vector<int64_t> out;
  while (out.size() < n && !domains.empty()) {
    size_t di = size_t(rng.below(domains.size()));
    auto& items = by_domain[domains[di]];
    size_t pick = 0;
    if (length_weighted) {
      // p ∝ 2^-rank: sum = 2 - 2^(1-m); walk the ranks.
      double total = 0, w = 1;
      for (size_t i = 0; i < items.size(); ++i, w *= 0.5) total += w;
      double u = rng.uniform() * total;
      w = 1;
      for (pick = 0; pick + 1 < items.size(); ++pick, w *= 0.5) {
        if (u < w) break;
        u -= w;
      }
    } else {
      pick = size_t(rng.below(items.size()));
    }
    out.push_back(items[pick].qid);
    items.erase(items.begin() + std::ptrdiff_t(pick));
    if (items.empty()) domains.erase(domains.begin() + std::ptrdiff_t(di));
  }
  return out;
}

void select(Db& db, const SelectOptions& s) {
  auto load = [&](const std::string& where, bool need_domain) {
    std::vector<Candidate> out;
    Stmt st = db.prepare(std::string("SELECT q.id, d.title, q.trace_tokens FROM questions q ") +
                         (need_domain ? "JOIN" : "LEFT JOIN") + " domains d ON d.qid=q.id WHERE " + where +
                         " AND q.trace_tokens IS NOT NULL ORDER BY q.id");
    while (st.step()) out.push_back({st.i64(0), st.str(1), st.i64(2)});
    return out;
  };
  const std::string live = "q.id NOT IN (SELECT qid FROM removals)";
  const std::string quality_pool = "q.id NOT IN (SELECT qid FROM removals WHERE stage IN ('ingest','decontaminate','quality'))";
  int64_t live_n = db.scalar("SELECT COUNT(*) FROM questions WHERE id NOT IN (SELECT qid FROM removals)");
  auto pool = load(live, true);
  if (pool.empty())
    fail("select: no question has a domain and a trace length; run generate, grade (trace lengths) and classify first");
  if (int64_t(pool.size()) < live_n && !s.quiet)
    note("select: " + std::to_string(live_n - int64_t(pool.size())) +
         " questions of the pool lack a domain or a trace length and are left out");

  std::map<std::string, std::vector<int64_t>> sel;
  sel["s1k"] = diversity_sample(pool, s.n, s.seed, true);
  if (s.ablations) {
    auto qpool = load(quality_pool, false);
    std::vector<int64_t> ids;
    for (auto& c : qpool) ids.push_back(c.qid);
    // random: a seeded Fisher-Yates shuffle of the quality-filtered pool
    Rng rng(s.seed);
    for (size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[size_t(rng.below(i))]);
    ids.resize(std::min(ids.size(), s.n));
    sel["random1k"] = ids;
    auto longest = qpool;
    std::sort(longest.begin(), longest.end(), [](const Candidate& a, const Candidate& b) {
      return a.length != b.length ? a.length > b.length : a.qid < b.qid;
    });
    sel["longest1k"].clear();
    for (size_t i = 0; i < longest.size() && i < s.n; ++i) sel["longest1k"].push_back(longest[i].qid);
    sel["diverse1k"] = diversity_sample(load(quality_pool, true), s.n, s.seed, false);
    std::vector<int64_t> full;
    Stmt st = db.prepare(
        "SELECT q.id FROM questions q JOIN outputs o ON o.qid=q.id AND o.role='trace' AND o.error IS NULL "
        "WHERE q.id NOT IN (SELECT qid FROM removals WHERE stage IN ('ingest','decontaminate')) ORDER BY q.id");
    while (st.step()) full.push_back(st.i64(0));
    sel["full"] = full;
  }
  Tx tx(db);
  db.exec("DELETE FROM selections");
  Stmt put = db.prepare("INSERT INTO selections(name,pos,qid) VALUES(?,?,?)");
  for (auto& [name, ids] : sel)
    for (size_t i = 0; i < ids.size(); ++i) put.bind(1, name).bind(2, int64_t(i)).bind(3, ids[i]).run();
  db.prepare("INSERT OR REPLACE INTO stages(stage, done_at, params) VALUES('select', datetime('now'), ?)")
      .bind(1, json({{"n", s.n}, {"seed", s.seed}}).dump()).run();
  tx.commit();
  if (!s.quiet) {
    std::string line = "select: s1k " + std::to_string(sel["s1k"].size()) + " from a pool of " + std::to_string(pool.size());
    for (auto& [name, ids] : sel)
      if (name != "s1k") line += ", " + name + " " + std::to_string(ids.size());
    note(line);
  }
}

}  // namespace s1::curate
