// `s1 curate`: s1's selection of 1,000 training examples from a pool of questions
// (s1-reference.md §4), as stages over one SQLite database (db.h).
//
//   ingest -> decontaminate -> quality -> generate -> quality -> grade -> difficulty
//          -> classify -> select -> export            (`run` does them in this order)
//
// Free stages (decontaminate, quality, difficulty) recompute their removals from
// scratch each time they run; paid stages (generate, grade, classify) only ask for
// what the database does not hold yet, and every answer goes through the cache.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "curate/db.h"
#include "llm/client.h"

namespace s1::curate {

// Removal stages, in pipeline order: a question removed at one is not seen by later ones.
inline const std::vector<std::string>& removal_stages() {
  static const std::vector<std::string> s = {"ingest", "decontaminate", "quality", "difficulty"};
  return s;
}

// ---- 1. ingest --------------------------------------------------------------------
struct Source {
  std::string adapter;  // aime_csv | math | agieval | olympiadbench | s1 | "" (detect)
  std::string path;     // a file, or a folder: every .jsonl / .csv in it, sorted
};
struct IngestOptions {
  std::vector<Source> sources;
  int64_t limit = 0;         // at most this many rows per file (0: all)
  int aime_max_year = 2022;  // s1's add_aime.py keeps AIME years <= 2022
  std::string trace_field = "default";  // s1 files: default | gemini | deepseek
  bool quiet = false;
};
// The pools bundled in data/pools, in s1's source order (MATH, OlympiadBench, AGIEval, AIME).
std::vector<Source> bundled_pools(const std::string& data_dir);
void ingest(Db& db, const IngestOptions& o);

// One question in the unified schema {question, solution, cot_type, source_type, metadata},
// with the short reference answer when the source has one (for the deterministic checker).
struct Row {
  std::string question, solution, cot_type, source_type, metadata, answer;
  std::string answer_kind = "math";  // math | integer | choice
  std::string drop_reason;           // ingest-time removal (e.g. AIME after aime_max_year)
  std::string thinking, attempt;     // s1 files carry traces
  bool has_trace = false;
};
// Parses one file with an adapter (exposed for tests). Throws s1::Error naming file:line.
std::vector<Row> read_source(const std::string& adapter, const std::string& path, const IngestOptions& o);
// The same from text already read (`path` names it in errors; its extension tells CSV from JSONL).
std::vector<Row> read_source_text(const std::string& adapter, const std::string& text, const std::string& path,
                                  const IngestOptions& o);
std::string detect_adapter(const std::string& path);

// ---- 2. decontaminate ------------------------------------------------------------
struct EvalSet {
  std::string name;
  std::vector<std::string> questions;
};
struct DecontamOptions {
  std::vector<std::string> eval_files;  // .jsonl (problem / question / Question) or GPQA .csv (Question)
  int n = 8;
  bool quiet = false;
};
std::vector<std::string> bundled_eval_files(const std::string& data_dir);
EvalSet read_eval_set(const std::string& path);
void decontaminate(Db& db, const DecontamOptions& o);

// ---- 3. quality --------------------------------------------------------------------
void quality(Db& db, bool quiet = false);

// ---- models ----------------------------------------------------------------------------
struct LlmOptions {
  std::string llm;                                            // default for every role
  std::string trace_llm, grader_llm, classify_llm;            // "" = llm
  std::vector<std::pair<std::string, std::string>> attempt_llms;  // name, spec ("" spec = llm)
  int threads = 0;                                            // local engine
  int64_t max_context = 8192;
  int concurrency = 4;
  double rpm = 0;
  int retries = 4;
  double backoff_s = 1.0;
  int64_t limit = 0;  // at most this many questions per paid stage (0: all)
  bool quiet = false;
};
// One Client per distinct spec (a local model is loaded once).
class Clients {
 public:
  explicit Clients(const LlmOptions& o) : o_(o) {}
  llm::Client& get(const std::string& spec, const char* role);

