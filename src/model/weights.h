// Weights bound to the roles the forward pass uses. Matrices point into mapped files
// (or owned storage for converted ones); small vectors (norms, biases) are f32 copies.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "model/config.h"

namespace s1 {

struct LayerWeights {
  std::vector<float> attn_norm, ffn_norm;
  WeightMatrix wq, wk, wv, wo;
  std::vector<float> bq, bk, bv, bo;   // empty when the architecture has none
  std::vector<float> q_norm, k_norm;   // Qwen3 per-head norms (head_dim each)
  WeightMatrix w_gate, w_up, w_down;
  std::vector<float> b_gate, b_up, b_down;  // Llama mlp_bias
};

struct ModelWeights {
  WeightMatrix embed;   // [vocab, hidden]
  WeightMatrix lm_head; // [vocab, hidden]; the same memory as embed when tied
  std::vector<float> final_norm;
  std::vector<LayerWeights> layers;
};

// Where weights come from: a name -> tensor table over one or more files, filled by a
// format's loader (safetensors, GGUF); the subclass keeps the mapped files alive as
// long as the model.
class TensorSource {
 public:
  virtual ~TensorSource() = default;
  struct Tensor {
    DType dtype;
    std::vector<int64_t> shape;
    const void* data;
    size_t nbytes;
    std::string file;
  };
  const Tensor* find(const std::string& name) const;
  std::vector<std::string> names() const;

 protected:
  std::map<std::string, Tensor> by_name_;
};

// Binds the tensors of `src` to roles, checking every shape against `cfg`; errors name
// the tensor and its file. Names are the Hugging Face ones (model.layers.N.self_attn.q_proj.weight ...).
ModelWeights bind_weights(const ModelConfig& cfg, const TensorSource& src);

// Total bytes and parameters of the bound weights (lm_head counted once when tied).
struct WeightStats {
  uint64_t params = 0, bytes = 0;
};
WeightStats weight_stats(const ModelConfig& cfg, const ModelWeights& w);

}  // namespace s1
