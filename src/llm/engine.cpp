#include "llm/engine.h"

#include <algorithm>
#include <filesystem>

#include "backend/backend.h"
#include "core/error.h"
#include "core/mapped_file.h"
#include "formats/gguf.h"
#include "model/gguf_model.h"

namespace s1::llm {

std::optional<Tokenizer> try_load_tokenizer(const std::string& model_path) {
  if (!std::filesystem::is_directory(model_path) &&
      (is_gguf_file(model_path) || std::filesystem::path(model_path).extension() == ".gguf")) {
    GgufFile f(model_path);
    if (!gguf_has_tokenizer(f)) return std::nullopt;
    return gguf_tokenizer(f);
  }
  if (!std::filesystem::is_directory(model_path)) return std::nullopt;
  if (!Tokenizer::hf_folder_has_tokenizer(model_path)) return std::nullopt;
  return Tokenizer::from_hf_folder(model_path);
}

Tokenizer load_tokenizer(const std::string& model_path) {
  if (!std::filesystem::exists(model_path)) fail(model_path, ": no such file or folder");
  auto t = try_load_tokenizer(model_path);
  if (!t)
    fail(model_path, ": no tokenizer here (need tokenizer.json, or vocab.json + merges.txt, or a .gguf with tokenizer.ggml.*); use --prompt-ids to run without one");
  return std::move(*t);
}

ChatTemplate load_chat_template(const std::string& model_path, const Tokenizer* tok, const std::string& spec) {
  std::string bos = tok ? tok->bos_token() : "", eos = tok ? tok->eos_token() : "";
  if (spec == "chatml") return ChatTemplate(ChatTemplate::chatml_source(), bos, eos);
  if (!spec.empty()) return ChatTemplate(read_text_file(spec), bos, eos);
  std::string src = std::filesystem::is_directory(model_path) ? find_chat_template(model_path)
                    : is_gguf_file(model_path)                   ? gguf_chat_template(GgufFile(model_path))
                                                                 : "";
  if (src.empty())
    fail(model_path, ": no chat template (chat_template.jinja, tokenizer_config.json or a GGUF's tokenizer.chat_template); pass --chat-template chatml or a .jinja file");
  return ChatTemplate(src, bos, eos);
}

std::vector<int32_t> stop_ids(const ModelConfig& cfg, const Tokenizer* tok) {
  std::vector<int32_t> ids = cfg.eos_ids;
  if (tok)
    if (auto e = tok->token_id(tok->eos_token()))
      if (std::find(ids.begin(), ids.end(), *e) == ids.end()) ids.push_back(*e);
  return ids;
}

Engine Engine::open(const std::string& path, const EngineOptions& opts) {
  LoadOptions lo;
  if (opts.quant == "q8_0") lo.quantize = DType::Q8_0;
  else if (!opts.quant.empty() && opts.quant != "none") fail("unknown quantisation '", opts.quant, "' (q8_0 or none)");
  auto model = Model::load(path, make_cpu_backend(opts.threads), lo);
  Tokenizer tok = load_tokenizer(path);
  ChatTemplate tmpl = load_chat_template(path, &tok, opts.chat_template);
  std::vector<int32_t> stops = llm::stop_ids(model->config(), &tok);
  int64_t valid = std::min<int64_t>(tok.vocab_size(), model->config().vocab_size);
  return Engine{std::move(model), std::move(tok), std::move(tmpl), std::move(stops), valid};
}

}  // namespace s1::llm
