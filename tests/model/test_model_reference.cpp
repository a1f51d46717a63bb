// The forward pass against transformers (float64 reference) for the five fixture
// architectures: tests/data/reference/models/<name>/{f32,bf16,reference.safetensors}.
#include <gtest/gtest.h>

#include <random>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "backend/cpu/q8_interleaved.h"
#include "backend/cpu/simd_kernels.h"
#include "formats/safetensors.h"
#include "model/model.h"

namespace s1 {
namespace {

const std::string kModels = std::string(S1_TEST_DATA) + "/reference/models/";

struct Ref {
  SafetensorsFile file;
  explicit Ref(const std::string& name) : file(kModels + name + "/reference.safetensors") {}
  const TensorInfo& get(const std::string& n) const {
    for (const auto& t : file.tensors())
      if (t.name == n) return t;
    throw std::runtime_error("reference tensor missing: " + n);
  }
  std::vector<float> floats(const std::string& n) const {
    const auto& t = get(n);
    std::vector<float> v(t.numel());
    std::memcpy(v.data(), t.data, t.nbytes);
    return v;
  }
  std::vector<int32_t> ids(const std::string& n) const {
    const auto& t = get(n);
    std::vector<int32_t> v(t.numel());
    for (int64_t i = 0; i < t.numel(); ++i) {
      int64_t x;
      std::memcpy(&x, t.data + 8 * i, 8);
      v[i] = static_cast<int32_t>(x);
    }
    return v;
  }
  std::vector<int64_t> shape(const std::string& n) const { return get(n).shape; }
};

float max_abs(const std::vector<float>& v) {
  float m = 0;
  for (float x : v) m = std::max(m, std::fabs(x));
  return m;
}

class ModelReference : public ::testing::TestWithParam<std::string> {};

// Full-sequence logits of each row of input_ids, from one prefill of each row.
void check_logits(const std::string& name, const std::string& dtype, const std::string& ref_key, double rel_tol,
                  const LoadOptions& lo = {}) {
  auto model = Model::load(kModels + name + "/" + dtype, make_cpu_backend(2), lo);
  Ref ref(name);
  auto ids = ref.ids("input_ids");
  auto want = ref.floats(ref_key);
  auto sh = ref.shape("input_ids");
  const int64_t B = sh[0], T = sh[1], V = model->config().vocab_size;
  const double tol = rel_tol * max_abs(want);
  double worst = 0;
  for (int64_t b = 0; b < B; ++b) {
    KVCache kv(*model, T);
    std::vector<float> got(T * V);
    model->forward(kv, std::span<const int32_t>(ids.data() + b * T, T), got.data(), true);
    for (int64_t i = 0; i < T * V; ++i) worst = std::max(worst, double(std::fabs(got[i] - want[b * T * V + i])));
  }
  EXPECT_LE(worst, tol) << name << "/" << dtype << ": max |logit error| " << worst << " > " << tol;
}

TEST_P(ModelReference, LogitsF32) { check_logits(GetParam(), "f32", "logits_f32_weights", 1e-4); }
TEST_P(ModelReference, LogitsBf16) { check_logits(GetParam(), "bf16", "logits_bf16_weights", 2e-2); }

// A bf16 KV cache (what Auto picks for non-f32 weights where the CPU has AVX512-BF16;
// elsewhere the scalar path reads the same layouts): keys, values, queries and
// probabilities rounded to bf16 move the logits about as much as bf16 weights do.
LoadOptions bf16_cache() {
  LoadOptions lo;
  lo.kv_cache = LoadOptions::KvCache::BF16;
  return lo;
}
TEST_P(ModelReference, LogitsF32Bf16Cache) { check_logits(GetParam(), "f32", "logits_f32_weights", 2e-2, bf16_cache()); }
TEST_P(ModelReference, KvCacheDtypeFollowsTheWeights) {
  auto f32 = Model::load(kModels + GetParam() + "/f32", make_cpu_backend(1));
  EXPECT_FALSE(f32->kv_bf16());  // reference runs keep f32
  auto bf16 = Model::load(kModels + GetParam() + "/bf16", make_cpu_backend(1));
  EXPECT_EQ(bf16->kv_bf16(), cpu::bf16_attention_path());
  EXPECT_EQ(KVCache(*bf16, 4).bytes_per_token(), KVCache(*f32, 4).bytes_per_token() / (bf16->kv_bf16() ? 2 : 1));
  LoadOptions lo;
  lo.kv_cache = LoadOptions::KvCache::F32;
  EXPECT_FALSE(Model::load(kModels + GetParam() + "/bf16", make_cpu_backend(1), lo)->kv_bf16());
}

// The column-blocked layout that long rows get for decoding, forced onto these small
// models (32-column segments: every matrix is cut into 2 to 5 of them).
LoadOptions col_blocked(DType quantize = DType::F32) {
  LoadOptions lo;
  lo.col_block = 32;
  lo.quantize = quantize;
  return lo;
}
TEST_P(ModelReference, LogitsF32ColumnBlocked) { check_logits(GetParam(), "f32", "logits_f32_weights", 1e-4, col_blocked()); }
TEST_P(ModelReference, LogitsBf16ColumnBlocked) {
  check_logits(GetParam(), "bf16", "logits_bf16_weights", 2e-2, col_blocked());
}
TEST_P(ModelReference, LogitsQ8_0ColumnBlocked) {
  check_logits(GetParam(), "f32", "logits_f32_weights", 5e-2, col_blocked(DType::Q8_0));
}

// The KV cache grows (256 positions, then doubling) by copying each kv head's rows into
// the new buffer: a sequence that crosses the growth point token by token gives the
// logits of one prefill of the whole sequence.
class KvGrowth : public ::testing::TestWithParam<std::tuple<std::string, LoadOptions::KvCache>> {};
TEST_P(KvGrowth, KeepsEveryPosition) {
  LoadOptions lo;
  lo.kv_cache = std::get<1>(GetParam());
  auto model = Model::load(kModels + std::get<0>(GetParam()) + "/f32", make_cpu_backend(2), lo);
  const int64_t V = model->config().vocab_size, T = 300;
  std::mt19937 rng(3);
  std::uniform_int_distribution<int32_t> tok(0, int32_t(V - 1));
  std::vector<int32_t> ids(T);
  for (auto& t : ids) t = tok(rng);
  KVCache whole(*model, T);
  std::vector<float> want(static_cast<size_t>(V)), got(static_cast<size_t>(V));
  model->forward(whole, ids, want.data());
  KVCache grown(*model, T);
  model->forward(grown, std::span<const int32_t>(ids.data(), 250), got.data());
  for (int64_t t = 250; t < T; ++t) model->forward(grown, std::span<const int32_t>(ids.data() + t, 1), got.data());
  for (int64_t v = 0; v < V; ++v) ASSERT_NEAR(got[size_t(v)], want[size_t(v)], 1e-4 * (1 + max_abs(want)));
}
INSTANTIATE_TEST_SUITE_P(Fixtures, KvGrowth,
                         ::testing::Combine(::testing::Values("qwen2-tied", "qwen2-untied-mqa", "llama-untied"),
                                            ::testing::Values(LoadOptions::KvCache::F32, LoadOptions::KvCache::BF16)),
                         [](const auto& info) {
                           std::string s = std::get<0>(info.param);
                           std::replace(s.begin(), s.end(), '-', '_');
                           return s + (std::get<1>(info.param) == LoadOptions::KvCache::BF16 ? "_bf16" : "_f32");
                         });

TEST_P(ModelReference, PrefillThenDecodeEqualsFullPass) {
  const std::string name = GetParam();
  auto model = Model::load(kModels + name + "/f32", make_cpu_backend(2));
  Ref ref(name);
  auto ids = ref.ids("input_ids");
  const int64_t T = ref.shape("input_ids")[1], V = model->config().vocab_size;
  std::vector<float> full(T * V);
  {
    KVCache kv(*model, T);
    model->forward(kv, std::span<const int32_t>(ids.data(), T), full.data(), true);
  }
  // Prefill 13 tokens, then one token at a time: every step's logits match the full pass.
  KVCache kv(*model, T);
  std::vector<float> step(V);
  const int64_t P = 13;
  model->forward(kv, std::span<const int32_t>(ids.data(), P), step.data());
  double worst = 0;
  for (int64_t v = 0; v < V; ++v) worst = std::max(worst, double(std::fabs(step[v] - full[(P - 1) * V + v])));
  for (int64_t t = P; t < T; ++t) {
    model->forward(kv, std::span<const int32_t>(ids.data() + t, 1), step.data());
    for (int64_t v = 0; v < V; ++v) worst = std::max(worst, double(std::fabs(step[v] - full[t * V + v])));
  }
  EXPECT_LE(worst, 1e-5 * max_abs(full)) << name;
}

TEST_P(ModelReference, GreedyMatches) {
  const std::string name = GetParam();
  auto model = Model::load(kModels + name + "/f32", make_cpu_backend(2));
  Ref ref(name);
  auto prompt = ref.ids("greedy_prompt");
  auto want = ref.ids("greedy_ids");
  auto margin = ref.floats("greedy_top2_margin");
  const int64_t V = model->config().vocab_size;
  KVCache kv(*model, int64_t(prompt.size() + want.size()));
  std::vector<float> logits(V);
  model->forward(kv, prompt, logits.data());
  int checked = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    int32_t best = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
    if (margin[i] > 1e-3f) {
      ASSERT_EQ(best, want[i]) << name << " step " << i;
      ++checked;
    }
    // Continue from the reference token so one near-tie cannot derail the rest.
    int32_t next = want[i];
    model->forward(kv, std::span<const int32_t>(&next, 1), logits.data());
  }
  EXPECT_GT(checked, 16);
}

// The largest logit error over the long fixture sequence (several 256-position attention
// chunks), relative to the largest logit.
double long_context_error(const std::string& name, const LoadOptions& lo = {}) {
  auto model = Model::load(kModels + name + "/f32", make_cpu_backend(2), lo);
  Ref ref(name);
  auto ids = ref.ids("long_input_ids");
  auto want = ref.floats("long_logits_f32_weights");
  const int64_t T = int64_t(ids.size()), V = model->config().vocab_size;
  KVCache kv(*model, T);
  std::vector<float> got(T * V);
  model->forward(kv, ids, got.data(), true);
  double worst = 0;
  for (int64_t i = 0; i < T * V; ++i) worst = std::max(worst, double(std::fabs(got[i] - want[i])));
  return worst / max_abs(want);
}

TEST_P(ModelReference, LongContextLogits) { EXPECT_LE(long_context_error(GetParam()), 1e-4) << GetParam(); }
TEST_P(ModelReference, LongContextLogitsBf16Cache) {
  const double rel = long_context_error(GetParam(), bf16_cache());
  std::printf("[ bf16 cache ] %s: max |logit error| over the long sequence = %.3g x max|logit|\n", GetParam().c_str(), rel);
  EXPECT_LE(rel, 2e-2) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ModelReference,
                         ::testing::Values("qwen2-tied", "qwen2-untied-mqa", "qwen3-tied", "llama-untied",
                                           "llama3-rope-scaled"),
                         [](const auto& info) {
                           std::string s = info.param;
                           std::replace(s.begin(), s.end(), '-', '_');
                           return s;
                         });

}  // namespace
}  // namespace s1

