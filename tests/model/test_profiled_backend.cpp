// ProfiledBackend (s1 bench --profile): wrapping a backend changes no result, and the
// per-op counts and bytes of one decode step are what the model must read; and
// Model::decode_reads (s1 bench --plain-read) lists the same memory.
#include <gtest/gtest.h>

#include <algorithm>
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

// Model::decode_reads (what s1 bench --plain-read reads) lists the bytes a decode step
// reads: every matrix the profile counts, and the cached keys and values of each kv head,
// in runs that do not overlap.
TEST(DecodeReads, ListTheWeightsAndEachKvHeadsCache) {
  auto model = Model::load(kModel, make_cpu_backend(2));
  const ModelConfig& c = model->config();
  KVCache kv(*model, 40);
  std::vector<float> logits(size_t(c.vocab_size));
  const std::vector<int32_t> prompt = {3, 14, 15, 92, 65, 35, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4, 3};
  model->forward(kv, prompt, logits.data());
  const Model::DecodeReads reads = model->decode_reads(kv);
  double weights = 0, want = double(model->weights().lm_head.bytes());
  for (const auto& r : reads.weights) weights += double(r.bytes);
  for (const auto& L : model->weights().layers)
    for (const WeightMatrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) want += double(m->bytes());
  EXPECT_EQ(weights, want);
  ASSERT_EQ(reads.kv_heads.size(), size_t(c.kv_heads));
  std::vector<std::pair<const uint8_t*, size_t>> runs;
  double kv_bytes = 0;
  for (const auto& head : reads.kv_heads) {
    EXPECT_EQ(head.size(), size_t(2 * c.layers));
    for (const auto& r : head) {
      EXPECT_EQ(r.bytes, prompt.size() * size_t(c.head_dim) * (kv.bf16() ? 2 : 4));
      runs.push_back({static_cast<const uint8_t*>(r.data), r.bytes});
      kv_bytes += double(r.bytes);
    }
  }
  EXPECT_EQ(kv_bytes, double(kv.bytes_per_token()) * double(prompt.size()));
  std::sort(runs.begin(), runs.end());
  for (size_t i = 1; i < runs.size(); ++i) EXPECT_LE(runs[i - 1].first + runs[i - 1].second, runs[i].first);
}

}  // namespace
}  // namespace s1
