// Stage 4: reasoning traces (s1: gemini.py, the raw question as the only user turn)
// and attempts of the reference models (s1: bulk_inference.py, Qwen2.5-7B/32B-Instruct
// at temperature 0.05) for every question still in the pool.
#include "core/error.h"
#include "curate/pipeline.h"
#include "curate/io.h"
#include "curate/runner.h"

namespace s1::curate {
using nlohmann::json;

llm::Client& Clients::get(const std::string& spec_in, const char* role) {
  std::string spec = spec_in.empty() ? o_.llm : spec_in;
  if (spec.empty()) fail("no model for ", role, ": pass --llm SPEC (local:PATH or http://host:port/v1#model)");
  auto it = by_spec_.find(spec);
  if (it != by_spec_.end()) return *it->second;
  llm::LocalOptions lo;
  lo.threads = o_.threads;
  lo.max_context = o_.max_context;
  auto c = llm::make_client(spec, lo);
  return *by_spec_.emplace(spec, std::move(c)).first->second;
}

std::pair<std::string, std::string> split_trace(const std::string& text) {
  auto strip = [](std::string s, std::string_view prefix) {
    size_t a = s.find_first_not_of(" \n");
    s = a == std::string::npos ? "" : s.substr(a);
    if (s.rfind(prefix, 0) == 0) s = s.substr(prefix.size());
    size_t b = s.find_first_not_of('\n');
    return b == std::string::npos ? std::string() : s.substr(b);
  };
  for (auto [start, end] : {std::pair<std::string_view, std::string_view>{"<|im_start|>think", "<|im_start|>answer"},
                            {"<think>", "</think>"}}) {
    size_t p = text.find(end);
    if (p != std::string::npos) return {strip(text.substr(0, p), start), strip(text.substr(p + end.size()), "")};
  }
  return {text, text};
}

namespace {
struct Pending {
  int64_t qid;
  std::string question;
};

std::vector<Pending> pending_for(Db& db, const std::string& role, int64_t limit) {
  std::string sql =
      "SELECT id, question FROM questions WHERE id NOT IN (SELECT qid FROM removals) AND id NOT IN "
      "(SELECT qid FROM outputs WHERE role=?) ORDER BY id";
  Stmt s = db.prepare(sql);
  s.bind(1, role);
  std::vector<Pending> out;
  while (s.step()) out.push_back({s.i64(0), s.str(1)});
  if (limit > 0) {
    // --limit counts questions of the pool, not of what is left: a resumed run ends where the first would have.
    int64_t first_n_max = 0;
    Stmt m = db.prepare("SELECT id FROM questions WHERE id NOT IN (SELECT qid FROM removals) ORDER BY id LIMIT 1 OFFSET ?");
    m.bind(1, limit - 1);
    first_n_max = m.step() ? m.i64(0) : INT64_MAX;
    std::erase_if(out, [&](const Pending& p) { return p.qid > first_n_max; });
  }
  return out;
}

void run_role(Db& db, llm::Client& client, const LlmOptions& lo, const std::string& role, int64_t max_tokens,
              double temperature, std::optional<uint64_t> seed, bool split) {
  std::vector<Pending> todo = pending_for(db, role, lo.limit);
  std::vector<Job> jobs;
  jobs.reserve(todo.size());
  for (auto& p : todo) {
    Job j;
    j.qid = p.qid;
    j.role = role;
    j.req.messages = {{"user", p.question}};
    j.req.max_tokens = max_tokens;
    j.req.temperature = temperature;
    j.req.seed = seed;
    jobs.push_back(std::move(j));
  }
  Stmt put = db.prepare(
      "INSERT OR REPLACE INTO outputs(qid,role,model,cache_key,text,thinking,attempt,error,completion_tokens)"
      " VALUES(?,?,?,?,?,?,?,?,?)");
  const std::string model = client.id();
  RunnerOptions ro{lo.concurrency, lo.rpm, lo.retries, lo.backoff_s, "generate " + role, lo.quiet};
  RunStats st = run_jobs(db, client, jobs, ro, [&](const Job& j, const llm::Response* r, const std::string& err) {
    put.bind(1, j.qid).bind(2, j.role).bind(3, model).bind(4, cache_key(client, j.req));
    if (r) {
      auto [thinking, attempt] = split ? split_trace(r->text) : std::pair<std::string, std::string>{"", r->text};
      put.bind(5, r->text).bind(6, split ? std::optional<std::string>(thinking) : std::nullopt).bind(7, attempt);
      put.bind_null(8).bind(9, r->completion_tokens);
    } else {
      put.bind_null(5).bind_null(6).bind_null(7).bind(8, err).bind_null(9);
    }
    put.run();
  });
  if (!lo.quiet)
    note("generate " + role + ": " + std::to_string(st.jobs) + " requests, " + std::to_string(st.cache_hits) +
         " from the cache, " + std::to_string(st.calls) + " model calls, " + std::to_string(st.failures) + " failed");
}
}  // namespace

void generate(Db& db, Clients& clients, const LlmOptions& lo, const GenerateOptions& g) {
  if (db.scalar("SELECT COUNT(*) FROM questions") == 0) fail("generate: the database has no questions; run `s1 curate ingest` first");
  if (g.retry_errors) db.exec("DELETE FROM outputs WHERE error IS NOT NULL");
  if (g.traces) run_role(db, clients.get(lo.trace_llm, "traces (--trace-llm)"), lo, "trace", g.trace_max_tokens,
                         g.trace_temperature, g.seed, true);
  if (g.attempts) {
    auto attempt_llms = lo.attempt_llms;
    if (attempt_llms.empty()) attempt_llms.push_back({"default", ""});
    for (auto& [name, spec] : attempt_llms)
      run_role(db, clients.get(spec, "attempts (--attempt-llm)"), lo, "attempt:" + name, g.attempt_max_tokens,
               g.attempt_temperature, g.seed, false);
  }
  db.prepare("INSERT OR REPLACE INTO stages(stage, done_at) VALUES('generate', datetime('now'))").run();
}

}  // namespace s1::curate
