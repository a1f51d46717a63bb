#include "train/export.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/mapped_file.h"
#include "formats/safetensors.h"

namespace s1::train {
namespace fs = std::filesystem;

namespace {
// Written to a temporary name and renamed: a reader never sees half a file.
void write_text_atomic(const fs::path& p, const std::string& text) {
  const fs::path tmp = p.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    if (!f) fail(tmp.string(), ": cannot create");
    f << text;
    if (!f.flush()) fail(tmp.string(), ": write failed");
  }
  fs::rename(tmp, p);
}
}  // namespace

void export_hf_folder(const std::string& base_dir, const std::string& out_dir, const ParamLayout& lay,
                      const float* params, DType dtype) {
  if (dtype != DType::F32 && dtype != DType::BF16 && dtype != DType::F16)
    fail("export dtype must be f32, bf16 or f16, not ", dtype_name(dtype));
  const fs::path base(base_dir), out(out_dir);
  fs::create_directories(out);

  std::vector<SafetensorsWriter::Spec> specs;
  for (const auto& t : lay.tensors()) specs.push_back({t.name, dtype, t.shape});
  SafetensorsWriter w((out / "model.safetensors").string(), specs, {{"format", "pt"}, {"s1_trained", "s1 train"}});
  std::vector<uint16_t> half;
  for (const auto& t : lay.tensors()) {
    const float* p = params + t.offset;
    if (dtype == DType::F32) {
      w.write(p, t.size * sizeof(float));
      continue;
    }
    for (size_t i = 0; i < t.size; i += 1 << 20) {
      const size_t n = std::min<size_t>(size_t(1) << 20, t.size - i);
      half.resize(n);
      for (size_t k = 0; k < n; ++k) half[k] = dtype == DType::BF16 ? f32_to_bf16(p[i + k]) : f32_to_f16(p[i + k]);
      w.write(half.data(), n * sizeof(uint16_t));
    }
  }
  w.finish();

  // config.json as the base model wrote it, with the dtype of the exported weights.
  nlohmann::ordered_json cfg;
  try {
    cfg = nlohmann::ordered_json::parse(read_text_file((base / "config.json").string()));
  } catch (const nlohmann::json::exception& e) {
    fail((base / "config.json").string(), ": invalid JSON: ", e.what());
  }
  const char* dt = dtype == DType::F32 ? "float32" : dtype == DType::BF16 ? "bfloat16" : "float16";
  if (cfg.contains("dtype")) cfg["dtype"] = dt;
  cfg["torch_dtype"] = dt;
  if (cfg.contains("s1_random_weights")) cfg.erase("s1_random_weights");
  write_text_atomic(out / "config.json", cfg.dump(2) + "\n");

  for (const char* f : {"generation_config.json", "tokenizer.json", "tokenizer_config.json", "vocab.json",
                        "merges.txt", "special_tokens_map.json", "added_tokens.json", "chat_template.jinja"}) {
    const fs::path src = base / f;
    if (!fs::exists(src)) continue;
    if (fs::exists(out / f) && fs::equivalent(src, out / f)) continue;
    fs::copy_file(src, out / f, fs::copy_options::overwrite_existing);
  }
}

}  // namespace s1::train
