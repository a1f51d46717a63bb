// ModelConfig: the hyper-parameters of one decoder-only transformer, whatever file
// they came from (config.json of a Hugging Face folder, or GGUF metadata).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace s1 {

enum class Arch { Qwen2, Qwen3, Llama };
const char* arch_name(Arch a);

enum class RopeType { Default, Linear, Llama3 };

struct RopeConfig {
  RopeType type = RopeType::Default;
  double theta = 10000.0;
  double factor = 1.0;            // linear, llama3
  double low_freq_factor = 1.0;   // llama3
  double high_freq_factor = 4.0;  // llama3
  int64_t original_max_position = 8192;  // llama3
};

struct ModelConfig {
  Arch arch = Arch::Llama;
  std::string architecture_name;  // as the file named it, e.g. "Qwen2ForCausalLM"
  int64_t vocab_size = 0;         // rows of the embedding table (may exceed the tokenizer's)
  int64_t hidden = 0;
  int64_t intermediate = 0;
  int64_t layers = 0;
  int64_t heads = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
  int64_t max_position = 0;
  double rms_eps = 1e-6;
  RopeConfig rope;
  bool tied_embeddings = false;
  bool qkv_bias = false;   // Qwen2 always; Llama/Qwen3 when attention_bias
  bool o_bias = false;     // Llama attention_bias also biases o_proj
  bool mlp_bias = false;   // Llama mlp_bias
  bool qk_norm = false;    // Qwen3
  std::vector<int32_t> eos_ids;  // config.json + generation_config.json, merged
  int32_t bos_id = -1;

  int64_t q_dim() const { return heads * head_dim; }
  int64_t kv_dim() const { return kv_heads * head_dim; }
};

// Parses a Hugging Face config.json (already read); `what` names the file in errors.
// Accepts both rope forms: rope_theta/rope_scaling (hub) and rope_parameters (transformers 5).
ModelConfig parse_hf_config(const nlohmann::json& j, const std::string& what);

// Adds eos ids from generation_config.json (an int or a list) when present.
void merge_generation_config(ModelConfig& c, const nlohmann::json& j);

}  // namespace s1
