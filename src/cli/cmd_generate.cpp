// s1 generate: prompt -> tokens -> the decoding loop -> streamed text or one JSON record.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli/common.h"
#include "core/error.h"
#include "decode/generator.h"

namespace s1::cli {
namespace {

struct GenerateOptions {
  std::string model, prompt, prompt_file, prompt_ids, messages_file, system, chat_template;
  std::vector<std::string> template_vars;
  std::string quant;
  bool chat = false, json = false, ignore_eos = false, no_bos = false;
  int64_t max_new = 256, ctx = 0;
  int threads = 0;
  SamplingParams sampling{0.0f, 0, 1.0f, 0.0f, 0};
};

// The prompt as ids, following the same rules as transformers: a chat prompt is the
// rendered template tokenized with its special tokens and no extra BOS; a raw prompt
// gets the BOS the tokenizer config asks for.
std::vector<int32_t> build_prompt(const GenerateOptions& o, const Tokenizer* tok) {
  int sources = !o.prompt.empty() + !o.prompt_file.empty() + !o.prompt_ids.empty() + !o.messages_file.empty();
  if (sources != 1) fail("give exactly one of -p, --prompt-file, --prompt-ids, --messages");
  if (!o.prompt_ids.empty()) {
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
  } else if (o.chat) {
    std::string text = o.prompt.empty() ? read_input(o.prompt_file) : o.prompt;
    messages = nlohmann::json::array();
    if (!o.system.empty()) messages.push_back({{"role", "system"}, {"content", o.system}});
    messages.push_back({{"role", "user"}, {"content", text}});
  }
  if (!messages.is_null()) {
    ChatTemplate tmpl = load_chat_template(o.model, tok, o.chat_template);
    return tok->encode(tmpl.apply(messages, true, parse_template_vars(o.template_vars)));
  }
  std::string text = o.prompt.empty() ? read_input(o.prompt_file) : o.prompt;
  std::vector<int32_t> ids;
  if (tok->add_bos() && !o.no_bos) {
    if (auto b = tok->token_id(tok->bos_token())) ids.push_back(*b);
  }
  auto body = tok->encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  if (ids.empty()) fail("the prompt is empty");
  return ids;
}

int run_generate(const GenerateOptions& o) {
  auto model = Model::load(o.model, make_cpu_backend(o.threads), load_options(o.quant));
  const ModelConfig& cfg = model->config();
  std::optional<Tokenizer> tok = try_load_tokenizer(o.model);
  std::vector<int32_t> prompt = build_prompt(o, tok ? &*tok : nullptr);

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

  int64_t ctx = o.ctx > 0 ? o.ctx : std::min<int64_t>(cfg.max_position, int64_t(prompt.size()) + o.max_new);
  ctx = std::max<int64_t>(ctx, 1);
  KVCache kv(*model, ctx);

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
  GenerateResult r = generate(*model, kv, prompt, gp, nullptr, on_token);

  std::vector<int32_t> text_ids = r.output_ids;
  if (r.stop_reason == "eos" && !text_ids.empty()) text_ids.pop_back();
  if (o.json) {
    nlohmann::json j;
    j["model"] = o.model;
    j["prompt_ids"] = prompt;
    j["output_ids"] = r.output_ids;
    j["text"] = tok ? tok->decode(text_ids) : "";
    j["stop_reason"] = r.stop_reason;
    j["prompt_tokens"] = r.prefill_tokens;
    j["output_tokens"] = r.output_ids.size();
    j["prefill_seconds"] = r.prefill_seconds;
    j["decode_seconds"] = r.decode_seconds;
    j["prefill_tokens_per_s"] = r.prefill_tokens_per_s();
    j["decode_tokens_per_s"] = r.decode_tokens_per_s();
    j["sampling"] = {{"temperature", o.sampling.temperature}, {"top_k", o.sampling.top_k},
                     {"top_p", o.sampling.top_p}, {"min_p", o.sampling.min_p}, {"seed", o.sampling.seed}};
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    if (stream) {
      std::string rest = stream->flush();
      std::fwrite(rest.data(), 1, rest.size(), stdout);
      std::fputc('\n', stdout);
    } else {
      for (size_t i = 0; i < r.output_ids.size(); ++i) std::printf("%s%d", i ? "," : "", r.output_ids[i]);
      std::printf("\n");
    }
    std::fflush(stdout);
    std::fprintf(stderr, "[prefill %lld tok at %.1f tok/s | decode %zu tok at %.1f tok/s | stop: %s]\n",
                 (long long)r.prefill_tokens, r.prefill_tokens_per_s(), r.output_ids.size(), r.decode_tokens_per_s(),
                 r.stop_reason.c_str());
  }
  return 0;
}

}  // namespace

void add_generate(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds) {
  auto o = std::make_shared<GenerateOptions>();
  CLI::App* c = app.add_subcommand("generate", "Generate text from a prompt (streams to stdout)");
  c->add_option("-m,--model", o->model, "Model folder (Hugging Face layout)")->required();
  c->add_option("-p,--prompt", o->prompt, "Prompt text");
  c->add_option("--prompt-file", o->prompt_file, "Read the prompt from a file (- for stdin)");
  c->add_option("--prompt-ids", o->prompt_ids, "Prompt as token ids: 1,2,3 (no tokenizer needed)");
  c->add_option("--messages", o->messages_file, "Chat messages as JSON [{role, content}, ...]");
  c->add_flag("--chat", o->chat, "Wrap -p/--prompt-file as a user message in the chat template");
  c->add_option("--system", o->system, "System message (with --chat)");
  c->add_option("--chat-template", o->chat_template, "Override the template: 'chatml' or a .jinja file");
  c->add_option("--template-var", o->template_vars, "Template variable KEY=JSON (repeatable), e.g. enable_thinking=false");
  c->add_option("-n,--max-new", o->max_new, "Maximum new tokens")->check(CLI::NonNegativeNumber)->capture_default_str();
  c->add_option("--temperature", o->sampling.temperature, "Sampling temperature (0 = greedy)")->check(CLI::NonNegativeNumber)->capture_default_str();
  c->add_option("--top-k", o->sampling.top_k, "Keep the k most likely tokens (0 = off)")->check(CLI::NonNegativeNumber);
  c->add_option("--top-p", o->sampling.top_p, "Nucleus sampling mass (1 = off)")->check(CLI::Range(0.0, 1.0));
  c->add_option("--min-p", o->sampling.min_p, "Drop tokens below min-p x the top probability")->check(CLI::Range(0.0, 1.0));
  c->add_option("--seed", o->sampling.seed, "Random seed (same seed, same output)")->capture_default_str();
  c->add_option("-t,--threads", o->threads, "CPU threads (default: all cores)")->check(CLI::NonNegativeNumber);
  c->add_option("--ctx", o->ctx, "Context size in tokens (default: prompt + max-new)")->check(CLI::NonNegativeNumber);
  c->add_flag("--ignore-eos", o->ignore_eos, "Do not stop at end-of-sequence tokens");
  c->add_flag("--no-bos", o->no_bos, "Do not prepend BOS to a raw prompt");
  c->add_flag("--json", o->json, "Print one JSON record instead of streaming text");
  add_quant_option(c, o->quant);
  cmds.emplace_back(c, [o] { return run_generate(*o); });
}

}  // namespace s1::cli
