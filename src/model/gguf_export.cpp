// Writing a loaded model as a GGUF file (s1 convert): metadata in llama.cpp's key
// names, tensors in llama.cpp's names and (for llama) its Q/K row order, matrices
// re-encoded to the requested formats.
#include <cmath>
#include <cstring>

#include "backend/cpu/q8_interleaved.h"
#include "backend/cpu/quant_blocks.h"
#include "backend/cpu/simd_kernels.h"
#include "backend/cpu/weight_layout.h"
#include "core/error.h"
#include "model/gguf_model.h"

namespace s1 {

namespace {

// llama.cpp's own fallbacks when a row is not a whole number of super-blocks.
DType fit(DType t, int64_t cols) {
  while (cols % int64_t(dtype_block(t)) != 0) {
    switch (t) {
      case DType::Q4_K: t = DType::Q5_0; break;
      case DType::Q5_K: t = DType::Q5_1; break;
      case DType::Q6_K: t = DType::Q8_0; break;
      default: t = DType::F16; break;
    }
  }
  return t;
}

std::vector<uint8_t> encode_rows(const WeightMatrix& w, DType t, int threads) {
  const size_t row_bytes = size_t(w.cols) / dtype_block(t) * dtype_size(t);
  std::vector<uint8_t> out(row_bytes * size_t(w.rows));
  const size_t src_row = size_t(w.cols) / dtype_block(w.dtype) * dtype_size(w.dtype);
  if (w.dtype == t) {
    for (int64_t r = 0; r < w.rows; ++r) cpu::copy_plain_row(w, r, out.data() + size_t(r) * row_bytes);
    return out;
  }
  if (w.dtype == DType::Q8_0_IL && t == DType::Q8_0) {  // the same blocks, back in their order
    for (int64_t r = 0; r < w.rows; ++r)
      cpu::q8_il_row_to_q8_0(w, r, reinterpret_cast<cpu::BlockQ8_0*>(out.data() + size_t(r) * row_bytes));
    return out;
  }
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t r = 0; r < w.rows; ++r) {
    std::vector<float> v(size_t(w.cols));
    if (w.dtype == DType::Q8_0_IL) {
      std::vector<cpu::BlockQ8_0> row(size_t(w.cols / 32));
      cpu::q8_il_row_to_q8_0(w, r, row.data());
      cpu::dequantize_row(DType::Q8_0, row.data(), w.cols, v.data());
    } else if (cpu::is_block_dtype(w.dtype)) {
      std::vector<uint8_t> row(src_row);
      cpu::copy_plain_row(w, r, row.data());
      cpu::dequantize_row(w.dtype, row.data(), w.cols, v.data());
    } else {
      for (int64_t c = 0; c < w.cols; ++c) v[c] = cpu::weight_at(w, r, c);
    }
    uint8_t* o = out.data() + size_t(r) * row_bytes;
    switch (t) {
      case DType::F32: std::memcpy(o, v.data(), row_bytes); break;
      case DType::F16:
        for (int64_t c = 0; c < w.cols; ++c) {
          uint16_t h = f32_to_f16(v[c]);
          std::memcpy(o + 2 * c, &h, 2);
        }
        break;
      case DType::BF16:
        for (int64_t c = 0; c < w.cols; ++c) {
          uint16_t h = f32_to_bf16(v[c]);
          std::memcpy(o + 2 * c, &h, 2);
        }
        break;
      default: cpu::quantize_row(t, v.data(), w.cols, o); break;
    }
  }
  return out;
}

// Stored row 2j + s of head h <- HF row s * half + j (the inverse of the loader's).
void permute_rows(std::vector<uint8_t>& b, int64_t rows, int64_t heads) {
  const size_t rb = b.size() / size_t(rows);
  const int64_t hd = rows / heads, half = hd / 2;
  std::vector<uint8_t> out(b.size());
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t j = 0; j < half; ++j)
      for (int64_t s = 0; s < 2; ++s)
        std::memcpy(out.data() + size_t(h * hd + 2 * j + s) * rb, b.data() + size_t(h * hd + s * half + j) * rb, rb);
  b.swap(out);
}

}  // namespace