 private:
  const LlmOptions& o_;
  std::map<std::string, std::unique_ptr<llm::Client>> by_spec_;
};

// ---- 4. generate -------------------------------------------------------------------
struct GenerateOptions {
  int64_t trace_max_tokens = 32768;
  double trace_temperature = 0.0;
  int64_t attempt_max_tokens = 32768;
  double attempt_temperature = 0.05;  // bulk_inference.py
  bool traces = true, attempts = true;
  bool retry_errors = false;  // ask again where a request failed for good before
  std::optional<uint64_t> seed;  // sent with every request (sampled generation made repeatable)
};
void generate(Db& db, Clients& clients, const LlmOptions& lo, const GenerateOptions& g);
// s1 traces have the thinking and the answer apart; a model's text is split at
// "<|im_start|>answer" or "</think>"; without either, the whole text is both.
std::pair<std::string, std::string> split_trace(const std::string& text);

// ---- 5. grade ------------------------------------------------------------------------
struct GradeOptions {
  std::string grader = "auto";  // auto (checker when the reference answer is short, else LLM) | llm | checker
  size_t short_answer_chars = 64;
  int64_t max_tokens = 8192;
  std::string grading_prompt;   // data/s1/grading.txt
  std::string tokenizer;        // folder: trace length in its tokens
};
void grade(Db& db, Clients& clients, const LlmOptions& lo, const GradeOptions& g);
// s1: the last line of the grader's answer, "Yes" or "No"; anything else is no verdict.
std::optional<bool> parse_yes_no(const std::string& text);

// ---- 6. difficulty -----------------------------------------------------------------
void difficulty(Db& db, bool quiet = false);

// ---- 7. classify + select -----------------------------------------------------------
struct MscDomain {
  std::string code, title, prompt;
};
std::vector<MscDomain> read_msc(const std::string& path);
struct ClassifyOptions {
  std::string msc_path;
  int64_t max_tokens = 8192;
  int tries = 3;               // s1 asked again until the answer ended in a code
  bool include_hard_removed = false;  // also questions dropped at difficulty (for the diversity-only ablation)
};
void classify(Db& db, Clients& clients, const LlmOptions& lo, const ClassifyOptions& c);
// s1: the last two characters, when both are digits and name an MSC code.
std::optional<std::string> parse_domain_code(const std::string& text, const std::vector<MscDomain>& msc);

struct Candidate {
  int64_t qid;
  std::string domain;
  int64_t length;  // trace tokens
};
// s1's diversity sampling: a domain uniformly among those not yet exhausted, then a
// question of it with probability proportional to 2^-rank (rank 0 = longest trace;
// ties by qid), removed from the pool; until n are chosen or the pool is empty.
// Seeded with our own generator: the same seed gives the same selection everywhere.
std::vector<int64_t> diversity_sample(const std::vector<Candidate>& pool, size_t n, uint64_t seed,
                                      bool length_weighted = true);
struct SelectOptions {
  size_t n = 1000;
  uint64_t seed = 42;
  bool ablations = true;  // random, longest, diverse (no length weighting), full
  bool quiet = false;
};
void select(Db& db, const SelectOptions& s);

// ---- 8. export --------------------------------------------------------------------
struct ExportOptions {
  std::string out_dir;
  std::string tokenizer;  // its chat template renders "text" (s1: Qwen2.5-32B-Instruct's)
  bool quiet = false;
};
void export_selections(Db& db, const ExportOptions& e);
// s1's training text (data/tokenization.py): the chat template applied to
// [user: question, assistant: "<|im_start|>think\n" + thinking + "\n<|im_start|>answer\n" + answer].
std::string assistant_turn(const std::string& thinking, const std::string& attempt);

// ---- report ----------------------------------------------------------------------------
nlohmann::json report(Db& db);
std::string report_text(const nlohmann::json& r);
void write_svgs(Db& db, const std::string& dir);

}  // namespace s1::curate
