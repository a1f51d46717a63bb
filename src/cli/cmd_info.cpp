// s1 info: what a model is — architecture, shapes, dtypes, parameters, bytes.
#include <iostream>
#include <map>

#include "cli/common.h"

namespace s1::cli {

void add_info(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds) {
  struct Opts {
    std::string model;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* c = app.add_subcommand("info", "Describe a model: architecture, shapes, dtypes, size");
  c->add_option("-m,--model", o->model, "Model: a Hugging Face folder or a .gguf file")->required();
  c->add_flag("--json", o->json, "Print JSON");
  cmds.emplace_back(c, [o] {
    auto model = Model::load(o->model, make_cpu_backend(1));
    const ModelConfig& m = model->config();
    WeightStats ws = weight_stats(m, model->weights());
    std::map<std::string, int> dtypes;
    for (const auto& n : model->tensors().names()) dtypes[dtype_name(model->tensors().find(n)->dtype)]++;
    auto tok = try_load_tokenizer(o->model);
    nlohmann::ordered_json j;
    j["path"] = o->model;
    j["architecture"] = m.architecture_name;
    j["family"] = arch_name(m.arch);
    j["layers"] = m.layers;
    j["hidden_size"] = m.hidden;
    j["intermediate_size"] = m.intermediate;
    j["attention_heads"] = m.heads;
    j["kv_heads"] = m.kv_heads;
    j["head_dim"] = m.head_dim;
    j["vocab_size"] = m.vocab_size;
    j["tokenizer_vocab"] = tok ? tok->vocab_size() : 0;
    j["max_position_embeddings"] = m.max_position;
    j["rope_theta"] = m.rope.theta;
    j["rope_scaling"] = m.rope.type == RopeType::Default ? "none" : m.rope.type == RopeType::Linear ? "linear" : "llama3";
    j["tied_embeddings"] = m.tied_embeddings;
    j["qkv_bias"] = m.qkv_bias;
    j["qk_norm"] = m.qk_norm;
    j["eos_token_ids"] = m.eos_ids;
    j["tensor_dtypes"] = dtypes;
    j["tensors"] = model->tensors().names().size();
    j["parameters"] = ws.params;
    j["weight_bytes"] = ws.bytes;
    j["kv_cache_bytes_per_token_f32"] = 2 * m.layers * m.kv_dim() * 4;
    if (o->json) {
      std::cout << j.dump(2) << "\n";
    } else {
      for (auto it = j.begin(); it != j.end(); ++it) {
        std::string v = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
        std::printf("%-30s %s\n", it.key().c_str(), v.c_str());
      }
      std::printf("%-30s %.1f M params, %.1f MB\n", "size", ws.params / 1e6, ws.bytes / 1e6);
    }
    return 0;
  });
}

}  // namespace s1::cli
