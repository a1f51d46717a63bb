// s1 curate: s1's data curation (s1-reference.md §4) as stages over one SQLite
// database; the work is in src/curate, this file only parses flags.
#include <iostream>

#include "cli/common.h"
#include "core/error.h"
#include "curate/io.h"
#include "curate/pipeline.h"

namespace s1::cli {
namespace {

struct CurateOpts {
  std::string db;
  bool quiet = false;
  // ingest
  std::vector<std::string> sources;
  curate::IngestOptions ingest;
  // decontaminate
  std::vector<std::string> evals;
  int ngram = 8;
  // models
  curate::LlmOptions llm;
  std::vector<std::string> attempt_specs;
  curate::GenerateOptions gen;
  bool no_traces = false, no_attempts = false;
  int64_t all_max_tokens = 0;
  std::optional<uint64_t> gen_seed;
  // grade
  curate::GradeOptions grade;
  std::string grading_prompt_path = std::string(S1_DATA_DIR) + "/s1/grading.txt";
  std::string tokenizer = std::string(S1_DATA_DIR) + "/tokenizers/qwen2.5";
  // classify / select / export / report
  curate::ClassifyOptions classify;
  bool classify_quality_pool = false;
  curate::SelectOptions select;
  bool no_ablations = false;
  std::string out;
  bool json = false;
  std::string svg;
};

void add_db(CLI::App* c, CurateOpts& o) {
  c->add_option("--db", o.db, "The curation database (SQLite; created when missing)")->required();
  c->add_flag("--quiet,-q", o.quiet, "No progress or summary lines");
}
void add_ingest(CLI::App* c, CurateOpts& o) {
  c->add_option("--source", o.sources,
                "[ADAPTER=]PATH: a .jsonl/.csv file or a folder of them; adapters aime_csv, math, agieval, "
                "olympiadbench, s1 (s1K / s1K-1.1 / data_ablation_full59K rows); detected when omitted. "
                "Default: the bundled pools in data/pools");
  c->add_option("--limit", o.ingest.limit, "At most N rows of each source file (for quick runs)");
  c->add_option("--aime-max-year", o.ingest.aime_max_year, "AIME rows after this year are dropped (s1: 2022)");
  c->add_option("--trace-field", o.ingest.trace_field, "s1 files: which trace to import")
      ->check(CLI::IsMember({"default", "gemini", "deepseek"}));
}
void add_decontam(CLI::App* c, CurateOpts& o) {
  c->add_option("--eval", o.evals,
                "An evaluation set to decontaminate against (.jsonl with problem/question, or GPQA's .csv); "
                "default: every file in data/benchmarks");
  c->add_option("--ngram", o.ngram, "Word n-gram length (s1: 8)")->check(CLI::Range(1, 64));
}
void add_llm(CLI::App* c, CurateOpts& o) {
  c->add_option("--llm", o.llm.llm, "Default model for every role: local:PATH or http://host:port/v1#model");
  c->add_option("--trace-llm", o.llm.trace_llm, "Model writing reasoning traces (s1: Gemini Flash Thinking)");
  c->add_option("--attempt-llm", o.attempt_specs,
                "NAME=SPEC (repeatable): reference models whose solved questions are dropped (s1: Qwen2.5-7B/32B-Instruct)");
  c->add_option("--grader-llm", o.llm.grader_llm, "Model grading attempts (s1: Claude 3.5 Sonnet)");
  c->add_option("--classify-llm", o.llm.classify_llm, "Model classifying domains (s1: Claude 3.5 Sonnet)");
  c->add_option("--threads", o.llm.threads, "Threads of a local model (0: all cores)");
  c->add_option("--max-context", o.llm.max_context, "KV cache length of a local model");
  c->add_option("--concurrency", o.llm.concurrency, "Requests in flight at once")->check(CLI::Range(1, 1024));
  c->add_option("--rpm", o.llm.rpm, "At most this many requests started per minute (0: no limit)");
  c->add_option("--retries", o.llm.retries, "Retries of a retryable failure (connection, 429, 5xx)");
  c->add_option("--backoff", o.llm.backoff_s, "First wait before a retry, seconds (doubled each time)");
  c->add_option("--max-questions", o.llm.limit, "Paid stages work on the first N questions of the pool only");
  c->add_option("--all-max-tokens", o.all_max_tokens, "Set every max-tokens option at once (quick runs)");
}
void add_generate(CLI::App* c, CurateOpts& o) {
  c->add_option("--max-tokens", o.gen.trace_max_tokens, "Trace length limit");
  c->add_option("--temperature", o.gen.trace_temperature, "Trace sampling temperature");
  c->add_option("--attempt-max-tokens", o.gen.attempt_max_tokens, "Attempt length limit (s1: 32768)");
  c->add_option("--attempt-temperature", o.gen.attempt_temperature, "Attempt temperature (s1: 0.05)");
  c->add_option("--gen-seed", o.gen_seed, "Seed sent with every trace / attempt request (repeatable sampling)");
  c->add_flag("--retry-errors", o.gen.retry_errors, "Ask again where a request failed for good before");
  c->add_flag("--no-traces", o.no_traces, "Attempts only");
  c->add_flag("--no-attempts", o.no_attempts, "Traces only");
}
void add_grade(CLI::App* c, CurateOpts& o) {
  c->add_option("--grader", o.grade.grader, "auto (checker when the reference answer is short, else LLM) | llm | checker")
      ->check(CLI::IsMember({"auto", "llm", "checker"}));
  c->add_option("--grading-prompt", o.grading_prompt_path, "System prompt of the LLM grader (s1's data/grading.txt)");
  c->add_option("--grade-max-tokens", o.grade.max_tokens, "LLM grader length limit");
  c->add_option("--short-answer-chars", o.grade.short_answer_chars, "Longest reference answer the checker takes");
}
void add_tokenizer(CLI::App* c, CurateOpts& o) {
  c->add_option("--tokenizer", o.tokenizer,
                "Tokenizer folder: trace lengths in its tokens, and its chat template for the training text "
                "(default data/tokenizers/qwen2.5, as s1)");
}
void add_classify(CLI::App* c, CurateOpts& o) {
  c->add_option("--msc", o.classify.msc_path, "MSC subjects (s1's data/msc.json)");
  c->add_option("--classify-max-tokens", o.classify.max_tokens, "Classifier length limit");
  c->add_option("--classify-tries", o.classify.tries, "Requests per question until one ends in a code")->check(CLI::Range(1, 100));
  c->add_flag("--classify-quality-pool", o.classify_quality_pool,
              "Also classify questions dropped at difficulty (needed for the diversity-only ablation)");
}
void add_select(CLI::App* c, CurateOpts& o) {
  c->add_option("--n", o.select.n, "How many to select (s1: 1000)");
  c->add_option("--seed", o.select.seed, "Sampling seed (same seed, same selection)");
  c->add_flag("--no-ablations", o.no_ablations, "Only the s1K-style selection (no random / longest / diverse / full)");
}
void add_export(CLI::App* c, CurateOpts& o) {
  c->add_option("--out", o.out, "Folder for s1k.jsonl and the ablation selections");
}

void finish_opts(CurateOpts& o) {
  o.llm.quiet = o.ingest.quiet = o.select.quiet = o.quiet;
  for (const auto& s : o.sources) {
    auto eq = s.find('=');
    if (eq != std::string::npos && s.find('/') > eq) o.ingest.sources.push_back({s.substr(0, eq), s.substr(eq + 1)});
    else o.ingest.sources.push_back({"", s});
  }
  if (o.ingest.sources.empty()) o.ingest.sources = curate::bundled_pools(S1_DATA_DIR);
  if (o.evals.empty()) o.evals = curate::bundled_eval_files(S1_DATA_DIR);
  for (const auto& s : o.attempt_specs) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) fail("--attempt-llm wants NAME=SPEC (e.g. qwen7b=http://127.0.0.1:8000/v1), got '", s, "'");
    o.llm.attempt_llms.push_back({s.substr(0, eq), s.substr(eq + 1)});
  }
  if (o.all_max_tokens > 0)
    o.gen.trace_max_tokens = o.gen.attempt_max_tokens = o.grade.max_tokens = o.classify.max_tokens = o.all_max_tokens;
  o.gen.seed = o.gen_seed;
  o.gen.traces = !o.no_traces;
  o.gen.attempts = !o.no_attempts;
  o.grade.tokenizer = o.tokenizer;
  o.classify.include_hard_removed = o.classify_quality_pool;
  o.select.ablations = !o.no_ablations;
  if (o.classify.msc_path.empty()) o.classify.msc_path = std::string(S1_DATA_DIR) + "/s1/msc.json";
}

