// A model opened for use by a library caller: weights, tokenizer, chat template and the
// ids that end a generation, loaded from one path the way `s1 generate` does. The local
// LLM client, the evaluation and the server all start from here.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace s1::llm {

// The tokenizer of a HF folder or a .gguf file; nullopt when it has none.
std::optional<Tokenizer> try_load_tokenizer(const std::string& model_path);
// Same, but a missing tokenizer is an error naming the path.
Tokenizer load_tokenizer(const std::string& model_path);
// The chat template: `override_spec` is "" (the model's), "chatml", or a path to a .jinja file.
ChatTemplate load_chat_template(const std::string& model_path, const Tokenizer* tok, const std::string& override_spec);

// The model's end-of-sequence ids (config.json + generation_config.json) plus the
// tokenizer's eos token.
std::vector<int32_t> stop_ids(const ModelConfig& cfg, const Tokenizer* tok);

struct EngineOptions {
  int threads = 0;               // 0: all cores
  std::string chat_template;     // "" (the model's), "chatml", or a .jinja path
  std::string quant;             // "" / "none" or "q8_0"
};

struct Engine {
  std::unique_ptr<Model> model;
  Tokenizer tokenizer;
  ChatTemplate chat_template;
  std::vector<int32_t> stop_ids;
  int64_t valid_vocab = 0;  // ids the tokenizer knows (padded embedding rows excluded)

  // Throws s1::Error naming what is missing (weights, tokenizer, template).
  static Engine open(const std::string& path, const EngineOptions& opts = {});
};

}  // namespace s1::llm
