// GGUF files as models: hyper-parameters from the metadata, tensors under the same
// (Hugging Face) names that bind_weights uses, the tokenizer and chat template of
// tokenizer.ggml.* / tokenizer.chat_template, and a writer (s1 convert).
//
// Name mapping (GGUF -> Hugging Face):
//   token_embd.weight          model.embed_tokens.weight
//   output_norm.weight         model.norm.weight
//   output.weight              lm_head.weight          (absent when tied)
//   blk.N.attn_norm.weight     model.layers.N.input_layernorm.weight
//   blk.N.attn_q|k|v.{weight,bias}  model.layers.N.self_attn.q|k|v_proj.{weight,bias}
//   blk.N.attn_output.{weight,bias} model.layers.N.self_attn.o_proj.{weight,bias}
//   blk.N.attn_q_norm|attn_k_norm.weight  model.layers.N.self_attn.q_norm|k_norm.weight (Qwen3)
//   blk.N.ffn_norm.weight      model.layers.N.post_attention_layernorm.weight
//   blk.N.ffn_gate|up|down.{weight,bias}  model.layers.N.mlp.gate|up|down_proj.{weight,bias}
//
// llama.cpp's converter permutes the rows of the Q and K weights of `llama`
// architecture models (the interleaved rotary layout of the original Llama code):
// within each head, HF row s * head_dim/2 + j is stored as row 2j + s. The loader
// undoes that (whole rows, so quantised blocks move intact); Qwen2/Qwen3 files are
// stored in the HF layout.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "formats/gguf.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace s1 {

std::string gguf_to_hf_name(const std::string& gguf_name);  // "" when not a model tensor
std::string hf_to_gguf_name(const std::string& hf_name);    // "" when not a model tensor

// The hyper-parameters of a GGUF model (general.architecture llama / qwen2 / qwen3).
ModelConfig gguf_model_config(const GgufFile& f);

// The tensors of a GGUF model under Hugging Face names (Q/K un-permuted for llama).
std::unique_ptr<TensorSource> gguf_tensor_source(std::shared_ptr<const GgufFile> f, const ModelConfig& cfg);

std::unique_ptr<Model> load_gguf_model(const std::string& path, std::shared_ptr<Backend> backend,
                                       const LoadOptions& opts = {});

// Tokenizer of a GGUF file (tokenizer.ggml.model "gpt2": byte-level BPE; pre-tokenizers
// qwen2, llama-bpe, smollm, gpt-2). False / throws s1::Error naming the file and key.
bool gguf_has_tokenizer(const GgufFile& f);
Tokenizer gguf_tokenizer(const GgufFile& f);
std::string gguf_chat_template(const GgufFile& f);  // "" when the file has none

// Writes `m` as a GGUF file. Matrices are stored as `matrix_type` (F32, F16, BF16 or a
// block format); a matrix whose columns are not a whole number of its blocks falls
// back to `fallback_type` (as llama.cpp does for K-quants: e.g. Q5_0 for Q4_K), and
// `overrides` can pick another type per tensor kind ("attn_v", "ffn_down",
// "token_embd", "output", ...). Norms and biases stay F32. When `meta_from` is a GGUF
// file, its tokenizer.* metadata is copied (re-quantising a GGUF keeps its vocabulary).
struct GgufExportOptions {
  DType matrix_type = DType::Q8_0;
  DType fallback_type = DType::Q8_0;
  std::vector<std::pair<std::string, DType>> overrides;  // tensor kind -> type
  std::string name;                                      // general.name
};
struct GgufExportStats {
  std::map<std::string, uint64_t> tensors_by_type;  // dtype name -> matrices
  std::map<std::string, uint64_t> bytes_by_type;
};
GgufExportStats write_gguf_model(const Model& m, const std::string& path, const GgufExportOptions& opts,
                                 const GgufFile* meta_from = nullptr, int threads = 1);

}  // namespace s1
