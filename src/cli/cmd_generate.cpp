// s1 generate: prompt -> tokens -> the decoding loop -> streamed text or one JSON record.
// With a thinking-control flag the loop runs under budget forcing (src/control): the
// record then splits thinking from answer and says where each "Wait" went.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/common.h"
#include "control/methods.h"
#include "control/run.h"
#include "core/error.h"
#include "decode/generator.h"

namespace s1::cli {
namespace {

using namespace s1::control;

struct ControlOptions {
  std::string max_thinking;  // "", a number, or "auto"
  int64_t min_thinking = 0;
  int num_ignore = 0;
  std::string ignore_str = "Wait", end_str, budget_mode = "harness", method, family, think_start, think_end;
  std::vector<std::string> think_stops;
  int64_t control_n = 0;  // N of "Think for up to N tokens/steps."
  int samples = 1, reject_tries = 64;
  bool vote = false, no_force_start = false;
  float end_bias = 0;
};

struct GenerateOptions {
  std::string model, prompt, prompt_file, prompt_ids, messages_file, system, chat_template;
  std::vector<std::string> template_vars;
  std::string quant;
  bool chat = false, json = false, ignore_eos = false, no_bos = false;
  int64_t max_new = 256, ctx = 0;
  int threads = 0;
  SamplingParams sampling{0.0f, 0, 1.0f, 0.0f, 0};
  ControlOptions control;
  bool controlled = false;  // any thinking-control flag given
};

// The prompt as ids, following the same rules as transformers: a chat prompt is the
// rendered template tokenized with its special tokens and no extra BOS; a raw prompt
// gets the BOS the tokenizer config asks for. `suffix` is appended to the question (the
// last user message): the conditional-length prompts of s1's baselines.
std::vector<int32_t> build_prompt(const GenerateOptions& o, const Tokenizer* tok, const std::string& suffix) {
  int sources = !o.prompt.empty() + !o.prompt_file.empty() + !o.prompt_ids.empty() + !o.messages_file.empty();
  if (sources != 1) fail("give exactly one of -p, --prompt-file, --prompt-ids, --messages");
  if (!o.prompt_ids.empty()) {
    if (!suffix.empty()) fail("--control ", o.control.method, " adds text to the question: give -p, --prompt-file or --messages");
    auto ids = parse_id_list(o.prompt_ids);
    if (ids.empty()) fail("--prompt-ids: no ids given");
    return ids;
  }
  if (!tok) fail(o.model, ": no tokenizer in this folder; use --prompt-ids");
  nlohmann::json messages;
  if (!o.messages_file.empty()) {
    messages = read_json_file(o.messages_file);
    if (messages.is_object() && messages.contains("messages")) messages = messages["messages"];
    if (!messages.is_array()) fail(o.messages_file, ": expected a JSON array of {role, content} messages");
    if (!suffix.empty()) {
      auto last_user = std::find_if(messages.rbegin(), messages.rend(), [](const auto& m) {
        return m.is_object() && m.value("role", "") == "user" && m.contains("content") && m["content"].is_string();
      });
      if (last_user == messages.rend()) fail(o.messages_file, ": no user message to add the control prompt to");
      (*last_user)["content"] = (*last_user)["content"].template get<std::string>() + suffix;
    }
  } else if (o.chat) {
    std::string text = o.prompt.empty() ? read_input(o.prompt_file) : o.prompt;
    messages = nlohmann::json::array();
    if (!o.system.empty()) messages.push_back({{"role", "system"}, {"content", o.system}});
    messages.push_back({{"role", "user"}, {"content", text + suffix}});
  }
  if (!messages.is_null()) {
    ChatTemplate tmpl = load_chat_template(o.model, tok, o.chat_template);
    return tok->encode(tmpl.apply(messages, true, parse_template_vars(o.template_vars)));
  }
  std::string text = (o.prompt.empty() ? read_input(o.prompt_file) : o.prompt) + suffix;
  std::vector<int32_t> ids;
  if (tok->add_bos() && !o.no_bos) {
    if (auto b = tok->token_id(tok->bos_token())) ids.push_back(*b);
  }
  auto body = tok->encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  if (ids.empty()) fail("the prompt is empty");
  return ids;
}

std::optional<int64_t> parse_budget(const std::string& s) {
  if (s.empty() || s == "auto") return std::nullopt;
  size_t used = 0;
  long long v = -1;
  try {
    v = std::stoll(s, &used);
  } catch (...) {
    used = 0;
  }
  if (used != s.size() || v < 0) fail("--max-thinking: expected a number >= 0 or 'auto', got '", s, "'");
  return v;
}

// Delimiters: the family's (given or detected), then each explicit override. A new
// --think-end keeps the family's stops when it begins with them (s1: "<|im_start|>") and
// its end text follows it with the family's tail ("\nFinal Answer:"), as the harness
// builds thinking_end_max from thinking_end.
Delimiters resolve_delimiters(const ControlOptions& c, const std::string& model_dir, const Tokenizer& tok) {
  Family fam;
  if (!c.family.empty()) {
    fam = parse_family(c.family);
  } else {
    std::string src;
    try {
      if (std::filesystem::is_directory(model_dir)) src = find_chat_template(model_dir);
    } catch (const Error&) {
    }
    fam = detect_family(src, tok);
  }
  Delimiters d = family_delimiters(fam);
  if (!c.think_start.empty()) d.think_start = c.think_start;
  if (!c.think_end.empty() && c.think_end != d.think_end) {
    std::string tail = d.end_text.rfind(d.think_end, 0) == 0 ? d.end_text.substr(d.think_end.size()) : "";
    std::vector<std::string> stops;
    for (const auto& s : d.stops)
      if (c.think_end.rfind(s, 0) == 0) stops.push_back(s);
    d.think_end = c.think_end;
    d.stops = stops.empty() ? std::vector<std::string>{c.think_end} : stops;
    d.end_text = d.think_end + tail;
  }
  if (!c.think_stops.empty()) d.stops = c.think_stops;
  if (!c.end_str.empty()) d.end_text = c.end_str;
  if (d.think_end.empty() && d.stops.empty())
    fail("no thinking delimiters are known for ", model_dir, " (family ", family_name(fam),
         "): pass --family s1|r1, or --think-start and --think-end");
  return d;
}

BudgetConfig make_budget_config(const GenerateOptions& o, const Tokenizer& tok, int64_t prompt_tokens, int64_t ctx) {
  const ControlOptions& c = o.control;
  BudgetConfig cfg;
  cfg.delimiters = resolve_delimiters(c, o.model, tok);
  cfg.force_start = !c.no_force_start;
  cfg.min_thinking = c.min_thinking;
  cfg.num_ignore = c.num_ignore;
  cfg.ignore_str = c.ignore_str == "none" ? "" : c.ignore_str;
  cfg.mode = parse_budget_mode(c.budget_mode);
  cfg.answer_limit = o.max_new;
  cfg.end_bias = c.end_bias;
  // s1's auto budget is max_gen_toks (32768, the model's context) - the longest prompt -
  // the delimiters - 100; here the context is --ctx or the model's.
  cfg.max_thinking = c.max_thinking == "auto" ? auto_thinking_budget(ctx, prompt_tokens, cfg.delimiters, tok)
                                              : parse_budget(c.max_thinking);
  cfg.validate();
  return cfg;
}

nlohmann::json sample_json(const ControlledRun& r, const Tokenizer* tok) {
  std::vector<int32_t> text_ids = r.gen.output_ids;
  if (r.gen.stop_reason == "eos" && !text_ids.empty()) text_ids.pop_back();
  nlohmann::json j;
  j["output_ids"] = r.gen.output_ids;
  j["text"] = tok ? tok->decode(text_ids) : "";
  j["stop_reason"] = r.gen.stop_reason;
  j["output_tokens"] = r.gen.output_ids.size();
  if (r.controlled) j.update(to_json(r.record));
  return j;
}

void print_json(const nlohmann::json& j) {
  std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

int run_generate(const GenerateOptions& o) {
  auto model = Model::load(o.model, make_cpu_backend(o.threads), load_options(o.quant));
  const ModelConfig& cfg = model->config();
  std::optional<Tokenizer> tok = try_load_tokenizer(o.model);
  const ControlOptions& co = o.control;

  ControlMethod method = co.method.empty() ? ControlMethod::Budget : parse_control_method(co.method);
  int64_t prompt_n = co.control_n;
  if (needs_prompt_n(method) && prompt_n <= 0) {
    if (method == ControlMethod::TokenPrompt && !co.max_thinking.empty() && co.max_thinking != "auto")
      prompt_n = *parse_budget(co.max_thinking);  // s1's "TCC + BF": the same N in prompt and budget
    else
      fail("--control ", co.method, " needs --control-n N (the N of \"Think for up to N ",
           method == ControlMethod::TokenPrompt ? "tokens" : "steps", ".\")");
  }
  if (o.controlled && !tok) fail("thinking control needs the model's tokenizer (", o.model, " has none)");
  if (co.samples < 1) fail("--samples must be >= 1, got ", co.samples);
  if ((co.samples > 1 || co.vote) && !tok) fail("--samples / --vote read answers as text: ", o.model, " has no tokenizer");
  if (co.reject_tries < 1) fail("--reject-tries must be >= 1, got ", co.reject_tries);
  std::vector<int32_t> prompt = build_prompt(o, tok ? &*tok : nullptr, conditional_prompt_suffix(method, prompt_n));

  GenerateParams gp;
  gp.max_new_tokens = o.max_new;
  gp.sampling = o.sampling;
  if (!o.ignore_eos) {
    gp.stop_ids = cfg.eos_ids;
    if (tok)
      if (auto e = tok->token_id(tok->eos_token()))
        if (std::find(gp.stop_ids.begin(), gp.stop_ids.end(), *e) == gp.stop_ids.end()) gp.stop_ids.push_back(*e);
  }
  gp.valid_vocab = tok ? std::min<int64_t>(tok->vocab_size(), cfg.vocab_size) : cfg.vocab_size;
  for (int32_t id : prompt)
    if (id >= cfg.vocab_size) fail("prompt token id ", id, " is outside the model's vocabulary (", cfg.vocab_size, ")");

  // Under control the KV cache may grow to the model's context (it grows on demand); the
  // controller's limits, not -n, end the run.
  int64_t ctx = o.ctx > 0 ? o.ctx
                          : o.controlled ? cfg.max_position
                                         : std::min<int64_t>(cfg.max_position, int64_t(prompt.size()) + o.max_new);
  ctx = std::max<int64_t>(ctx, 1);
  KVCache kv(*model, ctx);

  std::optional<BudgetConfig> budget;
  if (o.controlled) {
    budget = make_budget_config(o, *tok, int64_t(prompt.size()), ctx);
    if (method == ControlMethod::Rejection && !budget->max_thinking)
      fail("--control rejection needs --max-thinking (the length limit it samples under)");
    if (method == ControlMethod::Rejection && o.sampling.temperature == 0)
      std::fprintf(stderr, "s1: warning: rejection sampling at temperature 0 repeats the same attempt\n");
  }
  const BudgetConfig* bc = budget ? &*budget : nullptr;
  const int rejection_tries = method == ControlMethod::Rejection ? co.reject_tries : 0;

  nlohmann::json j;
  j["model"] = o.model;
  j["prompt_ids"] = prompt;
  if (o.controlled) {
    j["control"] = {{"method", control_method_name(method)},
                    {"delimiters", {{"think_start", bc->delimiters.think_start}, {"think_end", bc->delimiters.think_end},
                                    {"stops", bc->delimiters.stops}, {"end_text", bc->delimiters.end_text}}},
                    {"max_thinking", bc->effective_max_thinking()},
                    {"max_thinking_auto", co.max_thinking == "auto"},
                    {"min_thinking", bc->min_thinking},
                    {"num_ignore", bc->num_ignore},
                    {"ignore_str", bc->ignore_str},
                    {"budget_mode", budget_mode_name(bc->mode)},
                    {"answer_limit", bc->answer_limit}};
    if (needs_prompt_n(method)) j["control"]["prompt_n"] = prompt_n;
  }
  j["sampling"] = {{"temperature", o.sampling.temperature}, {"top_k", o.sampling.top_k},
                   {"top_p", o.sampling.top_p}, {"min_p", o.sampling.min_p}, {"seed", o.sampling.seed}};

  ControlledRun main;  // the run whose fields head the record
  if (co.samples > 1 || co.vote) {
    SimpleAnswerExtractor extractor;
    VotedRuns v = sample_and_vote(*model, kv, *tok, prompt, gp, bc, co.samples, extractor, rejection_tries);
    nlohmann::json samples = nlohmann::json::array();
    for (size_t i = 0; i < v.samples.size(); ++i) {
      nlohmann::json s = sample_json(v.samples[i], &*tok);
      s["seed"] = o.sampling.seed + uint64_t(i) * 1000003u;
      s["extracted_answer"] = v.answers[i] ? nlohmann::json(*v.answers[i]) : nlohmann::json(nullptr);
      samples.push_back(std::move(s));
    }
    j["samples"] = samples;
    if (co.vote)
      j["vote"] = {{"answer", v.vote.answer}, {"count", v.vote.count}, {"sample", v.vote.first_index},
                   {"voters", v.vote.voters}, {"samples", co.samples}};
    main = v.samples[size_t(std::max(v.vote.first_index, 0))];
    if (!o.json) {
      for (size_t i = 0; i < v.samples.size(); ++i)
        std::printf("--- sample %zu (answer: %s)\n%s\n", i, v.answers[i] ? v.answers[i]->c_str() : "none",
                    samples[i]["text"].get<std::string>().c_str());
      if (co.vote) std::printf("--- vote: %s (%d of %d)\n", v.vote.answer.c_str(), v.vote.count, co.samples);
    }
  } else if (rejection_tries > 0) {
    RejectionRun rs = rejection_sample(*model, kv, *tok, prompt, gp, *budget, rejection_tries);
    main = rs.run;
    nlohmann::json attempts = nlohmann::json::array();
    for (const auto& a : rs.attempts)
      attempts.push_back({{"seed", a.seed}, {"thinking_tokens", a.thinking_tokens}, {"accepted", a.accepted},
                          {"stop_reason", a.stop_reason}});
    j["rejection"] = {{"accepted", rs.accepted}, {"attempts", attempts}};
    if (!o.json) std::printf("%s\n", sample_json(main, &*tok)["text"].get<std::string>().c_str());
  } else {
    std::optional<StreamDecoder> stream;
    if (tok && !o.json) stream.emplace(*tok);
    auto on_token = [&](int32_t id) {
      if (!stream) return;
      if (std::find(gp.stop_ids.begin(), gp.stop_ids.end(), id) != gp.stop_ids.end()) return;
      std::string piece = stream->push(id);
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    };
    if (!tok && !o.json) std::fprintf(stderr, "s1: no tokenizer: printing ids\n");
    if (bc) main = generate_controlled(*model, kv, *tok, prompt, gp, bc, on_token);
    else main.gen = generate(*model, kv, prompt, gp, nullptr, on_token);
    if (!o.json) {
      if (stream) {
        std::string rest = stream->flush();
        std::fwrite(rest.data(), 1, rest.size(), stdout);
        std::fputc('\n', stdout);
      } else {
        for (size_t i = 0; i < main.gen.output_ids.size(); ++i) std::printf("%s%d", i ? "," : "", main.gen.output_ids[i]);
        std::printf("\n");
      }
    }
  }

  const GenerateResult& r = main.gen;
  if (o.json) {
    j.update(sample_json(main, tok ? &*tok : nullptr));
    j["prompt_tokens"] = int64_t(prompt.size());
    j["prefill_seconds"] = r.prefill_seconds;
    j["decode_seconds"] = r.decode_seconds;
    j["prefill_tokens_per_s"] = r.prefill_tokens_per_s();
    j["decode_tokens_per_s"] = r.decode_tokens_per_s();
    print_json(j);
  } else {
    std::fflush(stdout);
    std::fprintf(stderr, "[prefill %lld tok at %.1f tok/s | decode %zu tok at %.1f tok/s | stop: %s]\n",
                 (long long)r.prefill_tokens, r.prefill_tokens_per_s(), r.output_ids.size(), r.decode_tokens_per_s(),
                 r.stop_reason.c_str());
    if (main.controlled)
      std::fprintf(stderr, "[thinking %lld tok%s, %zu ignored end%s | answer %lld tok]\n",
                   (long long)main.record.thinking_tokens(), main.record.forced_end ? " (ended by the budget)" : "",
                   main.record.ignores.size(), main.record.ignores.size() == 1 ? "" : "s",
                   (long long)main.record.answer_tokens());
  }
  return 0;
}

void add_control_options(CLI::App* c, GenerateOptions& o) {
  ControlOptions& k = o.control;
  const char* g = "Thinking control (s1 budget forcing)";
  std::vector<CLI::Option*> opts = {
      c->add_option("--max-thinking", k.max_thinking, "Thinking budget in tokens, or 'auto' (context - prompt - delimiters - 100)"),
      c->add_option("--min-thinking", k.min_thinking, "Suppress an end of thinking before this many tokens")->check(CLI::NonNegativeNumber),
      c->add_option("--num-ignore", k.num_ignore, "Suppress the end of thinking this many times (s1's Wait rounds)")->check(CLI::NonNegativeNumber),
      c->add_option("--ignore-str", k.ignore_str, "Appended at a suppressed end: Wait (default), Hmm, Alternatively, or none"),
      c->add_option("--end-str", k.end_str, "Forced when the budget ends thinking (s1: <|im_start|>answer\\nFinal Answer:)"),
      c->add_option("--budget-mode", k.budget_mode, "harness (the paper's numbers: Waits count, each round the whole budget) or readme (remaining budget shrinks)"),
      c->add_option("--control", k.method, "budget, token-prompt, step-prompt, class-long, class-short or rejection"),
      c->add_option("--control-n", k.control_n, "N of the token/step-conditional prompt (default: --max-thinking)"),
      c->add_option("--reject-tries", k.reject_tries, "Rejection sampling: attempts before falling back to budget forcing")->capture_default_str(),
      c->add_option("--family", k.family, "Thinking delimiters: s1, s1-steps, r1 or none (default: detected)"),
      c->add_option("--think-start", k.think_start, "Text that opens thinking (overrides the family's)"),
      c->add_option("--think-end", k.think_end, "Text that closes thinking (overrides the family's)"),
      c->add_option("--think-stop", k.think_stops, "Emitted during thinking = an attempt to end it (repeatable)"),
      c->add_flag("--no-force-start", k.no_force_start, "Let the model open the thinking block itself"),
      c->add_option("--samples", k.samples, "Independent samples (seeds seed + i*1000003)")->check(CLI::PositiveNumber),
      c->add_flag("--vote", k.vote, "Majority vote over the samples' extracted answers"),
      c->add_option("--end-bias", k.end_bias, "Testing: add this to the end-of-thinking logits"),
  };
  for (auto* opt : opts) opt->group(g);
  c->callback([c, &o, opts] {
    for (auto* opt : opts)
      if (opt->count() > 0 && opt->get_name() != "--samples" && opt->get_name() != "--vote") o.controlled = true;
  });
}

}  // namespace

void add_generate(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds) {
  auto o = std::make_shared<GenerateOptions>();
  CLI::App* c = app.add_subcommand("generate", "Generate text from a prompt (streams to stdout)");
  c->add_option("-m,--model", o->model, "Model: a Hugging Face folder or a .gguf file")->required();
  c->add_option("-p,--prompt", o->prompt, "Prompt text");
  c->add_option("--prompt-file", o->prompt_file, "Read the prompt from a file (- for stdin)");
  c->add_option("--prompt-ids", o->prompt_ids, "Prompt as token ids: 1,2,3 (no tokenizer needed)");
  c->add_option("--messages", o->messages_file, "Chat messages as JSON [{role, content}, ...]");
  c->add_flag("--chat", o->chat, "Wrap -p/--prompt-file as a user message in the chat template");
  c->add_option("--system", o->system, "System message (with --chat)");
  c->add_option("--chat-template", o->chat_template, "Override the template: 'chatml' or a .jinja file");
  c->add_option("--template-var", o->template_vars, "Template variable KEY=JSON (repeatable), e.g. enable_thinking=false");
  c->add_option("-n,--max-new", o->max_new, "Maximum new tokens (under thinking control: of the answer, and of thinking without --max-thinking)")->check(CLI::NonNegativeNumber)->capture_default_str();
  c->add_option("--temperature", o->sampling.temperature, "Sampling temperature (0 = greedy)")->check(CLI::NonNegativeNumber)->capture_default_str();
  c->add_option("--top-k", o->sampling.top_k, "Keep the k most likely tokens (0 = off)")->check(CLI::NonNegativeNumber);
  c->add_option("--top-p", o->sampling.top_p, "Nucleus sampling mass (1 = off)")->check(CLI::Range(0.0, 1.0));
  c->add_option("--min-p", o->sampling.min_p, "Drop tokens below min-p x the top probability")->check(CLI::Range(0.0, 1.0));
  c->add_option("--seed", o->sampling.seed, "Random seed (same seed, same output)")->capture_default_str();
  c->add_option("-t,--threads", o->threads, "CPU threads (default: all cores)")->check(CLI::NonNegativeNumber);
  c->add_option("--ctx", o->ctx, "Context size in tokens (default: prompt + max-new; the model's under thinking control)")->check(CLI::NonNegativeNumber);
  c->add_flag("--ignore-eos", o->ignore_eos, "Do not stop at end-of-sequence tokens");
  c->add_flag("--no-bos", o->no_bos, "Do not prepend BOS to a raw prompt");
  c->add_flag("--json", o->json, "Print one JSON record instead of streaming text");
  add_quant_option(c, o->quant);
  add_control_options(c, *o);
  cmds.emplace_back(c, [o] { return run_generate(*o); });
}

}  // namespace s1::cli
