// Random-weight checkpoints load back through the normal loader with the shapes of
// the real models.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "model/make_model.h"
#include "model/model.h"

namespace s1 {
namespace {
namespace fs = std::filesystem;

TEST(MakeModel, WritesLoadableRealShapes) {
  fs::path dir = fs::temp_directory_path() / ("s1-make-" + std::to_string(::getpid()));
  for (const char* shape : {"smollm2-135m", "qwen3-0.6b"}) {
    fs::remove_all(dir);
    MakeModelOptions o;
    o.shape = shape;
    o.dtype = DType::BF16;
    o.out = dir.string();
    o.layers = 1;
    make_model(o);
    auto m = Model::load(dir.string(), make_cpu_backend(2));
    const auto& c = m->config();
    EXPECT_EQ(c.layers, 1);
    if (std::string(shape) == "qwen3-0.6b") {
      EXPECT_EQ(c.arch, Arch::Qwen3);
      EXPECT_EQ(c.head_dim, 128);
      EXPECT_EQ(c.hidden, 1024);
      EXPECT_EQ(c.vocab_size, 151936);
    } else {
      EXPECT_EQ(c.arch, Arch::Llama);
      EXPECT_EQ(c.hidden, 576);
      EXPECT_EQ(c.kv_heads, 3);
    }
    KVCache kv(*m, 8);
    std::vector<float> logits(c.vocab_size);
    std::vector<int32_t> ids = {1, 2, 3};
    m->forward(kv, ids, logits.data());
    float mx = 0;
    for (float x : logits) mx = std::max(mx, std::fabs(x));
    EXPECT_GT(mx, 0.0f);
    EXPECT_TRUE(std::isfinite(mx));
  }
  fs::remove_all(dir);
  MakeModelOptions bad;
  bad.shape = "no-such-shape";
  bad.out = dir.string();
  EXPECT_THROW(make_model(bad), Error);
}

}  // namespace
}  // namespace s1
