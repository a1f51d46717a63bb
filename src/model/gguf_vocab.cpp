// The tokenizer and chat template stored in a GGUF file's metadata:
//   tokenizer.ggml.model        "gpt2" (byte-level BPE; SentencePiece "llama" is not supported)
//   tokenizer.ggml.pre          which pre-tokenizer: qwen2, llama-bpe, smollm, gpt-2
//   tokenizer.ggml.tokens       id -> byte-level token text
//   tokenizer.ggml.token_type   1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
//   tokenizer.ggml.merges       "a b" merge rules, by rank
//   tokenizer.ggml.{bos,eos,padding}_token_id, tokenizer.ggml.add_bos_token
//   tokenizer.chat_template     the Jinja chat template
#include <map>

#include "core/error.h"
#include "model/gguf_model.h"

namespace s1 {

namespace {

PreTokenizer pre_tokenizer(const GgufFile& f, const std::string& pre) {
  static const std::map<std::string, PreTokenizer> kPre = {
      {"qwen2", PreTokenizer::Qwen2},   {"deepseek-r1-qwen", PreTokenizer::Qwen2}, {"llama-bpe", PreTokenizer::Llama3},
      {"llama3", PreTokenizer::Llama3}, {"gpt-2", PreTokenizer::Gpt2},            {"gpt2", PreTokenizer::Gpt2},
      {"smollm", PreTokenizer::SmolLM},
  };
  auto it = kPre.find(pre);
  if (it == kPre.end())
    fail(f.path(), ": tokenizer.ggml.pre \"", pre,
         "\" is not supported (supported: qwen2, deepseek-r1-qwen, llama-bpe, smollm, gpt-2)");
  return it->second;
}

}  // namespace

bool gguf_has_tokenizer(const GgufFile& f) { return f.find("tokenizer.ggml.tokens") != nullptr; }

Tokenizer gguf_tokenizer(const GgufFile& f) {
  const std::string what = f.path();
  const std::string model = f.get_string("tokenizer.ggml.model").value_or("");
  if (model != "gpt2")
    fail(what, ": tokenizer.ggml.model \"", model,
         "\" is not supported (s1 reads byte-level BPE vocabularies, tokenizer.ggml.model = gpt2)");
  auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  if (!tokens || tokens->empty()) fail(what, ": no tokenizer.ggml.tokens");
  auto merges = f.get_string_array("tokenizer.ggml.merges").value_or(std::vector<std::string>{});
  const PreTokenizer pre = pre_tokenizer(f, f.get_string("tokenizer.ggml.pre").value_or("default"));

  std::vector<int32_t> specials;
  if (auto types = f.get_int_array("tokenizer.ggml.token_type")) {
    if (types->size() != tokens->size())
      fail(what, ": tokenizer.ggml.token_type has ", types->size(), " entries for ", tokens->size(), " tokens");
    for (size_t i = 0; i < types->size(); ++i)
      if ((*types)[i] == 3 || (*types)[i] == 4) specials.push_back(int32_t(i));  // control, user-defined
  }
  VocabSpecials sp;
  auto text_of = [&](const char* key) -> std::string {
    auto id = f.get_int(key);
    if (!id) return "";
    if (*id < 0 || *id >= int64_t(tokens->size()))
      fail(what, ": ", key, " ", *id, " is outside the vocabulary (", tokens->size(), " tokens)");
    return (*tokens)[size_t(*id)];
  };
  sp.bos = text_of("tokenizer.ggml.bos_token_id");
  sp.eos = text_of("tokenizer.ggml.eos_token_id");
  sp.pad = text_of("tokenizer.ggml.padding_token_id");
  sp.add_bos = f.get_bool("tokenizer.ggml.add_bos_token").value_or(false);
  try {
    return Tokenizer::from_vocab(std::move(*tokens), merges, specials, pre, sp);
  } catch (const Error& e) {
    fail(what, ": ", e.what());
  }
}

std::string gguf_chat_template(const GgufFile& f) { return f.get_string("tokenizer.chat_template").value_or(""); }

}  // namespace s1
