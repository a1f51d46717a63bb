// Loading a Hugging Face model folder: config.json (+ generation_config.json) and
// model.safetensors, or the shards listed in model.safetensors.index.json.
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/mapped_file.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "model/gguf_model.h"
#include "model/model.h"

namespace s1 {
namespace fs = std::filesystem;

namespace {

class SafetensorsSource final : public TensorSource {
 public:
  void add_file(const std::string& path) {
    files_.push_back(std::make_unique<SafetensorsFile>(path));
    for (const auto& t : files_.back()->tensors()) {
      if (by_name_.count(t.name)) fail(path, ": tensor '", t.name, "' also appears in ", by_name_[t.name].file);
      by_name_[t.name] = Tensor{t.dtype, t.shape, t.data, t.nbytes, path};
    }
  }

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
};

nlohmann::json read_json(const std::string& path) {
  std::string text = read_text_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": invalid JSON: ", e.what());
  }
}

}  // namespace

std::unique_ptr<Model> Model::load(const std::string& path, std::shared_ptr<Backend> backend, const LoadOptions& opts) {
  if (!fs::exists(path)) fail(path, ": no such file or folder");
  if (!fs::is_directory(path) && (is_gguf_file(path) || fs::path(path).extension() == ".gguf"))
    return load_gguf_model(path, std::move(backend), opts);  // gguf_loader.cpp
  if (!fs::is_directory(path))
    fail(path, ": not a model folder (expected a Hugging Face folder with config.json and *.safetensors, or a .gguf file)");
  const fs::path dir(path);
  const std::string cfg_path = (dir / "config.json").string();
  if (!file_exists(cfg_path)) fail(path, ": no config.json in this folder");
  ModelConfig cfg = parse_hf_config(read_json(cfg_path), cfg_path);
  const std::string gen_path = (dir / "generation_config.json").string();
  if (file_exists(gen_path)) merge_generation_config(cfg, read_json(gen_path));

  auto src = std::make_unique<SafetensorsSource>();
  const std::string index_path = (dir / "model.safetensors.index.json").string();
  const std::string single = (dir / "model.safetensors").string();
  if (file_exists(index_path)) {
    nlohmann::json idx = read_json(index_path);
    if (!idx.contains("weight_map") || !idx["weight_map"].is_object())
      fail(index_path, ": no \"weight_map\" object");
    std::set<std::string> shards;
    for (auto it = idx["weight_map"].begin(); it != idx["weight_map"].end(); ++it) {
      if (!it.value().is_string()) fail(index_path, ": weight_map entry for '", it.key(), "' is not a file name");
      std::string f = it.value().get<std::string>();
      if (f.find('/') != std::string::npos || f.find("..") != std::string::npos)
        fail(index_path, ": shard name '", f, "' must be a plain file name in the model folder");
      shards.insert(f);
    }
    for (const auto& f : shards) {
      std::string p = (dir / f).string();
      if (!file_exists(p)) fail(index_path, ": lists shard ", f, ", which is missing from the folder");
      src->add_file(p);
    }
  } else if (file_exists(single)) {
    src->add_file(single);
  } else {
    fail(path, ": no model.safetensors or model.safetensors.index.json in this folder");
  }
  return std::make_unique<Model>(std::move(cfg), std::move(src), std::move(backend), path, opts);
}

}  // namespace s1
