#include "model/make_model.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/safetensors.h"
#include "model/config.h"

namespace s1 {
namespace fs = std::filesystem;

namespace {

struct Shape {
  const char* name;
  const char* arch;  // HF architectures[0]
  const char* model_type;
  int64_t hidden, intermediate, layers, heads, kv_heads, head_dim, vocab, max_pos;
  double theta, rms_eps;
  bool tied;
  int32_t bos, eos;
};

// From the public config.json of each model (Qwen/Qwen2.5-*-Instruct, Qwen/Qwen3-0.6B,
// HuggingFaceTB/SmolLM2-135M-Instruct).
const Shape kShapes[] = {
    {"qwen2.5-0.5b", "Qwen2ForCausalLM", "qwen2", 896, 4864, 24, 14, 2, 64, 151936, 32768, 1e6, 1e-6, true, 151643, 151645},
    {"qwen2.5-1.5b", "Qwen2ForCausalLM", "qwen2", 1536, 8960, 28, 12, 2, 128, 151936, 32768, 1e6, 1e-6, true, 151643, 151645},
    {"qwen2.5-7b", "Qwen2ForCausalLM", "qwen2", 3584, 18944, 28, 28, 4, 128, 152064, 32768, 1e6, 1e-6, false, 151643, 151645},
    {"qwen2.5-32b", "Qwen2ForCausalLM", "qwen2", 5120, 27648, 64, 40, 8, 128, 152064, 32768, 1e6, 1e-6, false, 151643, 151645},
    {"qwen3-0.6b", "Qwen3ForCausalLM", "qwen3", 1024, 3072, 28, 16, 8, 128, 151936, 40960, 1e6, 1e-6, true, 151643, 151645},
    {"smollm2-135m", "LlamaForCausalLM", "llama", 576, 1536, 30, 9, 3, 64, 49152, 8192, 1e5, 1e-5, true, 1, 2},
    // Not a released model: the Qwen2 architecture at hidden 64 with the real 151,936-row
    // vocabulary, so tests get the real tokenizer on a model that writes in ~0.1 s.
    {"qwen2.5-tiny", "Qwen2ForCausalLM", "qwen2", 64, 128, 2, 4, 2, 16, 151936, 32768, 1e6, 1e-6, true, 151643, 151645},
};

const Shape& find_shape(const std::string& name) {
  for (const auto& s : kShapes)
    if (name == s.name) return s;
  std::string all;
  for (const auto& s : kShapes) all += std::string(all.empty() ? "" : ", ") + s.name;
  fail("unknown shape '", name, "' (known: ", all, ")");
}

// xoshiro-style fast generator: a 32B checkpoint has 3e10 values to fill.
struct FastRng {
  uint64_t s;
  explicit FastRng(uint64_t seed) : s(seed * 0x9e3779b97f4a7c15ull + 1) {}
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  // approximately N(0, 1): sum of 4 uniforms, centred and scaled (Irwin-Hall)
  float normal() {
    uint64_t r = next();
    float a = float(r & 0xffff) + float((r >> 16) & 0xffff) + float((r >> 32) & 0xffff) + float(r >> 48);
    return (a / 65536.0f - 2.0f) * 1.7320508f;
  }
};

void write_json(const fs::path& p, const nlohmann::ordered_json& j) {
  std::ofstream f(p);
  if (!f) fail(p.string(), ": cannot create");
  f << j.dump(2) << "\n";
  if (!f) fail(p.string(), ": write failed");
}

}  // namespace

std::vector<std::string> model_shape_names() {
  std::vector<std::string> v;
  for (const auto& s : kShapes) v.push_back(s.name);
  return v;
}

void make_model(const MakeModelOptions& o, void (*progress)(const char*)) {
  const Shape& s = find_shape(o.shape);
  if (o.dtype != DType::F32 && o.dtype != DType::BF16 && o.dtype != DType::F16)
    fail("make-model writes f32, f16 or bf16, not ", dtype_name(o.dtype));
  if (o.layers < 0) fail("--layers must be >= 0");
  const int64_t layers = o.layers > 0 ? o.layers : s.layers;
  const bool qwen2 = std::string(s.model_type) == "qwen2", qwen3 = std::string(s.model_type) == "qwen3";
  fs::path out(o.out);
  fs::create_directories(out);

  nlohmann::ordered_json cfg = {
      {"architectures", {s.arch}},
      {"model_type", s.model_type},
      {"hidden_size", s.hidden},
      {"intermediate_size", s.intermediate},
      {"num_hidden_layers", layers},
      {"num_attention_heads", s.heads},
      {"num_key_value_heads", s.kv_heads},
      {"head_dim", s.head_dim},
      {"vocab_size", s.vocab},
      {"max_position_embeddings", s.max_pos},
      {"rope_theta", s.theta},
      {"rope_scaling", nullptr},
      {"rms_norm_eps", s.rms_eps},
      {"tie_word_embeddings", s.tied},
      {"hidden_act", "silu"},
      {"attention_bias", false},
      {"bos_token_id", s.bos},
      {"eos_token_id", s.eos},
      {"torch_dtype", o.dtype == DType::F32 ? "float32" : o.dtype == DType::BF16 ? "bfloat16" : "float16"},
      {"s1_random_weights", {{"shape", s.name}, {"seed", o.seed}, {"real_layers", s.layers}}},
  };
  write_json(out / "config.json", cfg);
  nlohmann::ordered_json gen = {{"bos_token_id", s.bos}, {"eos_token_id", nlohmann::json::array({s.eos, s.bos})}};
  if (!qwen2 && !qwen3) gen["eos_token_id"] = s.eos;
  write_json(out / "generation_config.json", gen);

  // Tensor list in the Hugging Face names the loader binds.
  struct T {
    std::string name;
    std::vector<int64_t> shape;
    float scale;  // std of the values; 0 = ones (norm weights)
  };
  std::vector<T> ts;
  const int64_t H = s.hidden, I = s.intermediate, Q = s.heads * s.head_dim, KV = s.kv_heads * s.head_dim;
  const float init = 0.02f;
  ts.push_back({"model.embed_tokens.weight", {s.vocab, H}, init});
  for (int64_t l = 0; l < layers; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    ts.push_back({p + "input_layernorm.weight", {H}, 0});
    ts.push_back({p + "self_attn.q_proj.weight", {Q, H}, init});
    ts.push_back({p + "self_attn.k_proj.weight", {KV, H}, init});
    ts.push_back({p + "self_attn.v_proj.weight", {KV, H}, init});
    if (qwen2) {
      ts.push_back({p + "self_attn.q_proj.bias", {Q}, init});
      ts.push_back({p + "self_attn.k_proj.bias", {KV}, init});
      ts.push_back({p + "self_attn.v_proj.bias", {KV}, init});
    }
    if (qwen3) {
      ts.push_back({p + "self_attn.q_norm.weight", {s.head_dim}, 0});
      ts.push_back({p + "self_attn.k_norm.weight", {s.head_dim}, 0});
    }
    ts.push_back({p + "self_attn.o_proj.weight", {H, Q}, init});
    ts.push_back({p + "post_attention_layernorm.weight", {H}, 0});
    ts.push_back({p + "mlp.gate_proj.weight", {I, H}, init});
    ts.push_back({p + "mlp.up_proj.weight", {I, H}, init});
    ts.push_back({p + "mlp.down_proj.weight", {H, I}, init});
  }
  ts.push_back({"model.norm.weight", {H}, 0});
  if (!s.tied) ts.push_back({"lm_head.weight", {s.vocab, H}, init});

  std::vector<SafetensorsWriter::Spec> specs;
  uint64_t total = 0;
  for (const auto& t : ts) {
    specs.push_back({t.name, o.dtype, t.shape});
    uint64_t n = 1;
    for (auto d : t.shape) n *= uint64_t(d);
    total += n * dtype_size(o.dtype);
  }
  SafetensorsWriter w((out / "model.safetensors").string(), specs, {{"format", "pt"}, {"s1_random_weights", s.name}});
  FastRng rng(o.seed);
  std::vector<uint8_t> buf;
  const size_t chunk = 1 << 20;  // values per write
  uint64_t done = 0, next_report = 0;
  for (const auto& t : ts) {
    uint64_t n = 1;
    for (auto d : t.shape) n *= uint64_t(d);
    for (uint64_t i = 0; i < n; i += chunk) {
      size_t m = size_t(std::min<uint64_t>(chunk, n - i));
      buf.resize(m * dtype_size(o.dtype));
      for (size_t k = 0; k < m; ++k) {
        float v = t.scale == 0 ? 1.0f : t.scale * rng.normal();
        if (o.dtype == DType::F32) std::memcpy(&buf[4 * k], &v, 4);
        else {
          uint16_t h = o.dtype == DType::BF16 ? f32_to_bf16(v) : f32_to_f16(v);
          std::memcpy(&buf[2 * k], &h, 2);
        }
      }
      w.write(buf.data(), buf.size());
      done += buf.size();
      if (progress && done >= next_report) {
        char line[128];
        std::snprintf(line, sizeof line, "writing weights: %.0f / %.0f MB", done / 1e6, total / 1e6);
        progress(line);
        next_report = done + (total / 20 + 1);
      }
    }
  }
  w.finish();

  if (!o.tokenizer_dir.empty()) {
    if (s.vocab < 151665) {
      if (progress) progress("shape's vocabulary is smaller than the Qwen2.5 tokenizer: no tokenizer written (use --prompt-ids)");
    } else {
      for (const char* f : {"vocab.json", "merges.txt", "tokenizer_config.json"}) {
        fs::path src = fs::path(o.tokenizer_dir) / f;
        if (!fs::exists(src)) fail(src.string(), ": tokenizer file missing");
        fs::copy_file(src, out / f, fs::copy_options::overwrite_existing);
      }
    }
  }
}

}  // namespace s1
