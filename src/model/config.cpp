#include "model/config.h"

#include "core/error.h"

namespace s1 {

const char* arch_name(Arch a) {
  switch (a) {
    case Arch::Qwen2: return "qwen2";
    case Arch::Qwen3: return "qwen3";
    case Arch::Llama: return "llama";
  }
  return "?";
}

namespace {

int64_t need_int(const nlohmann::json& j, const char* key, const std::string& what) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) fail(what, ": missing \"", key, "\"");
  if (!it->is_number_integer()) fail(what, ": \"", key, "\" must be an integer");
  int64_t v = it->get<int64_t>();
  if (v <= 0) fail(what, ": \"", key, "\" must be positive, got ", v);
  return v;
}

template <typename T>
T get_or(const nlohmann::json& j, const char* key, T def) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  return it->get<T>();
}

void add_ids(std::vector<int32_t>& out, const nlohmann::json& v) {
  auto add = [&](int32_t id) {
    for (int32_t x : out)
      if (x == id) return;
    out.push_back(id);
  };
  if (v.is_number_integer()) add(v.get<int32_t>());
  else if (v.is_array())
    for (const auto& x : v)
      if (x.is_number_integer()) add(x.get<int32_t>());
}

RopeConfig parse_rope(const nlohmann::json& j, const std::string& what) {
  RopeConfig r;
  // transformers 5 folds theta and scaling into rope_parameters; hub configs keep them apart.
  nlohmann::json p = j.contains("rope_parameters") && j["rope_parameters"].is_object() ? j["rope_parameters"]
                     : j.contains("rope_scaling") && j["rope_scaling"].is_object()     ? j["rope_scaling"]
                                                                                        : nlohmann::json::object();
  r.theta = get_or<double>(p, "rope_theta", get_or<double>(j, "rope_theta", 10000.0));
  std::string type = get_or<std::string>(p, "rope_type", get_or<std::string>(p, "type", "default"));
  if (type == "default") {
    r.type = RopeType::Default;
  } else if (type == "linear") {
    r.type = RopeType::Linear;
    r.factor = get_or<double>(p, "factor", 1.0);
  } else if (type == "llama3") {
    r.type = RopeType::Llama3;
    r.factor = get_or<double>(p, "factor", 8.0);
    r.low_freq_factor = get_or<double>(p, "low_freq_factor", 1.0);
    r.high_freq_factor = get_or<double>(p, "high_freq_factor", 4.0);
    r.original_max_position = get_or<int64_t>(p, "original_max_position_embeddings", 8192);
    if (r.high_freq_factor <= r.low_freq_factor) fail(what, ": llama3 rope needs high_freq_factor > low_freq_factor");
  } else {
    fail(what, ": rope type \"", type, "\" is not supported (supported: default, linear, llama3)");
  }
  if (!(r.theta > 0)) fail(what, ": rope_theta must be positive");
  if (!(r.factor > 0)) fail(what, ": rope scaling factor must be positive");
  return r;
}

}  // namespace

ModelConfig parse_hf_config(const nlohmann::json& j, const std::string& what) {
  if (!j.is_object()) fail(what, ": not a JSON object");
  ModelConfig c;
  std::string model_type = get_or<std::string>(j, "model_type", "");
  std::string archname;
  if (j.contains("architectures") && j["architectures"].is_array() && !j["architectures"].empty() &&
      j["architectures"][0].is_string())
    archname = j["architectures"][0].get<std::string>();
  c.architecture_name = archname.empty() ? model_type : archname;
  if (archname == "Qwen2ForCausalLM" || (archname.empty() && model_type == "qwen2")) c.arch = Arch::Qwen2;
  else if (archname == "Qwen3ForCausalLM" || (archname.empty() && model_type == "qwen3")) c.arch = Arch::Qwen3;
  else if (archname == "LlamaForCausalLM" || (archname.empty() && model_type == "llama")) c.arch = Arch::Llama;
  else
    fail(what, ": architecture \"", c.architecture_name,
         "\" is not supported (supported: Qwen2ForCausalLM, Qwen3ForCausalLM, LlamaForCausalLM)");

  try {
    c.vocab_size = need_int(j, "vocab_size", what);
    c.hidden = need_int(j, "hidden_size", what);
    c.intermediate = need_int(j, "intermediate_size", what);
    c.layers = need_int(j, "num_hidden_layers", what);
    c.heads = need_int(j, "num_attention_heads", what);
    c.kv_heads = j.contains("num_key_value_heads") && !j["num_key_value_heads"].is_null()
                     ? need_int(j, "num_key_value_heads", what)
                     : c.heads;
    c.head_dim = j.contains("head_dim") && !j["head_dim"].is_null() ? need_int(j, "head_dim", what)
                                                                    : c.hidden / c.heads;
    c.max_position = get_or<int64_t>(j, "max_position_embeddings", 4096);
    c.rms_eps = get_or<double>(j, "rms_norm_eps", 1e-6);
    c.tied_embeddings = get_or<bool>(j, "tie_word_embeddings", false);
    bool attention_bias = get_or<bool>(j, "attention_bias", false);
    c.qkv_bias = c.arch == Arch::Qwen2 || attention_bias;
    c.o_bias = c.arch == Arch::Llama && attention_bias;
    c.mlp_bias = c.arch == Arch::Llama && get_or<bool>(j, "mlp_bias", false);
    c.qk_norm = c.arch == Arch::Qwen3;
    c.rope = parse_rope(j, what);
    if (j.contains("bos_token_id") && j["bos_token_id"].is_number_integer()) c.bos_id = j["bos_token_id"].get<int32_t>();
    if (j.contains("eos_token_id")) add_ids(c.eos_ids, j["eos_token_id"]);
    std::string act = get_or<std::string>(j, "hidden_act", "silu");
    if (act != "silu") fail(what, ": hidden_act \"", act, "\" is not supported (only silu)");
  } catch (const nlohmann::json::exception& e) {
    fail(what, ": a field has the wrong type: ", e.what());
  }
  if (c.heads % c.kv_heads != 0) fail(what, ": num_attention_heads ", c.heads, " is not a multiple of num_key_value_heads ", c.kv_heads);
  if (c.head_dim % 2 != 0) fail(what, ": head_dim ", c.head_dim, " must be even for rotary embeddings");
  if (c.hidden > (1 << 20) || c.intermediate > (1 << 22) || c.layers > 4096 || c.vocab_size > (1 << 24) ||
      c.heads > 4096 || c.head_dim > 4096)
    fail(what, ": implausible sizes (hidden ", c.hidden, ", layers ", c.layers, ", vocab ", c.vocab_size, ")");
  return c;
}

void merge_generation_config(ModelConfig& c, const nlohmann::json& j) {
  if (!j.is_object()) return;
  if (j.contains("eos_token_id")) add_ids(c.eos_ids, j["eos_token_id"]);
  if (c.bos_id < 0 && j.contains("bos_token_id") && j["bos_token_id"].is_number_integer())
    c.bos_id = j["bos_token_id"].get<int32_t>();
}

}  // namespace s1
