// Hugging Face folders: both rope forms, sharded checkpoints, the real 32B index,
// a checkpoint from a foreign writer.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/mapped_file.h"
#include "formats/safetensors.h"
#include "model/model.h"

namespace s1 {
namespace {
namespace fs = std::filesystem;

const std::string kData = S1_TEST_DATA;
const std::string kRepoData = S1_REPO_DATA;

nlohmann::json json_file(const std::string& p) { return nlohmann::json::parse(read_text_file(p)); }

TEST(HfConfig, HubFormQwen25) {
  auto c = parse_hf_config(json_file(kRepoData + "/configs/32b-instruct/config.json"), "32b");
  EXPECT_EQ(c.arch, Arch::Qwen2);
  EXPECT_EQ(c.hidden, 5120);
  EXPECT_EQ(c.layers, 64);
  EXPECT_EQ(c.heads, 40);
  EXPECT_EQ(c.kv_heads, 8);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.vocab_size, 152064);
  EXPECT_FALSE(c.tied_embeddings);
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_EQ(c.rope.theta, 1000000.0);
  auto half = parse_hf_config(json_file(kRepoData + "/configs/0.5b-instruct/config.json"), "0.5b");
  EXPECT_TRUE(half.tied_embeddings);
  merge_generation_config(half, json_file(kRepoData + "/configs/0.5b-instruct/generation_config.json"));
  EXPECT_EQ(half.eos_ids, (std::vector<int32_t>{151645, 151643}));  // eos as a list
}

TEST(HfConfig, RopeScalingBothForms) {
  nlohmann::json v5 = json_file(kData + "/reference/models/llama3-rope-scaled/f32/config.json");
  nlohmann::json hub = v5;
  nlohmann::json p = hub["rope_parameters"];
  hub.erase("rope_parameters");
  hub["rope_theta"] = p["rope_theta"];
  p.erase("rope_theta");
  hub["rope_scaling"] = p;
  auto a = parse_hf_config(v5, "v5"), b = parse_hf_config(hub, "hub");
  EXPECT_EQ(a.rope.type, RopeType::Llama3);
  EXPECT_EQ(rope_inv_freq(a.rope, a.head_dim), rope_inv_freq(b.rope, b.head_dim));
  hub["rope_scaling"]["rope_type"] = "yarn";
  try {
    parse_hf_config(hub, "cfg.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("yarn"), std::string::npos);
  }
}

struct TempDir {
  fs::path p;
  explicit TempDir(const std::string& name) : p(fs::temp_directory_path() / (name + std::to_string(::getpid()))) {
    fs::remove_all(p);
    fs::create_directories(p);
  }
  ~TempDir() { fs::remove_all(p); }
};

TEST(HfFolder, ShardedEqualsSingleFile) {
  const std::string src = kData + "/reference/models/qwen2-untied-mqa/f32";
  TempDir d("s1-shards");
  fs::copy_file(src + "/config.json", d.p / "config.json");
  SafetensorsFile whole(src + "/model.safetensors");
  std::vector<TensorToWrite> s1v, s2v;
  nlohmann::json map = nlohmann::json::object();
  for (size_t i = 0; i < whole.tensors().size(); ++i) {
    const auto& t = whole.tensors()[i];
    (i % 2 ? s1v : s2v).push_back({t.name, t.dtype, t.shape, t.data, t.nbytes});
    map[t.name] = i % 2 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  write_safetensors((d.p / "model-00001-of-00002.safetensors").string(), s1v);
  write_safetensors((d.p / "model-00002-of-00002.safetensors").string(), s2v);
  std::ofstream(d.p / "model.safetensors.index.json") << nlohmann::json{{"metadata", {}}, {"weight_map", map}}.dump();

  auto a = Model::load(src, make_cpu_backend(1));
  auto b = Model::load(d.p.string(), make_cpu_backend(1));
  std::vector<int32_t> ids = {3, 1, 4, 1, 5, 9, 2, 6};
  std::vector<float> la(a->config().vocab_size), lb(la.size());
  KVCache ka(*a, 16), kb(*b, 16);
  a->forward(ka, ids, la.data());
  b->forward(kb, ids, lb.data());
  EXPECT_EQ(la, lb);

  fs::remove(d.p / "model-00002-of-00002.safetensors");
  try {
    Model::load(d.p.string(), make_cpu_backend(1));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model-00002-of-00002.safetensors, which is missing"), std::string::npos) << e.what();
  }
}

TEST(HfFolder, Real32BIndexNamesTheMissingShard) {
  TempDir d("s1-32b");
  fs::copy_file(kRepoData + "/configs/32b-instruct/config.json", d.p / "config.json");
  fs::copy_file(kRepoData + "/configs/32b-instruct/model.safetensors.index.json", d.p / "model.safetensors.index.json");
  auto idx = json_file((d.p / "model.safetensors.index.json").string());
  EXPECT_EQ(idx["weight_map"].size(), 771u);
  try {
    Model::load(d.p.string(), make_cpu_backend(1));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model-00001-of-00017.safetensors, which is missing"), std::string::npos) << e.what();
  }
}

TEST(HfFolder, ForeignWriterLlamaBf16) {
  // Written by another project's tooling (tests/data/third-party-tiny-llama/PROVENANCE.txt).
  auto m = Model::load(kData + "/third-party-tiny-llama", make_cpu_backend(2));
  EXPECT_EQ(m->config().arch, Arch::Llama);
  EXPECT_EQ(m->config().layers, 4);
  EXPECT_EQ(m->weights().embed.dtype, DType::BF16);
  std::vector<int32_t> ids = {4, 5, 10, 6, 7, 10, 8};
  const int64_t V = m->config().vocab_size;
  std::vector<float> all(ids.size() * V), step(V);
  KVCache kv(*m, 16);
  m->forward(kv, ids, all.data(), true);
  for (float x : all) ASSERT_TRUE(std::isfinite(x));
  KVCache kv2(*m, 16);
  m->forward(kv2, std::span<const int32_t>(ids.data(), 3), step.data());
  for (size_t t = 3; t < ids.size(); ++t) m->forward(kv2, std::span<const int32_t>(&ids[t], 1), step.data());
  for (int64_t v = 0; v < V; ++v) EXPECT_NEAR(step[v], all[(ids.size() - 1) * V + v], 1e-4);
}

}  // namespace
}  // namespace s1
