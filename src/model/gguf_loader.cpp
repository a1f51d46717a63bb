// Loading a GGUF model: config from metadata, tensors renamed to the Hugging Face
// names bind_weights knows, Q/K rows of llama files un-permuted (see gguf_model.h).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/gguf_model.h"

namespace s1 {

namespace {

struct NamePair {
  const char* gguf;
  const char* hf;
};
// Per-layer tensors: "blk.N." + gguf  <->  "model.layers.N." + hf
constexpr NamePair kLayerNames[] = {
    {"attn_norm.weight", "input_layernorm.weight"},
    {"attn_q.weight", "self_attn.q_proj.weight"},
    {"attn_k.weight", "self_attn.k_proj.weight"},
    {"attn_v.weight", "self_attn.v_proj.weight"},
    {"attn_q.bias", "self_attn.q_proj.bias"},
    {"attn_k.bias", "self_attn.k_proj.bias"},
    {"attn_v.bias", "self_attn.v_proj.bias"},
    {"attn_output.weight", "self_attn.o_proj.weight"},
    {"attn_output.bias", "self_attn.o_proj.bias"},
    {"attn_q_norm.weight", "self_attn.q_norm.weight"},
    {"attn_k_norm.weight", "self_attn.k_norm.weight"},
    {"ffn_norm.weight", "post_attention_layernorm.weight"},
    {"ffn_gate.weight", "mlp.gate_proj.weight"},
    {"ffn_up.weight", "mlp.up_proj.weight"},
    {"ffn_down.weight", "mlp.down_proj.weight"},
    {"ffn_gate.bias", "mlp.gate_proj.bias"},
    {"ffn_up.bias", "mlp.up_proj.bias"},
    {"ffn_down.bias", "mlp.down_proj.bias"},
};
constexpr NamePair kGlobalNames[] = {
    {"token_embd.weight", "model.embed_tokens.weight"},
    {"output_norm.weight", "model.norm.weight"},
    {"output.weight", "lm_head.weight"},
};

// "PREFIX<digits>.REST" -> (layer, REST); false otherwise.
bool split_layer(const std::string& name, const std::string& prefix, int64_t* layer, std::string* rest) {
  if (name.compare(0, prefix.size(), prefix) != 0) return false;
  size_t i = prefix.size(), j = i;
  while (j < name.size() && j - i < 6 && name[j] >= '0' && name[j] <= '9') ++j;
  if (j == i || j >= name.size() || name[j] != '.') return false;
  *layer = std::stoll(name.substr(i, j - i));
  *rest = name.substr(j + 1);
  return true;
}

class GgufSource final : public TensorSource {
 public:
  GgufSource(std::shared_ptr<const GgufFile> f, const ModelConfig& cfg) : f_(std::move(f)) {
    const bool permuted = cfg.arch == Arch::Llama;
    for (const auto& t : f_->tensors()) {
      std::string hf = gguf_to_hf_name(t.name);
      const std::string key = hf.empty() ? t.name : hf;
      Tensor x{t.dtype, t.shape, t.data, t.nbytes, f_->path()};
      int64_t layer;
      std::string rest;
      if (permuted && !x.shape.empty() && split_layer(t.name, "blk.", &layer, &rest) &&
          (rest == "attn_q.weight" || rest == "attn_k.weight" || rest == "attn_q.bias" || rest == "attn_k.bias"))
        unpermute(x, t.name, rest.compare(0, 6, "attn_q") == 0 ? cfg.heads : cfg.kv_heads);
      by_name_[key] = std::move(x);
    }
  }

 private:
  // Row 2j + s of head h (as stored) is row s * half + j of head h in the HF layout.
  void unpermute(Tensor& x, const std::string& name, int64_t heads) {
    const int64_t rows = x.shape[0];
    if (heads <= 0 || rows % heads != 0 || (rows / heads) % 2 != 0)
      fail(x.file, ": tensor '", name, "' has ", rows, " rows, which do not split into ", heads, " heads of even size");
    const size_t row_bytes = x.nbytes / size_t(rows);
    const int64_t hd = rows / heads, half = hd / 2;
    auto buf = std::make_unique<uint8_t[]>(x.nbytes);
    const auto* src = static_cast<const uint8_t*>(x.data);
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t j = 0; j < half; ++j)
        for (int64_t s = 0; s < 2; ++s)
          std::memcpy(buf.get() + size_t(h * hd + s * half + j) * row_bytes, src + size_t(h * hd + 2 * j + s) * row_bytes,
                      row_bytes);
    x.data = buf.get();
    owned_.push_back(std::move(buf));
  }

