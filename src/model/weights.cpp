#include "model/weights.h"

#include <cstring>

#include "core/error.h"

namespace s1 {
namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string o = "[";
  for (size_t i = 0; i < s.size(); ++i) o += (i ? ", " : "") + std::to_string(s[i]);
  return o + "]";
}

const TensorSource::Tensor& need(const TensorSource& src, const std::string& name) {
  const auto* t = src.find(name);
  if (!t) fail("missing tensor '", name, "' (the checkpoint does not match its config.json)");
  return *t;
}

void check_shape(const TensorSource::Tensor& t, const std::string& name, std::vector<int64_t> want) {
  if (t.shape != want)
    fail(t.file, ": tensor '", name, "' has shape ", shape_str(t.shape), " but config.json implies ", shape_str(want));
}

WeightMatrix matrix(const TensorSource& src, const std::string& name, int64_t rows, int64_t cols) {
  const auto& t = need(src, name);
  check_shape(t, name, {rows, cols});
  if (t.dtype != DType::F32 && t.dtype != DType::BF16 && t.dtype != DType::F16 && dtype_block(t.dtype) == 1)
    fail(t.file, ": tensor '", name, "' has dtype ", dtype_name(t.dtype), ", which cannot be a weight matrix");
  return WeightMatrix{t.dtype, t.data, rows, cols};
}

std::vector<float> vec(const TensorSource& src, const std::string& name, int64_t n) {
  const auto& t = need(src, name);
  check_shape(t, name, {n});
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    switch (t.dtype) {
      case DType::F32: {
        float f;
        std::memcpy(&f, static_cast<const uint8_t*>(t.data) + 4 * i, 4);
        out[i] = f;
        break;
      }
      case DType::BF16:
      case DType::F16: {
        uint16_t h;
        std::memcpy(&h, static_cast<const uint8_t*>(t.data) + 2 * i, 2);
        out[i] = t.dtype == DType::BF16 ? bf16_to_f32(h) : f16_to_f32(h);
        break;
      }
      default: fail(t.file, ": tensor '", name, "' has dtype ", dtype_name(t.dtype), ", expected a float type");
    }
  }
  return out;
}

}  // namespace

const TensorSource::Tensor* TensorSource::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &it->second;
}

std::vector<std::string> TensorSource::names() const {
  std::vector<std::string> n;
  for (const auto& [k, v] : by_name_) n.push_back(k);
  return n;
}

ModelWeights bind_weights(const ModelConfig& c, const TensorSource& src) {
  ModelWeights w;
  w.embed = matrix(src, "model.embed_tokens.weight", c.vocab_size, c.hidden);
  if (c.tied_embeddings) {
    w.lm_head = w.embed;
  } else {
    w.lm_head = matrix(src, "lm_head.weight", c.vocab_size, c.hidden);
  }
  w.final_norm = vec(src, "model.norm.weight", c.hidden);
  w.layers.resize(static_cast<size_t>(c.layers));
  for (int64_t i = 0; i < c.layers; ++i) {
    auto& L = w.layers[i];
    const std::string p = "model.layers." + std::to_string(i) + ".";
    L.attn_norm = vec(src, p + "input_layernorm.weight", c.hidden);
    L.ffn_norm = vec(src, p + "post_attention_layernorm.weight", c.hidden);
    L.wq = matrix(src, p + "self_attn.q_proj.weight", c.q_dim(), c.hidden);
    L.wk = matrix(src, p + "self_attn.k_proj.weight", c.kv_dim(), c.hidden);
    L.wv = matrix(src, p + "self_attn.v_proj.weight", c.kv_dim(), c.hidden);
    L.wo = matrix(src, p + "self_attn.o_proj.weight", c.hidden, c.q_dim());
    if (c.qkv_bias) {
      L.bq = vec(src, p + "self_attn.q_proj.bias", c.q_dim());
      L.bk = vec(src, p + "self_attn.k_proj.bias", c.kv_dim());
      L.bv = vec(src, p + "self_attn.v_proj.bias", c.kv_dim());
    }
    if (c.o_bias) L.bo = vec(src, p + "self_attn.o_proj.bias", c.hidden);
    if (c.qk_norm) {
      L.q_norm = vec(src, p + "self_attn.q_norm.weight", c.head_dim);
      L.k_norm = vec(src, p + "self_attn.k_norm.weight", c.head_dim);
    }
    L.w_gate = matrix(src, p + "mlp.gate_proj.weight", c.intermediate, c.hidden);
    L.w_up = matrix(src, p + "mlp.up_proj.weight", c.intermediate, c.hidden);
    L.w_down = matrix(src, p + "mlp.down_proj.weight", c.hidden, c.intermediate);
    if (c.mlp_bias) {
      L.b_gate = vec(src, p + "mlp.gate_proj.bias", c.intermediate);
      L.b_up = vec(src, p + "mlp.up_proj.bias", c.intermediate);
      L.b_down = vec(src, p + "mlp.down_proj.bias", c.hidden);
    }
  }
  return w;
}

WeightStats weight_stats(const ModelConfig& c, const ModelWeights& w) {
  WeightStats s;
  auto m = [&](const WeightMatrix& x) {
    s.params += uint64_t(x.rows) * uint64_t(x.cols);
    s.bytes += x.bytes();
  };
  auto v = [&](const std::vector<float>& x, DType stored) {
    s.params += x.size();
    s.bytes += x.size() * dtype_size(stored);
  };
  DType vt = dtype_block(w.embed.dtype) > 1 ? DType::F32 : w.embed.dtype;  // block formats: norms are f32
  m(w.embed);
  if (!c.tied_embeddings)
    m(w.lm_head);
  else if (w.lm_head.data != w.embed.data)  // a tied head re-encoded at load: its own copy, not more parameters
    s.bytes += w.lm_head.bytes();
  v(w.final_norm, vt);
  for (const auto& L : w.layers) {
    for (const auto* x : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) m(*x);
    for (const auto* x : {&L.attn_norm, &L.ffn_norm, &L.bq, &L.bk, &L.bv, &L.bo, &L.q_norm, &L.k_norm, &L.b_gate,
                          &L.b_up, &L.b_down})
      v(*x, vt);
  }
  return s;
}

}  // namespace s1
