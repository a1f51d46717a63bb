// The trained weights as a Hugging Face folder that the engine (and transformers) loads:
// config.json and generation_config.json from the base model, model.safetensors with
// the base model's tensor names (a tied model has no lm_head.weight), the tokenizer files.
#pragma once
#include <string>
#include <vector>

#include "core/dtype.h"
#include "model/train_params.h"

namespace s1::train {

// dtype: F32, BF16 or F16.
void export_hf_folder(const std::string& base_dir, const std::string& out_dir, const ParamLayout& layout,
                      const float* params, DType dtype);

}  // namespace s1::train