int run_stage(const std::string& stage, CurateOpts& o) {
  finish_opts(o);
  curate::Db db(o.db);
  curate::Clients clients(o.llm);
  auto load_prompt = [&] {
    if (o.grade.grader != "checker") o.grade.grading_prompt = curate::read_file(o.grading_prompt_path);
  };
  auto do_stage = [&](const std::string& s) {
    if (s == "ingest") curate::ingest(db, o.ingest);
    else if (s == "decontaminate") curate::decontaminate(db, {o.evals, o.ngram, o.quiet});
    else if (s == "quality") curate::quality(db, o.quiet);
    else if (s == "generate") curate::generate(db, clients, o.llm, o.gen);
    else if (s == "grade") {
      load_prompt();
      curate::grade(db, clients, o.llm, o.grade);
    } else if (s == "difficulty") curate::difficulty(db, o.quiet);
    else if (s == "classify") curate::classify(db, clients, o.llm, o.classify);
    else if (s == "select") curate::select(db, o.select);
    else if (s == "export") curate::export_selections(db, {o.out, o.tokenizer, o.quiet});
  };
  if (stage == "report") {
    auto r = curate::report(db);
    if (!o.svg.empty()) curate::write_svgs(db, o.svg);
    std::cout << (o.json ? r.dump(2) + "\n" : curate::report_text(r));
    return 0;
  }
  if (stage == "run") {
    // quality runs twice: on the questions before paying for traces, then on the traces.
    for (const char* s : {"ingest", "decontaminate", "quality", "generate", "quality", "grade", "difficulty", "classify",
                          "select"})
      do_stage(s);
    if (!o.out.empty()) do_stage("export");
    else if (!o.quiet) curate::note("run: no --out, nothing exported");
    if (!o.quiet) std::cerr << curate::report_text(curate::report(db));
    return 0;
  }
  if (stage == "export" && o.out.empty()) fail("export: --out DIR is required");
  do_stage(stage);
  return 0;
}

}  // namespace