  std::shared_ptr<const GgufFile> f_;
  std::vector<std::unique_ptr<uint8_t[]>> owned_;
};

// llama.cpp stores Llama 3.1+ rope scaling as a `rope_freqs` tensor of per-frequency
// divisors rather than as metadata. Recover the llama3 parameters from it: the largest
// divisor is `factor`; the low/high frequency factors and the original context are the
// published Llama 3.x values (1, 4, 8192) unless the file says otherwise (s1 convert
// writes rope.scaling.original_context_length and rope.scaling.{low,high}_freq_factor);
// the result is checked against every entry.
RopeConfig llama3_rope_from_freqs(const GgufFile& f, const TensorInfo& t, int64_t head_dim, double theta,
                                  const std::string& A) {
  const int64_t orig_ctx = f.get_int(A + "rope.scaling.original_context_length").value_or(8192);
  const double low = f.get_float(A + "rope.scaling.low_freq_factor").value_or(1.0);
  const double high = f.get_float(A + "rope.scaling.high_freq_factor").value_or(4.0);
  if (t.dtype != DType::F32 || t.shape.size() != 1 || t.shape[0] != head_dim / 2)
    fail(f.path(), ": tensor 'rope_freqs.weight' must be F32 [", head_dim / 2, "]");
  std::vector<float> v(size_t(head_dim / 2));
  std::memcpy(v.data(), t.data, v.size() * 4);
  double factor = 1;
  for (float x : v) {
    if (!(x > 0) || !std::isfinite(x)) fail(f.path(), ": rope_freqs.weight holds ", x, " (must be positive)");
    factor = std::max(factor, double(x));
  }
  if (!(high > low) || !(low > 0) || orig_ctx <= 0) fail(f.path(), ": implausible llama3 rope scaling metadata");
  RopeConfig r;
  r.type = RopeType::Llama3;
  r.theta = theta;
  r.factor = factor;
  r.low_freq_factor = low;
  r.high_freq_factor = high;
  r.original_max_position = orig_ctx;
  RopeConfig plain;
  plain.theta = theta;
  auto scaled = rope_inv_freq(r, head_dim), base = rope_inv_freq(plain, head_dim);
  for (size_t i = 0; i < v.size(); ++i)
    if (std::fabs(base[i] / scaled[i] - double(v[i])) > 1e-3 * double(v[i]))
      fail(f.path(), ": rope_freqs.weight is not llama3 scaling with factor ", factor, " (low ", low, ", high ", high,
           ", original context ", orig_ctx, "); other rope frequency tables are not supported");
  return r;
}

}  // namespace

std::string gguf_to_hf_name(const std::string& g) {
  for (const auto& p : kGlobalNames)
    if (g == p.gguf) return p.hf;
  int64_t layer;
  std::string rest;
  if (!split_layer(g, "blk.", &layer, &rest)) return "";
  for (const auto& p : kLayerNames)
    if (rest == p.gguf) return "model.layers." + std::to_string(layer) + "." + p.hf;
  return "";
}

std::string hf_to_gguf_name(const std::string& h) {
  for (const auto& p : kGlobalNames)
    if (h == p.hf) return p.gguf;
  int64_t layer;
  std::string rest;
  if (!split_layer(h, "model.layers.", &layer, &rest)) return "";
  for (const auto& p : kLayerNames)
    if (rest == p.hf) return "blk." + std::to_string(layer) + "." + p.gguf;
  return "";
}

