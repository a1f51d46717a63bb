// s1 make-model: a random-weight Hugging Face folder of a real model's shape.
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "cli/common.h"
#include "core/error.h"
#include "model/make_model.h"

#ifndef S1_DATA_DIR
#define S1_DATA_DIR ""
#endif

namespace s1::cli {

// The repo's data/ folder (tokenizer files); S1_DATA_DIR in the environment overrides.
std::string data_dir() {
  if (const char* e = std::getenv("S1_DATA_DIR")) return e;
  return S1_DATA_DIR;
}

void add_make_model(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds) {
  struct Opts {
    std::string shape, dtype = "bf16", out;
    int64_t layers = 0;
    uint64_t seed = 0;
    bool no_tokenizer = false;
  };
  auto o = std::make_shared<Opts>();
  std::string shapes;
  for (auto& s : model_shape_names()) shapes += (shapes.empty() ? "" : ", ") + s;
  CLI::App* c = app.add_subcommand("make-model", "Write a random-weight model of a real shape (" + shapes + ")");
  c->add_option("--shape", o->shape, "Shape name")->required();
  c->add_option("--dtype", o->dtype, "bf16, f16 or f32")->check(CLI::IsMember({"bf16", "f16", "f32"}))->capture_default_str();
  c->add_option("--out", o->out, "Output folder")->required();
  c->add_option("--layers", o->layers, "Number of layers (default: the real depth)")->check(CLI::NonNegativeNumber);
  c->add_option("--seed", o->seed, "Seed of the random values")->capture_default_str();
  c->add_flag("--no-tokenizer", o->no_tokenizer, "Do not copy the Qwen2.5 tokenizer files");
  cmds.emplace_back(c, [o] {
    MakeModelOptions m;
    m.shape = o->shape;
    m.dtype = o->dtype == "f32" ? DType::F32 : o->dtype == "f16" ? DType::F16 : DType::BF16;
    m.out = o->out;
    m.layers = o->layers;
    m.seed = o->seed;
    if (!o->no_tokenizer) {
      m.tokenizer_dir = data_dir() + "/tokenizers/qwen2.5";
      if (!std::filesystem::exists(m.tokenizer_dir + "/vocab.json"))
        fail(m.tokenizer_dir, ": Qwen2.5 tokenizer files not found; set S1_DATA_DIR to the repo's data/ folder or pass --no-tokenizer");
    }
    make_model(m, [](const char* line) { std::fprintf(stderr, "\r%s", line); });
    std::fprintf(stderr, "\nwrote %s\n", o->out.c_str());
    return 0;
  });
}

}  // namespace s1::cli