namespace s1 {
namespace {

// Q8_0 at load: the error against the f32 reference, reported (and bounded: 8-bit
// weights of these random models shift the logits by a few percent of their range).
TEST_P(ModelReference, Q8_0LogitError) {
  const std::string name = GetParam();
  LoadOptions lo;
  lo.quantize = DType::Q8_0;
  auto model = Model::load(kModels + name + "/f32", make_cpu_backend(2), lo);
  Ref ref(name);
  auto ids = ref.ids("input_ids");
  auto want = ref.floats("logits_f32_weights");
  const int64_t T = ref.shape("input_ids")[1], V = model->config().vocab_size;
  KVCache kv(*model, T);
  std::vector<float> got(T * V);
  model->forward(kv, std::span<const int32_t>(ids.data(), T), got.data(), true);
  double worst = 0;
  for (int64_t i = 0; i < T * V; ++i) worst = std::max(worst, double(std::fabs(got[i] - want[i])));
  const double rel = worst / max_abs(want);
  RecordProperty("q8_0_max_rel_logit_error", std::to_string(rel));
  std::printf("[ q8_0 ] %s: max |logit error| = %.4g x max|logit|\n", name.c_str(), rel);
  EXPECT_LT(rel, 5e-2);

  // prefill then token-by-token decode: the same numbers as the full pass
  KVCache kv2(*model, T);
  std::vector<float> step(V);
  model->forward(kv2, std::span<const int32_t>(ids.data(), 9), step.data());
  for (int64_t t = 9; t < T; ++t) model->forward(kv2, std::span<const int32_t>(ids.data() + t, 1), step.data());
  for (int64_t v = 0; v < V; ++v) ASSERT_NEAR(step[v], got[(T - 1) * V + v], 1e-5 * max_abs(want));

  // Where the CPU has AVX512-VNNI the matrices were reordered (Q8_0_IL); kept as Q8_0
  // (the int16 kernel) the logits differ only by the two roundings of the activations.
  // (With an f32 KV cache for both: a bf16 one would round those tiny differences to
  // whole bf16 steps.)
  if (!cpu::q8_il_path()) return;
  EXPECT_EQ(model->weights().layers[0].w_up.dtype, DType::Q8_0_IL);
  lo.kv_cache = LoadOptions::KvCache::F32;
  auto il = Model::load(kModels + name + "/f32", make_cpu_backend(2), lo);
  lo.q8_interleave = false;
  auto plain = Model::load(kModels + name + "/f32", make_cpu_backend(2), lo);
  EXPECT_EQ(plain->weights().layers[0].w_up.dtype, DType::Q8_0);
  KVCache kv3(*plain, T), kv4(*il, T);
  std::vector<float> got_plain(T * V), got_il(T * V);
  plain->forward(kv3, std::span<const int32_t>(ids.data(), T), got_plain.data(), true);
  il->forward(kv4, std::span<const int32_t>(ids.data(), T), got_il.data(), true);
  double diff = 0;
  for (int64_t i = 0; i < T * V; ++i) diff = std::max(diff, double(std::fabs(got_il[i] - got_plain[i])));
  std::printf("[ q8_0 ] %s: Q8_0_IL vs Q8_0 int16 path: max |logit difference| = %.3g x max|logit|\n", name.c_str(),
              diff / max_abs(want));
  EXPECT_LT(diff, 1e-3 * max_abs(want));
}

}  // namespace
}  // namespace s1
