// s1 convert: write a model (Hugging Face folder or GGUF file) as a GGUF file with its
// matrices in one of the block formats, e.g. a Qwen2.5-0.5B-shaped model as Q8_0 or
// a Q4_K_M-like mix for `s1 bench`.
#include <cstdio>
#include <map>

#include "cli/common.h"
#include "core/error.h"
#include "model/gguf_model.h"

namespace s1::cli {

namespace {

struct ConvertOptions {
  std::string model, out, type = "q8_0", name;
  int threads = 0;
};

const std::map<std::string, DType>& type_names() {
  static const std::map<std::string, DType> m = {
      {"f32", DType::F32},   {"f16", DType::F16},   {"bf16", DType::BF16}, {"q8_0", DType::Q8_0},
      {"q4_0", DType::Q4_0}, {"q4_1", DType::Q4_1}, {"q5_0", DType::Q5_0}, {"q5_1", DType::Q5_1},
      {"q4_k", DType::Q4_K}, {"q5_k", DType::Q5_K}, {"q6_k", DType::Q6_K}, {"q4_k_m", DType::Q4_K},
  };
  return m;
}

int run_convert(const ConvertOptions& o) {
  auto be = make_cpu_backend(o.threads);
  const int threads = be->threads();
  auto model = Model::load(o.model, std::shared_ptr<Backend>(std::move(be)));
  GgufExportOptions eo;
  eo.matrix_type = type_names().at(o.type);
  eo.name = o.name.empty() ? o.model : o.name;
  if (o.type == "q4_k_m") {
    // llama.cpp's Q4_K_M in spirit: Q4_K, with the most sensitive matrices in Q6_K.
    eo.overrides = {{"attn_v", DType::Q6_K}, {"ffn_down", DType::Q6_K}, {"output", DType::Q6_K}};
  }
  std::unique_ptr<GgufFile> src;
  if (is_gguf_file(o.model)) src = std::make_unique<GgufFile>(o.model);
  GgufExportStats st = write_gguf_model(*model, o.out, eo, src.get(), threads);
  std::printf("wrote %s (%s)\n", o.out.c_str(), o.type.c_str());
  for (const auto& [t, n] : st.tensors_by_type)
    std::printf("  %-5s %4llu matrices, %8.1f MB\n", t.c_str(), (unsigned long long)n, st.bytes_by_type[t] / 1e6);
  return 0;
}

}  // namespace

void add_convert(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds) {
  auto o = std::make_shared<ConvertOptions>();
  CLI::App* c = app.add_subcommand("convert", "Write a model as a GGUF file (quantising its matrices)");
  c->add_option("-m,--model", o->model, "Model folder or .gguf file")->required();
  c->add_option("-o,--out", o->out, "Output .gguf file")->required();
  std::vector<std::string> names;
  for (const auto& [k, v] : type_names()) names.push_back(k);
  c->add_option("--type", o->type,
                "Matrix format: f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q4_k q5_k q6_k, or q4_k_m (Q4_K + Q6_K for "
                "attn_v/ffn_down/output). Rows that are not whole K-quant super-blocks fall back as llama.cpp does "
                "(Q4_K->Q5_0, Q5_K->Q5_1, Q6_K->Q8_0)")
      ->check(CLI::IsMember(names))
      ->capture_default_str();
  c->add_option("--name", o->name, "general.name of the written file");
  c->add_option("-t,--threads", o->threads, "Threads (default: all cores)");
  cmds.emplace_back(c, [o] { return run_convert(*o); });
}

}  // namespace s1::cli
