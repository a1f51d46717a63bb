// Trainable parameters: every weight of a model as one flat f32 buffer, in a fixed
// layout derived from the ModelConfig and named with the Hugging Face tensor names the
// loader binds (weights.h). Gradients and the optimiser's moments use the same layout,
// so an optimiser step or a gradient norm is one loop over one buffer.
//
// Within a layer, matrices that multiply the same input sit next to each other
// (q_proj / k_proj / v_proj rows, then gate_proj / up_proj rows), so the training
// forward and backward treat each group as one [rows, cols] matrix.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"

namespace s1 {

class Model;

struct ParamTensor {
  std::string name;             // Hugging Face name, e.g. model.layers.0.self_attn.q_proj.weight
  std::vector<int64_t> shape;
  size_t offset = 0, size = 0;  // floats into the flat buffer
  bool is_bias = false;         // *.bias (excluded from weight decay by the s1 recipe's trainer)
};

// Offsets (floats) of one layer's roles; kNone when the architecture has no such tensor.
struct LayerParamOffsets {
  size_t attn_norm, wqkv, bqkv, q_norm, k_norm, wo, bo, ffn_norm, wgu, bgu, wdown, bdown;
};

class ParamLayout {
 public:
  static constexpr size_t kNone = size_t(-1);
  explicit ParamLayout(const ModelConfig& c);

  const ModelConfig& config() const { return cfg_; }
  const std::vector<ParamTensor>& tensors() const { return tensors_; }
  const ParamTensor* find(const std::string& name) const;
  size_t total() const { return total_; }

  size_t embed = 0, final_norm = 0, lm_head = 0;  // lm_head == embed when tied
  std::vector<LayerParamOffsets> layers;

 private:
  size_t add(const std::string& name, std::vector<int64_t> shape);
  ModelConfig cfg_;
  std::vector<ParamTensor> tensors_;
  size_t total_ = 0;
};

// f32 copies of every weight of a loaded model (any stored dtype), read through the
// roles bind_weights gave them, into the layout's flat buffer.
std::vector<float> load_params(const Model& m, const ParamLayout& layout);

}  // namespace s1