ModelConfig gguf_model_config(const GgufFile& f) {
  const std::string what = f.path();
  auto arch = f.get_string("general.architecture");
  if (!arch) fail(what, ": no general.architecture (a vocabulary-only GGUF file is not a model)");
  static const std::map<std::string, std::string> kArch = {
      {"llama", "LlamaForCausalLM"}, {"qwen2", "Qwen2ForCausalLM"}, {"qwen3", "Qwen3ForCausalLM"}};
  auto ai = kArch.find(*arch);
  if (ai == kArch.end())
    fail(what, ": GGUF architecture \"", *arch, "\" is not supported (supported: llama, qwen2, qwen3)");
  const std::string A = *arch + ".";
  auto need = [&](const std::string& key) {
    auto v = f.get_int(A + key);
    if (!v) fail(what, ": missing metadata '", A + key, "'");
    return *v;
  };
  const TensorInfo* embd = f.find_tensor("token_embd.weight");
  if (!embd) fail(what, ": no token_embd.weight tensor");
  if (embd->shape.size() != 2) fail(what, ": token_embd.weight must be a matrix");

  // Built as a config.json and parsed by the same code, so that GGUF and Hugging Face
  // models share every check of parse_hf_config.
  nlohmann::json j;
  j["architectures"] = {ai->second};
  j["model_type"] = *arch;
  j["vocab_size"] = embd->shape[0];
  j["hidden_size"] = need("embedding_length");
  j["intermediate_size"] = need("feed_forward_length");
  j["num_hidden_layers"] = need("block_count");
  j["num_attention_heads"] = need("attention.head_count");
  if (auto kv = f.get_int(A + "attention.head_count_kv")) j["num_key_value_heads"] = *kv;
  if (auto hd = f.get_int(A + "attention.key_length")) {
    j["head_dim"] = *hd;
    if (auto vl = f.get_int(A + "attention.value_length"); vl && *vl != *hd)
      fail(what, ": attention.value_length ", *vl, " differs from key_length ", *hd, " (not supported)");
  }
  j["max_position_embeddings"] = f.get_int(A + "context_length").value_or(4096);
  j["rms_norm_eps"] = f.get_float(A + "attention.layer_norm_rms_epsilon").value_or(1e-6);
  const double theta = f.get_float(A + "rope.freq_base").value_or(10000.0);
  j["rope_theta"] = theta;
  j["tie_word_embeddings"] = f.find_tensor("output.weight") == nullptr;
  j["attention_bias"] = *arch != "qwen2" && f.find_tensor("blk.0.attn_q.bias") != nullptr;
  j["mlp_bias"] = f.find_tensor("blk.0.ffn_gate.bias") != nullptr;
  if (auto b = f.get_int("tokenizer.ggml.bos_token_id")) j["bos_token_id"] = *b;
  nlohmann::json eos = nlohmann::json::array();
  for (const char* k : {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"})
    if (auto e = f.get_int(k)) eos.push_back(*e);
  j["eos_token_id"] = eos;

  const std::string scaling = f.get_string(A + "rope.scaling.type").value_or("none");
  if (scaling == "linear")
    j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", f.get_float(A + "rope.scaling.factor").value_or(1.0)}};
  else if (scaling != "none")
    fail(what, ": rope scaling \"", scaling, "\" is not supported (supported: none, linear, llama3 via rope_freqs)");
  // Sizes are validated here, before anything below divides by or allocates with them.
  ModelConfig c = parse_hf_config(j, what);
  c.architecture_name = *arch;
  if (auto rd = f.get_int(A + "rope.dimension_count"); rd && *rd != c.head_dim)
    fail(what, ": rope.dimension_count ", *rd, " is not the head size ", c.head_dim, " (partial rotary is not supported)");
  if (const TensorInfo* rf = f.find_tensor("rope_freqs.weight"))
    c.rope = llama3_rope_from_freqs(f, *rf, c.head_dim, c.rope.theta, A);
  return c;
}

std::unique_ptr<TensorSource> gguf_tensor_source(std::shared_ptr<const GgufFile> f, const ModelConfig& cfg) {
  return std::make_unique<GgufSource>(std::move(f), cfg);
}

std::unique_ptr<Model> load_gguf_model(const std::string& path, std::shared_ptr<Backend> backend,
                                       const LoadOptions& opts) {
  auto f = std::make_shared<const GgufFile>(path);
  ModelConfig cfg = gguf_model_config(*f);
  auto src = gguf_tensor_source(f, cfg);
  return std::make_unique<Model>(std::move(cfg), std::move(src), std::move(backend), path, opts);
}

}  // namespace s1