void add_curate(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds) {
  auto o = std::make_shared<CurateOpts>();
  CLI::App* c = app.add_subcommand("curate", "s1's data curation: a question pool -> 1,000 training examples (SQLite state)");
  c->require_subcommand(1);
  struct Spec {
    const char* name;
    const char* help;
  };
  const Spec stages[] = {
      {"ingest", "Read sources into the unified schema"},
      {"decontaminate", "Drop questions sharing a word 8-gram with an eval set or an earlier source; exact duplicates"},
      {"quality", "s1's quality rules (figures, image references, numbering, bolded numbers; empty / failed outputs)"},
      {"generate", "Reasoning traces and reference-model attempts"},
      {"grade", "Grade traces and attempts; trace lengths in tokens"},
      {"difficulty", "Drop questions a reference model solved"},
      {"classify", "MSC domain of each question by an LLM"},
      {"select", "s1's diversity sampling (+ ablation selections)"},
      {"export", "Selections as JSONL in s1K's schema with training text"},
      {"report", "Counts per stage, removal reasons, histograms"},
      {"run", "Every stage in order (resumes where a previous run stopped)"},
  };
  for (const auto& s : stages) {
    CLI::App* sub = c->add_subcommand(s.name, s.help);
    add_db(sub, *o);
    std::string n = s.name;
    bool all = n == "run";
    if (all || n == "ingest") add_ingest(sub, *o);
    if (all || n == "decontaminate") add_decontam(sub, *o);
    if (all || n == "generate" || n == "grade" || n == "classify") add_llm(sub, *o);
    if (all || n == "generate") add_generate(sub, *o);
    if (all || n == "grade") add_grade(sub, *o);
    if (all || n == "grade" || n == "export") add_tokenizer(sub, *o);
    if (all || n == "classify") add_classify(sub, *o);
    if (all || n == "select") add_select(sub, *o);
    if (all || n == "export") add_export(sub, *o);
    if (n == "report") {
      sub->add_flag("--json", o->json, "The report as JSON");
      sub->add_option("--svg", o->svg, "Folder for domains.svg and lengths.svg");
    }
    cmds.push_back({sub, [o, n] { return run_stage(n, *o); }});
  }
}

}  // namespace s1::cli
