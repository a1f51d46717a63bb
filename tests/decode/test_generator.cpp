// The decoding loop on a fixture model: greedy generation equals the transformers
// greedy ids, and a controller can force and forbid tokens without re-prefill.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "decode/generator.h"
#include "formats/safetensors.h"

namespace s1 {
namespace {

const std::string kDir = std::string(S1_TEST_DATA) + "/reference/models/qwen2-tied/";

std::vector<int32_t> ref_ids(const std::string& name) {
  SafetensorsFile f(kDir + "reference.safetensors");
  for (const auto& t : f.tensors())
    if (t.name == name) {
      std::vector<int32_t> v(t.numel());
      for (int64_t i = 0; i < t.numel(); ++i) {
        int64_t x;
        std::memcpy(&x, t.data + 8 * i, 8);
        v[i] = int32_t(x);
      }
      return v;
    }
  return {};
}

TEST(Generator, GreedyEqualsTransformers) {
  auto model = Model::load(kDir + "f32", make_cpu_backend(2));
  auto prompt = ref_ids("greedy_prompt");
  auto want = ref_ids("greedy_ids");
  KVCache kv(*model, 64);
  GenerateParams p;
  p.max_new_tokens = int64_t(want.size());
  p.sampling.temperature = 0;
  std::vector<int32_t> streamed;
  auto r = generate(*model, kv, prompt, p, nullptr, [&](int32_t id) { streamed.push_back(id); });
  // the first 16 greedy steps of this fixture have clear margins
  ASSERT_GE(r.output_ids.size(), 16u);
  EXPECT_EQ(std::vector<int32_t>(r.output_ids.begin(), r.output_ids.begin() + 16),
            std::vector<int32_t>(want.begin(), want.begin() + 16));
  EXPECT_EQ(streamed, r.output_ids);
  EXPECT_EQ(r.stop_reason, "length");
  EXPECT_EQ(kv.pos(), int64_t(prompt.size() + r.output_ids.size()) - 1);
}

// Forces a fixed sequence, then forbids one token for the rest of the run.
class ForceThenForbid : public Controller {
 public:
  std::vector<int32_t> force = {7, 8, 9};
  int32_t forbidden = -1;
  size_t next = 0;
  std::vector<std::pair<int32_t, bool>> seen;
  std::optional<int32_t> forced_token() override {
    if (next < force.size()) return force[next++];
    return std::nullopt;
  }
  void shape_logits(std::span<float> l) override {
    if (forbidden >= 0) l[forbidden] = -INFINITY;
  }
  void on_token(int32_t id, bool forced) override { seen.emplace_back(id, forced); }
};

TEST(Generator, ControllerForcesAndForbids) {
  auto model = Model::load(kDir + "f32", make_cpu_backend(2));
  auto prompt = ref_ids("greedy_prompt");
  auto want = ref_ids("greedy_ids");
  GenerateParams p;
  p.max_new_tokens = 10;
  p.sampling.temperature = 0;
  ForceThenForbid c;
  c.forbidden = want[0];
  KVCache kv(*model, 64);
  auto r = generate(*model, kv, prompt, p, &c);
  ASSERT_EQ(r.output_ids.size(), 10u);
  EXPECT_EQ(r.output_ids[0], 7);
  EXPECT_EQ(r.output_ids[2], 9);
  EXPECT_TRUE(c.seen[0].second);
  EXPECT_FALSE(c.seen[3].second);
  for (size_t i = 3; i < r.output_ids.size(); ++i) EXPECT_NE(r.output_ids[i], want[0]);

  // The same tokens through a fresh full prefill give the same next-token logits:
  // forced tokens went through the KV cache exactly like sampled ones.
  std::vector<int32_t> all = prompt;
  all.insert(all.end(), r.output_ids.begin(), r.output_ids.end() - 1);
  KVCache fresh(*model, 64);
  std::vector<float> a(model->config().vocab_size), b(model->config().vocab_size);
  model->forward(fresh, all, a.data());
  int32_t last = r.output_ids.back();
  model->forward(kv, std::span<const int32_t>(&last, 1), b.data());
  KVCache fresh2(*model, 64);
  all.push_back(last);
  model->forward(fresh2, all, a.data());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-4f);
}

TEST(Generator, StopsAtEosAndContext) {
  auto model = Model::load(kDir + "f32", make_cpu_backend(2));
  auto prompt = ref_ids("greedy_prompt");
  auto want = ref_ids("greedy_ids");
  GenerateParams p;
  p.max_new_tokens = 32;
  p.sampling.temperature = 0;
  // stop at the first greedy token that did not occur before it
  size_t k = 1;
  while (std::find(want.begin(), want.begin() + k, want[k]) != want.begin() + k) ++k;
  p.stop_ids = {want[k]};
  KVCache kv(*model, 64);
  auto r = generate(*model, kv, prompt, p);
  EXPECT_EQ(r.stop_reason, "eos");
  EXPECT_EQ(r.output_ids.size(), k + 1);

  KVCache small(*model, int64_t(prompt.size()) + 4);
  GenerateParams q;
  q.max_new_tokens = 100;
  q.sampling.temperature = 0;
  auto r2 = generate(*model, small, prompt, q);
  EXPECT_EQ(r2.stop_reason, "context");
  EXPECT_EQ(r2.output_ids.size(), 5u);
}

}  // namespace
}  // namespace s1
