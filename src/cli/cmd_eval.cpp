// s1 eval: test-time scaling evaluation. Wiring only: the questions (data/benchmarks, GPQA's
// zip, or a JSONL file), the backend (the local engine or an endpoint), the sweep over
// control methods x budgets (src/eval), and the summary printed at the end.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "chat/chat_template.h"
#include "cli/common.h"
#include "control/delimiters.h"
#include "core/error.h"
#include "eval/gpqa.h"
#include "eval/summary.h"
#include "eval/sweep.h"
#include "llm/client.h"
#include "llm/engine.h"

namespace s1::cli {
namespace {

struct EvalOptions {
  std::string model, bench, gpqa_zip, gpqa_password = eval::kGpqaZipPassword, data, question_field, answer_field,
                                      id_field, answer_kind = "math";
  uint64_t gpqa_seed = eval::kGpqaShuffleSeed;
  std::string budgets, ignore_str = "Wait", budget_mode = "harness", family, chat_template, endpoint, out, quant;
  std::vector<std::string> controls;
  int num_ignore = 0, samples = 1, parallel = 1, reject_tries = 64, bootstrap = 2000, threads = 0;
  int64_t min_thinking = 0, answer_limit = 32768, ctx = 0, context = 32768, step_tokens = 32, limit = 0;
  double temperature = 0, top_p = 1;
  std::string judge;  // llm::make_client spec of the optional LLM judge
  double judge_temperature = 0;
  double request_timeout = 600;  // seconds per HTTP request (the endpoint and an endpoint judge)
  int retries = 4;
  uint64_t seed = 0, bootstrap_seed = 20250131;
  float end_bias = 0;
  bool resume = false;
};

std::string data_dir() {
  if (const char* e = std::getenv("S1_DATA_DIR")) return e;
  return S1_DATA_DIR;
}

// HTTP request settings shared by --endpoint and an endpoint --judge.
llm::EndpointOptions endpoint_defaults(const EvalOptions& o) {
  llm::EndpointOptions eo;
  eo.timeout_s = o.request_timeout;
  eo.max_retries = o.retries;
  return eo;
}

int run_eval(const EvalOptions& o) {
  using namespace s1::eval;
  // --- the questions
  int sources = !o.bench.empty() + !o.data.empty();
  if (sources != 1) fail("give exactly one of --bench NAME or --data FILE");
  std::vector<Question> questions;
  std::string data_name;
  nlohmann::json data_settings;
  if (o.bench == "gpqa") {
    if (o.gpqa_zip.empty())
      fail("--bench gpqa reads GPQA Diamond from its authors' dataset.zip: give --gpqa-zip PATH "
           "(github.com/idavidrein/gpqa; see data/benchmarks/gpqa-diamond.README.txt)");
    questions = load_gpqa_zip(o.gpqa_zip, o.gpqa_password, o.gpqa_seed);
    data_name = "gpqa-diamond";
    data_settings = {{"bench", "gpqa"}, {"gpqa_seed", o.gpqa_seed}};
  } else if (!o.bench.empty()) {
    if (!o.gpqa_zip.empty()) fail("--gpqa-zip goes with --bench gpqa");
    questions = load_benchmark(o.bench, data_dir());
    data_name = o.bench;
    data_settings = {{"bench", o.bench}};
  } else {
    if (o.question_field.empty() || o.answer_field.empty())
      fail("--data needs --question-field and --answer-field (the JSON keys of question and gold answer)");
    questions = load_jsonl_questions(o.data, o.question_field, o.answer_field, o.id_field,
                                     parse_answer_kind(o.answer_kind));
    data_name = std::filesystem::path(o.data).filename().string();
    data_settings = {{"data", std::filesystem::absolute(o.data).string()}, {"question_field", o.question_field},
                     {"answer_field", o.answer_field}, {"id_field", o.id_field}, {"answer_kind", o.answer_kind}};
  }
  if (o.limit < 0) fail("--limit must be >= 0");
  if (o.limit > 0 && size_t(o.limit) < questions.size()) questions.resize(size_t(o.limit));

  // --- what to run
  std::vector<Method> methods;
  for (const auto& c : o.controls) {
    size_t pos = 0;
    while (pos <= c.size()) {  // "--control a,b" and "--control a --control b" both work
      size_t comma = c.find(',', pos);
      std::string item = c.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      pos = comma == std::string::npos ? c.size() + 1 : comma + 1;
      if (!item.empty()) methods.push_back(parse_method(item));
    }
  }
  if (methods.empty()) methods.push_back(o.budgets.empty() ? Method::None : Method::Budget);
  std::vector<int64_t> budgets = o.budgets.empty() ? std::vector<int64_t>{} : parse_budget_list(o.budgets);
  if (o.samples < 1) fail("--samples must be >= 1, got ", o.samples);
  if (o.parallel < 1) fail("--parallel must be >= 1, got ", o.parallel);
  if (o.answer_limit < 1) fail("--max-answer must be >= 1");
  bool rejection = std::find(methods.begin(), methods.end(), Method::Rejection) != methods.end();
  if (rejection && o.temperature == 0)
    std::fprintf(stderr, "s1: warning: rejection sampling at temperature 0 repeats the same attempt\n");

  // --- the model side: tokenizer and chat template always from -m; weights only locally
  std::optional<llm::Engine> engine;
  std::optional<Tokenizer> tok_holder;
  std::optional<ChatTemplate> tmpl_holder;
  if (o.endpoint.empty()) {
    engine.emplace(llm::Engine::open(o.model, {o.threads, o.chat_template, o.quant}));
  } else {
    tok_holder.emplace(load_tokenizer(o.model));
    tmpl_holder.emplace(load_chat_template(o.model, &*tok_holder, o.chat_template));
  }
  const Tokenizer& tok = engine ? engine->tokenizer : *tok_holder;
  const ChatTemplate& tmpl = engine ? engine->chat_template : *tmpl_holder;

  GenOptions gen;
  control::Family fam = o.family.empty() ? control::detect_family(tmpl.source(), tok) : control::parse_family(o.family);
  gen.delimiters = control::family_delimiters(fam);
  bool controlled = std::any_of(methods.begin(), methods.end(), [](Method m) { return m != Method::None; });
  if (controlled && gen.delimiters.think_end.empty())
    fail("no thinking delimiters are known for ", o.model, ": pass --family s1|r1");
  gen.num_ignore = o.num_ignore;
  gen.ignore_str = o.ignore_str == "none" ? "" : o.ignore_str;
  gen.mode = control::parse_budget_mode(o.budget_mode);
  gen.min_thinking = o.min_thinking;
  gen.answer_limit = o.answer_limit;
  gen.temperature = o.temperature;
  gen.top_p = o.top_p;
  gen.reject_tries = o.reject_tries;
  gen.end_bias = o.end_bias;
  if (o.reject_tries < 1) fail("--reject-tries must be >= 1");
  if (o.end_bias != 0 && !o.endpoint.empty()) fail("--end-bias works on the local engine only");

  std::unique_ptr<eval::Backend> backend;
  std::string backend_name;
  if (engine) {
    int64_t ctx = o.ctx > 0 ? o.ctx : std::min<int64_t>(engine->model->config().max_position, 32768);
    backend = make_local_backend(*engine, gen, ctx);
    backend_name = "local";
  } else {
    llm::EndpointOptions eo = endpoint_defaults(o);
    size_t hash = o.endpoint.find('#');
    eo.base_url = o.endpoint.substr(0, hash);
    if (hash != std::string::npos) eo.model = o.endpoint.substr(hash + 1);
    if (eo.base_url.rfind("http://", 0) != 0 && eo.base_url.rfind("https://", 0) != 0)
      fail("--endpoint '", o.endpoint, "': expected http(s)://host:port[/v1][#model]");
    if (const char* k = std::getenv("OPENAI_API_KEY")) eo.api_key = k;
    // as s1's harness sets them for vLLM: special tokens stay in the text
    eo.extra_body = {{"skip_special_tokens", false}, {"spaces_between_special_tokens", false}};
    backend = make_endpoint_backend(llm::make_endpoint_client(eo), tok, gen, o.context);
    backend_name = o.endpoint;
  }

  SweepConfig cfg;
  cfg.out_dir = o.out;
  cfg.resume = o.resume;
  cfg.data_name = data_name;
  cfg.questions = std::move(questions);
  cfg.points = expand_points(methods, budgets);
  cfg.samples = o.samples;
  cfg.seed = o.seed;
  cfg.gen = gen;
  cfg.step_tokens = o.step_tokens;
  cfg.parallel = o.parallel;
  cfg.bootstrap_resamples = o.bootstrap;
  cfg.bootstrap_seed = o.bootstrap_seed;
  cfg.settings = {{"model", o.model},
                  {"backend", backend_name},
                  {"data", data_settings},
                  {"temperature", o.temperature},
                  {"top_p", o.top_p},
                  {"seed", o.seed},
                  {"num_ignore", o.num_ignore},
                  {"ignore_str", gen.ignore_str},
                  {"budget_mode", o.budget_mode},
                  {"min_thinking", o.min_thinking},
                  {"max_answer", o.answer_limit},
                  {"family", control::family_name(fam)},
                  {"chat_template", o.chat_template},
                  {"step_tokens", o.step_tokens},
                  {"reject_tries", o.reject_tries},
                  {"end_bias", o.end_bias},
                  {"context", backend->context_tokens()},
                  {"quant", o.quant}};
  std::unique_ptr<llm::Client> judge_client;
  if (!o.judge.empty()) {
    judge_client = llm::make_client(o.judge, {}, endpoint_defaults(o));
    cfg.judge = judge_client.get();
    cfg.judge_name = judge_client->id();
    cfg.judge_options.temperature = o.judge_temperature;
  }
  SweepResult res = run_sweep(cfg, *backend, tok, tmpl);
  std::cout << summary_table(res.summary);
  std::cout << "wrote " << o.out << "/samples.jsonl, summary.json, scaling.svg, report.html\n";
  return res.summary["complete"].get<bool>() ? 0 : 3;
}

}  // namespace

void add_eval(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds) {
  auto o = std::make_shared<EvalOptions>();
  CLI::App* c = app.add_subcommand("eval", "Evaluate test-time scaling: budgets x control methods on a benchmark");
  c->add_option("-m,--model", o->model, "Model (HF folder or .gguf); with --endpoint a folder with its tokenizer is enough")->required();
  c->add_option("--bench", o->bench, "aime24, amc23, math500 (data/benchmarks) or gpqa (with --gpqa-zip)");
  c->add_option("--gpqa-zip", o->gpqa_zip, "GPQA's official dataset.zip (password-protected; never shipped)");
  c->add_option("--gpqa-password", o->gpqa_password, "Password of the GPQA zip (the one in the GPQA README)");
  c->add_option("--gpqa-seed", o->gpqa_seed, "Seed of the GPQA choice shuffle")->capture_default_str();
  c->add_option("--data", o->data, "A JSONL file of questions");
  c->add_option("--question-field", o->question_field, "JSON key of the question (with --data)");
  c->add_option("--answer-field", o->answer_field, "JSON key of the gold answer (with --data)");
  c->add_option("--id-field", o->id_field, "JSON key of a question id (default: the line number)");
  c->add_option("--answer-kind", o->answer_kind, "math, integer (AIME) or choice (A-D)")->capture_default_str();
  c->add_option("--budgets", o->budgets, "Thinking budgets, e.g. 256,512,1k,2k");
  c->add_option("--control", o->controls, "budget, token-prompt, step-prompt, class-long, class-short, rejection, none (several allowed)");
  c->add_option("--num-ignore", o->num_ignore, "Suppress the end of thinking this many times (Wait rounds)")->check(CLI::NonNegativeNumber);
  c->add_option("--ignore-str", o->ignore_str, "Appended at a suppressed end: Wait (default), Hmm, ..., or none");
  c->add_option("--budget-mode", o->budget_mode, "harness (default, the paper's) or readme accounting");
  c->add_option("--min-thinking", o->min_thinking, "Suppress an end of thinking before this many tokens")->check(CLI::NonNegativeNumber);
  c->add_option("-n,--max-answer", o->answer_limit, "Answer tokens after thinking (s1's max_gen_toks)")->capture_default_str();
  c->add_option("--samples", o->samples, "Samples per question (maj@k / cov@k)")->capture_default_str();
  c->add_option("--temperature", o->temperature, "Sampling temperature (0: greedy, as s1's headline numbers)")->check(CLI::NonNegativeNumber);
  c->add_option("--top-p", o->top_p, "Nucleus sampling mass")->check(CLI::Range(0.0, 1.0));
  c->add_option("--seed", o->seed, "Seed; sample i uses seed + i*1000003")->capture_default_str();
  c->add_option("--limit", o->limit, "Only the first N questions");
  c->add_option("--endpoint", o->endpoint, "OpenAI-compatible server: http://host:port[/v1][#model] (budget forcing by continuation requests)");
  c->add_option("--parallel", o->parallel, "Concurrent requests to the endpoint")->capture_default_str();
  c->add_option("--context", o->context, "The endpoint's context (max_model_len) for the auto budget")->capture_default_str();
  c->add_option("--ctx", o->ctx, "Local KV cache / context size (default: the model's, at most 32768)");
  c->add_option("--family", o->family, "Thinking delimiters: s1, s1-steps, r1 or none (default: detected)");
  c->add_option("--chat-template", o->chat_template, "Override the template: 'chatml' or a .jinja file");
  c->add_option("--step-tokens", o->step_tokens, "step-prompt: a budget of B tokens asks for B / this many steps")->capture_default_str();
  c->add_option("--reject-tries", o->reject_tries, "Rejection sampling attempts before budget forcing")->capture_default_str();
  c->add_option("--bootstrap", o->bootstrap, "Bootstrap resamplings for the 95% intervals")->capture_default_str();
  c->add_option("--bootstrap-seed", o->bootstrap_seed, "Seed of the bootstrap")->capture_default_str();
  c->add_option("--end-bias", o->end_bias, "Testing: add this to the end-of-thinking logits (local)");
  c->add_option("-t,--threads", o->threads, "CPU threads (local)")->check(CLI::NonNegativeNumber);
  c->add_option("--judge", o->judge,
                "Also ask an LLM judge (s1's option-index prompt): local:PATH or http://host:port[/v1][#model]; "
                "reported as judge_correct / judge_accuracy, apart from the accuracy");
  c->add_option("--judge-temperature", o->judge_temperature, "Judge sampling temperature (s1 used 0.5; default 0)")
      ->check(CLI::NonNegativeNumber);
  c->add_option("--request-timeout", o->request_timeout,
                "Seconds one HTTP request (to --endpoint or an endpoint --judge) may take before it fails")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  c->add_option("--retries", o->retries, "Retries of a retryable HTTP failure (connection, timeout, 429, 5xx)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  add_quant_option(c, o->quant);
  c->add_option("--out", o->out, "Output folder: samples.jsonl, summary.json, scaling.svg, report.html")->required();
  c->add_flag("--resume", o->resume, "Continue the run in --out: finished samples are not redone");
  cmds.emplace_back(c, [o] { return run_eval(*o); });
}

}  // namespace s1::cli