GgufExportStats write_gguf_model(const Model& m, const std::string& path, const GgufExportOptions& opts,
                                 const GgufFile* meta_from, int threads) {
  const ModelConfig& c = m.config();
  const ModelWeights& w = m.weights();
  const std::string arch = arch_name(c.arch);
  const std::string A = arch + ".";
  GgufWriter g;
  g.add_string("general.architecture", arch);
  g.add_string("general.name", opts.name.empty() ? "s1 convert" : opts.name);
  g.add_u32(A + "block_count", uint32_t(c.layers));
  g.add_u32(A + "context_length", uint32_t(c.max_position));
  g.add_u32(A + "embedding_length", uint32_t(c.hidden));
  g.add_u32(A + "feed_forward_length", uint32_t(c.intermediate));
  g.add_u32(A + "attention.head_count", uint32_t(c.heads));
  g.add_u32(A + "attention.head_count_kv", uint32_t(c.kv_heads));
  g.add_u32(A + "attention.key_length", uint32_t(c.head_dim));
  g.add_u32(A + "attention.value_length", uint32_t(c.head_dim));
  g.add_u32(A + "rope.dimension_count", uint32_t(c.head_dim));
  g.add_f32(A + "rope.freq_base", float(c.rope.theta));
  g.add_f32(A + "attention.layer_norm_rms_epsilon", float(c.rms_eps));
  g.add_u32(A + "vocab_size", uint32_t(c.vocab_size));
  if (c.rope.type == RopeType::Llama3) {  // the frequency table itself is the rope_freqs tensor below
    g.add_u32(A + "rope.scaling.original_context_length", uint32_t(c.rope.original_max_position));
    g.add_f32(A + "rope.scaling.low_freq_factor", float(c.rope.low_freq_factor));
    g.add_f32(A + "rope.scaling.high_freq_factor", float(c.rope.high_freq_factor));
  }
  if (c.rope.type == RopeType::Linear) {
    g.add_string(A + "rope.scaling.type", "linear");
    g.add_f32(A + "rope.scaling.factor", float(c.rope.factor));
  }
  if (meta_from) {
    for (const auto& k : meta_from->keys())
      if (k.rfind("tokenizer.", 0) == 0) g.add(k, *meta_from->find(k));
  } else {
    if (c.bos_id >= 0) g.add_u32("tokenizer.ggml.bos_token_id", uint32_t(c.bos_id));
    if (!c.eos_ids.empty()) g.add_u32("tokenizer.ggml.eos_token_id", uint32_t(c.eos_ids[0]));
  }

  std::vector<std::unique_ptr<std::vector<uint8_t>>> store;
  GgufExportStats stats;
  auto type_for = [&](const std::string& kind, int64_t cols) {
    DType t = opts.matrix_type;
    for (const auto& [k, v] : opts.overrides)
      if (k == kind) t = v;
    return fit(t, cols);
  };
  auto add_matrix = [&](const std::string& name, const std::string& kind, const WeightMatrix& mat, int64_t permute_heads) {
    const DType t = type_for(kind, mat.cols);
    auto bytes = std::make_unique<std::vector<uint8_t>>(encode_rows(mat, t, threads));
    if (permute_heads > 0) permute_rows(*bytes, mat.rows, permute_heads);
    stats.tensors_by_type[dtype_name(t)]++;
    stats.bytes_by_type[dtype_name(t)] += bytes->size();
    g.add_tensor({name, t, {mat.rows, mat.cols}, bytes->data(), bytes->size()});
    store.push_back(std::move(bytes));
  };
  auto add_vec = [&](const std::string& name, const std::vector<float>& v, int64_t permute_heads = 0) {
    if (v.empty()) return;
    auto bytes = std::make_unique<std::vector<uint8_t>>(v.size() * 4);
    std::memcpy(bytes->data(), v.data(), bytes->size());
    if (permute_heads > 0) permute_rows(*bytes, int64_t(v.size()), permute_heads);
    g.add_tensor({name, DType::F32, {int64_t(v.size())}, bytes->data(), bytes->size()});
    store.push_back(std::move(bytes));
  };
  if (c.rope.type == RopeType::Llama3) {
    RopeConfig plain;
    plain.theta = c.rope.theta;
    auto scaled = rope_inv_freq(c.rope, c.head_dim), base = rope_inv_freq(plain, c.head_dim);
    auto f = std::make_unique<std::vector<uint8_t>>(scaled.size() * 4);
    for (size_t i = 0; i < scaled.size(); ++i) {
      float x = float(base[i] / scaled[i]);
      std::memcpy(f->data() + 4 * i, &x, 4);
    }
    g.add_tensor({"rope_freqs.weight", DType::F32, {int64_t(scaled.size())}, f->data(), f->size()});
    store.push_back(std::move(f));
  }
  add_matrix("token_embd.weight", "token_embd", w.embed, 0);
  add_vec("output_norm.weight", w.final_norm);
  if (!c.tied_embeddings) add_matrix("output.weight", "output", w.lm_head, 0);
  const bool permute = c.arch == Arch::Llama;
  for (int64_t l = 0; l < c.layers; ++l) {
    const LayerWeights& L = w.layers[size_t(l)];
    const std::string p = "blk." + std::to_string(l) + ".";
    add_vec(p + "attn_norm.weight", L.attn_norm);
    add_matrix(p + "attn_q.weight", "attn_q", L.wq, permute ? c.heads : 0);
    add_matrix(p + "attn_k.weight", "attn_k", L.wk, permute ? c.kv_heads : 0);
    add_matrix(p + "attn_v.weight", "attn_v", L.wv, 0);
    add_matrix(p + "attn_output.weight", "attn_output", L.wo, 0);
    add_vec(p + "attn_q.bias", L.bq, permute ? c.heads : 0);
    add_vec(p + "attn_k.bias", L.bk, permute ? c.kv_heads : 0);
    add_vec(p + "attn_v.bias", L.bv);
    add_vec(p + "attn_output.bias", L.bo);
    add_vec(p + "attn_q_norm.weight", L.q_norm);
    add_vec(p + "attn_k_norm.weight", L.k_norm);
    add_vec(p + "ffn_norm.weight", L.ffn_norm);
    add_matrix(p + "ffn_gate.weight", "ffn_gate", L.w_gate, 0);
    add_matrix(p + "ffn_up.weight", "ffn_up", L.w_up, 0);
    add_matrix(p + "ffn_down.weight", "ffn_down", L.w_down, 0);
    add_vec(p + "ffn_gate.bias", L.b_gate);
    add_vec(p + "ffn_up.bias", L.b_up);
    add_vec(p + "ffn_down.bias", L.b_down);
  }
  g.write(path);
  return stats;
}

}  // namespace s1
