// Batched decoding must equal decoding each sequence alone: sequences at different
// positions (different rope angles and cache lengths), every family switch
// (QKV bias, q/k norm, llama3 rope scaling, MQA).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "backend/backend.h"
#include "core/error.h"
#include "model/model.h"

using namespace s1;

namespace {
const std::string kModels = std::string(S1_TEST_DATA) + "/reference/models/";

class ForwardBatch : public ::testing::TestWithParam<std::string> {};

TEST_P(ForwardBatch, EqualsOneSequenceAtATime) {
  auto model = Model::load(kModels + GetParam() + "/f32", make_cpu_backend(1));
  const int64_t V = model->config().vocab_size;
  // Three sequences with prompts of different lengths.
  std::vector<std::vector<int32_t>> prompts = {{1, 2, 3, 4, 5, 6, 7}, {9, 8}, {100, 200, 300, 400, 17}};
  const int S = int(prompts.size());
  std::vector<std::unique_ptr<KVCache>> alone, batched;
  std::vector<float> logits(static_cast<size_t>(V));
  for (auto& p : prompts) {
    alone.push_back(std::make_unique<KVCache>(*model, 64));
    batched.push_back(std::make_unique<KVCache>(*model, 64));
    model->forward(*alone.back(), p, logits.data());
    model->forward(*batched.back(), p, logits.data());
  }
  std::vector<KVCache*> kvs;
  for (auto& k : batched) kvs.push_back(k.get());
  for (int step = 0; step < 4; ++step) {
    std::vector<int32_t> toks = {int32_t(10 + step), int32_t(50 + 3 * step), int32_t(500 - step)};
    std::vector<float> many(size_t(S) * V);
    model->forward_batch(kvs, toks, many.data());
    for (int s = 0; s < S; ++s) {
      model->forward(*alone[s], std::span<const int32_t>(&toks[s], 1), logits.data());
      float maxabs = 0, maxdiff = 0;
      for (int64_t v = 0; v < V; ++v) {
        maxabs = std::max(maxabs, std::fabs(logits[v]));
        maxdiff = std::max(maxdiff, std::fabs(logits[v] - many[size_t(s) * V + v]));
      }
      EXPECT_LE(maxdiff, 1e-5f * std::max(1.0f, maxabs)) << "sequence " << s << " step " << step;
      EXPECT_EQ(alone[s]->pos(), batched[s]->pos());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ForwardBatch,
                         ::testing::Values("qwen2-tied", "qwen2-untied-mqa", "qwen3-tied", "llama-untied",
                                           "llama3-rope-scaled"));

TEST(ForwardBatchErrors, RejectsSharedCachesAndMismatchedCounts) {
  auto model = Model::load(kModels + "qwen2-tied/f32", make_cpu_backend(1));
  KVCache a(*model, 8), b(*model, 1);
  std::vector<float> out(size_t(model->config().vocab_size) * 2);
  std::vector<int32_t> two = {1, 2};
  std::vector<KVCache*> same = {&a, &a};
  EXPECT_THROW(model->forward_batch(same, two, out.data()), Error);
  std::vector<KVCache*> one = {&a};
  EXPECT_THROW(model->forward_batch(one, two, out.data()), Error);
  std::vector<int32_t> bad = {1, int32_t(model->config().vocab_size)};
  std::vector<KVCache*> ab = {&a, &b};
  EXPECT_THROW(model->forward_batch(ab, bad, out.data()), Error);
  model->forward(b, std::vector<int32_t>{3}, out.data());  // b is now full
  EXPECT_THROW(model->forward_batch(ab, two, out.data()), Error);
}

}  // namespace
