// ProfiledBackend (s1 bench --profile): wrapping a backend changes no result, and the
// per-op counts and bytes of one decode step are what the model must read.
#include <gtest/gtest.h>

#include <memory>
#include <span>
#include <vector>

#include "backend/profiled_backend.h"
#include "model/model.h"

namespace s1 {
namespace {

const std::string kModel = std::string(S1_TEST_DATA) + "/reference/models/qwen2-untied-mqa/f32";

TEST(ProfiledBackend, CountsOneDecodeStepAndChangesNothing) {
  auto plain = Model::load(kModel, make_cpu_backend(2));
  auto prof = std::make_shared<ProfiledBackend>(make_cpu_backend(2));
  auto timed = Model::load(kModel, prof);
  const ModelConfig& c = timed->config();
  const std::vector<int32_t> prompt = {3, 14, 15, 92, 65};
  std::vector<float> want(size_t(c.vocab_size)), got(want.size());
  KVCache kv_a(*plain, 16), kv_b(*timed, 16);
  plain->forward(kv_a, prompt, want.data());
  timed->forward(kv_b, prompt, got.data());
  prof->reset();
  const int32_t next = 35;
  plain->forward(kv_a, std::span<const int32_t>(&next, 1), want.data());
  timed->forward(kv_b, std::span<const int32_t>(&next, 1), got.data());
  EXPECT_EQ(got, want);

  const auto& st = prof->stats();
  ASSERT_TRUE(st.count("attention"));
  EXPECT_EQ(st.at("attention").calls, c.layers);
  // one decode step at position 5 reads 6 cached positions of keys and values per layer
  EXPECT_DOUBLE_EQ(st.at("attention").bytes, double(c.layers) * 6 * 2 * double(c.kv_dim()) * sizeof(float));
  double matmul_bytes = 0;
  for (const auto& [op, s] : st) {
    EXPECT_GT(s.calls, 0) << op;
    EXPECT_GE(s.seconds, 0.0) << op;
    if (op.rfind("matmul", 0) == 0 || op.rfind("mlp", 0) == 0) matmul_bytes += s.bytes;
  }
  double weights = double(timed->weights().lm_head.bytes());
  for (const auto& L : timed->weights().layers)
    for (const WeightMatrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) weights += double(m->bytes());
  EXPECT_DOUBLE_EQ(matmul_bytes, weights);
}

}  // namespace
}  // namespace s1
