#include "model/train_params.h"

#include <cstring>

#include "backend/cpu/simd_kernels.h"
#include "core/dtype.h"
#include "core/error.h"
#include "model/model.h"

namespace s1 {

size_t ParamLayout::add(const std::string& name, std::vector<int64_t> shape) {
  size_t n = 1;
  for (int64_t d : shape) n *= size_t(d);
  const bool bias = name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
  tensors_.push_back({name, std::move(shape), total_, n, bias});
  total_ += n;
  return total_ - n;
}

ParamLayout::ParamLayout(const ModelConfig& c) : cfg_(c) {
  const int64_t H = c.hidden, Q = c.q_dim(), KV = c.kv_dim(), I = c.intermediate, D = c.head_dim;
  embed = add("model.embed_tokens.weight", {c.vocab_size, H});
  layers.resize(size_t(c.layers));
  for (int64_t l = 0; l < c.layers; ++l) {
    auto& L = layers[size_t(l)];
    const std::string p = "model.layers." + std::to_string(l) + ".";
    L.attn_norm = add(p + "input_layernorm.weight", {H});
    L.wqkv = add(p + "self_attn.q_proj.weight", {Q, H});
    add(p + "self_attn.k_proj.weight", {KV, H});
    add(p + "self_attn.v_proj.weight", {KV, H});
    L.bqkv = kNone;
    if (c.qkv_bias) {
      L.bqkv = add(p + "self_attn.q_proj.bias", {Q});
      add(p + "self_attn.k_proj.bias", {KV});
      add(p + "self_attn.v_proj.bias", {KV});
    }
    L.q_norm = L.k_norm = kNone;
    if (c.qk_norm) {
      L.q_norm = add(p + "self_attn.q_norm.weight", {D});
      L.k_norm = add(p + "self_attn.k_norm.weight", {D});
    }
    L.wo = add(p + "self_attn.o_proj.weight", {H, Q});
    L.bo = c.o_bias ? add(p + "self_attn.o_proj.bias", {H}) : kNone;
    L.ffn_norm = add(p + "post_attention_layernorm.weight", {H});
    L.wgu = add(p + "mlp.gate_proj.weight", {I, H});
    add(p + "mlp.up_proj.weight", {I, H});
    L.bgu = kNone;
    if (c.mlp_bias) {
      L.bgu = add(p + "mlp.gate_proj.bias", {I});
      add(p + "mlp.up_proj.bias", {I});
    }
    L.wdown = add(p + "mlp.down_proj.weight", {H, I});
    L.bdown = c.mlp_bias ? add(p + "mlp.down_proj.bias", {H}) : kNone;
  }
  final_norm = add("model.norm.weight", {H});
  lm_head = c.tied_embeddings ? embed : add("lm_head.weight", {c.vocab_size, H});
}

const ParamTensor* ParamLayout::find(const std::string& name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

namespace {

void put_matrix(const WeightMatrix& w, float* out) {
  const size_t n = size_t(w.rows) * size_t(w.cols);
  if (w.col_block != 0) {  // column-blocked (a model loaded for decoding): element by element
    for (int64_t r = 0; r < w.rows; ++r)
      for (int64_t c = 0; c < w.cols; ++c) out[size_t(r) * size_t(w.cols) + size_t(c)] = cpu::weight_at(w, r, c);
  } else if (w.dtype == DType::F32) {
    std::memcpy(out, w.data, n * sizeof(float));
  } else if (w.dtype == DType::BF16 || w.dtype == DType::F16) {
    const auto* h = static_cast<const uint16_t*>(w.data);
    for (size_t i = 0; i < n; ++i) out[i] = w.dtype == DType::BF16 ? bf16_to_f32(h[i]) : f16_to_f32(h[i]);
  } else {  // GGUF block formats: dequantised through the reference decoder
    for (int64_t r = 0; r < w.rows; ++r)
      for (int64_t c = 0; c < w.cols; ++c) out[size_t(r) * size_t(w.cols) + size_t(c)] = cpu::weight_at(w, r, c);
  }
}

void put_vec(const std::vector<float>& v, float* out) { std::memcpy(out, v.data(), v.size() * sizeof(float)); }

}  // namespace

std::vector<float> load_params(const Model& m, const ParamLayout& lay) {
  const ModelConfig& c = m.config();
  const ModelWeights& w = m.weights();
  if (c.layers != lay.config().layers || c.hidden != lay.config().hidden) fail("parameter layout does not match the model");
  std::vector<float> p(lay.total());
  const int64_t H = c.hidden, Q = c.q_dim(), KV = c.kv_dim(), I = c.intermediate;
  put_matrix(w.embed, p.data() + lay.embed);
  if (!c.tied_embeddings) put_matrix(w.lm_head, p.data() + lay.lm_head);
  put_vec(w.final_norm, p.data() + lay.final_norm);
  for (size_t l = 0; l < lay.layers.size(); ++l) {
    const auto& L = w.layers[l];
    const auto& o = lay.layers[l];
    float* b = p.data();
    put_vec(L.attn_norm, b + o.attn_norm);
    put_matrix(L.wq, b + o.wqkv);
    put_matrix(L.wk, b + o.wqkv + size_t(Q * H));
    put_matrix(L.wv, b + o.wqkv + size_t((Q + KV) * H));
    if (o.bqkv != ParamLayout::kNone) {
      put_vec(L.bq, b + o.bqkv);
      put_vec(L.bk, b + o.bqkv + size_t(Q));
      put_vec(L.bv, b + o.bqkv + size_t(Q + KV));
    }
    if (o.q_norm != ParamLayout::kNone) {
      put_vec(L.q_norm, b + o.q_norm);
      put_vec(L.k_norm, b + o.k_norm);
    }
    put_matrix(L.wo, b + o.wo);
    if (o.bo != ParamLayout::kNone) put_vec(L.bo, b + o.bo);
    put_vec(L.ffn_norm, b + o.ffn_norm);
    put_matrix(L.w_gate, b + o.wgu);
    put_matrix(L.w_up, b + o.wgu + size_t(I * H));
    if (o.bgu != ParamLayout::kNone) {
      put_vec(L.b_gate, b + o.bgu);
      put_vec(L.b_up, b + o.bgu + size_t(I));
    }
    put_matrix(L.w_down, b + o.wdown);
    if (o.bdown != ParamLayout::kNone) put_vec(L.b_down, b + o.bdown);
  }
  return p;
}

}  // namespace s1
