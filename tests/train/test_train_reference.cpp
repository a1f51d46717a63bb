// The training pass against PyTorch (float64 reference, tests/data/reference/models/*/
// train-reference.*): loss, every parameter's gradient, the global gradient norm, and
// the parameters after one and two AdamW steps, for a Qwen2 (QKV bias, tied head), a
// Qwen3 (q/k norm, head_dim != hidden/heads) and a Llama (untied head) model. Also the
// training forward against the engine's own Model::forward logits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/safetensors.h"
#include "model/model.h"
#include "model/train_params.h"
#include "model/transformer_train.h"
#include "train/optimizer.h"

namespace s1 {
namespace {

const std::string kModels = std::string(S1_TEST_DATA) + "/reference/models/";

struct Ref {
  SafetensorsFile file;
  nlohmann::json meta;
  explicit Ref(const std::string& name) : file(kModels + name + "/train-reference.safetensors") {
    std::ifstream f(kModels + name + "/train-reference.json");
    meta = nlohmann::json::parse(f);
  }
  const TensorInfo* find(const std::string& n) const {
    for (const auto& t : file.tensors())
      if (t.name == n) return &t;
    return nullptr;
  }
  std::vector<double> floats(const std::string& n) const {
    const auto* t = find(n);
    if (!t) throw std::runtime_error("reference tensor missing: " + n);
    std::vector<double> v(size_t(t->numel()));
    for (size_t i = 0; i < v.size(); ++i) {
      if (t->dtype == DType::F32) {
        float f;
        std::memcpy(&f, t->data + 4 * i, 4);
        v[i] = f;
      } else {
        std::memcpy(&v[i], t->data + 8 * i, 8);
      }
    }
    return v;
  }
  std::vector<int64_t> ints(const std::string& n) const {
    const auto* t = find(n);
    std::vector<int64_t> v(size_t(t->numel()));
    std::memcpy(v.data(), t->data, t->nbytes);
    return v;
  }
};

struct Err {
  double rel, max_abs, ref_max;
};
Err compare(const float* got, const std::vector<double>& want) {
  double d2 = 0, r2 = 0, mx = 0, rmax = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double d = double(got[i]) - want[i];
    d2 += d * d;
    r2 += want[i] * want[i];
    mx = std::max(mx, std::fabs(d));
    rmax = std::max(rmax, std::fabs(want[i]));
  }
  return {r2 > 0 ? std::sqrt(d2 / r2) : std::sqrt(d2), mx, rmax};
}

// The batch of the fixture: rows of input_ids with HF labels (-100 = no loss), shifted
// into per-position targets.
struct Batch {
  std::vector<std::vector<int32_t>> ids, targets;
  int64_t valid = 0;
  explicit Batch(const Ref& ref) {
    const auto in = ref.ints("input_ids"), lab = ref.ints("labels");
    const int64_t rows = ref.find("input_ids")->shape[0], T = ref.find("input_ids")->shape[1];
    for (int64_t b = 0; b < rows; ++b) {
      std::vector<int32_t> i(static_cast<size_t>(T)), t(static_cast<size_t>(T), kIgnoreIndex);
      for (int64_t p = 0; p < T; ++p) i[size_t(p)] = int32_t(in[size_t(b * T + p)]);
      for (int64_t p = 0; p + 1 < T; ++p) {
        t[size_t(p)] = int32_t(lab[size_t(b * T + p + 1)]);
        if (t[size_t(p)] != kIgnoreIndex) ++valid;
      }
      ids.push_back(i);
      targets.push_back(t);
    }
  }
};

struct Case {
  std::string model;
  bool checkpoint;
  bool one_row_per_micro_batch;  // gradient accumulation over micro-batches vs one packed micro-batch
};

class TrainReference : public ::testing::TestWithParam<Case> {};

// Loss and gradients of the batch at `params`, either as one micro-batch or accumulated.
double loss_and_grads(TrainGraph& g, const float* params, std::vector<float>& grads, const Batch& b, bool per_row) {
  std::fill(grads.begin(), grads.end(), 0.0f);
  const float scale = float(1.0 / double(b.valid));
  double sum = 0;
  if (per_row) {
    for (size_t r = 0; r < b.ids.size(); ++r) {
      TrainSequence s{b.ids[r], b.targets[r]};
      sum += g.forward_backward(params, grads.data(), {&s, 1}, scale);
    }
  } else {
    std::vector<TrainSequence> seqs;
    for (size_t r = 0; r < b.ids.size(); ++r) seqs.push_back({b.ids[r], b.targets[r]});
    sum = g.forward_backward(params, grads.data(), seqs, scale);
  }
  return sum / double(b.valid);
}

TEST_P(TrainReference, LossGradientsAndAdamWSteps) {
  const Case& tc = GetParam();
  auto model = Model::load(kModels + tc.model + "/f32", make_cpu_backend(2));
  Ref ref(tc.model);
  Batch batch(ref);
  ParamLayout lay(model->config());
  std::vector<float> params = load_params(*model, lay), grads(lay.total());
  // Every tensor the fixture trains is in our layout and vice versa.
  const auto& names = ref.meta["parameter_names"];
  ASSERT_EQ(names.size(), lay.tensors().size());
  for (const auto& nm : names) EXPECT_NE(lay.find(nm.get<std::string>()), nullptr) << nm;

  TrainGraph graph(lay, model->backend(), tc.checkpoint);
  const double loss = loss_and_grads(graph, params.data(), grads, batch, tc.one_row_per_micro_batch);
  const double want_loss = ref.meta["losses"][0].get<double>();
  EXPECT_NEAR(loss, want_loss, 1e-5 * want_loss) << tc.model;

  double worst = 0;
  for (const auto& t : lay.tensors()) {
    const auto want = ref.floats("grad." + t.name);
    ASSERT_EQ(want.size(), t.size) << t.name;
    const Err e = compare(grads.data() + t.offset, want);
    worst = std::max(worst, e.rel);
    EXPECT_LE(e.rel, 1e-4) << t.name;
    EXPECT_LE(e.max_abs, 1e-4 * e.ref_max + 1e-9) << t.name;
  }
  std::printf("%s (checkpoint=%d, per-row=%d): loss %.9f (ref %.9f), worst gradient rel error %.3g\n", tc.model.c_str(),
              int(tc.checkpoint), int(tc.one_row_per_micro_batch), loss, want_loss, worst);
  const double norm = train::grad_norm(grads.data(), grads.size(), 2);
  EXPECT_NEAR(norm, ref.meta["grad_global_norm_step1"].get<double>(), 1e-5 * norm);

  // Two AdamW steps on the same batch, as the fixture's torch.optim.AdamW (every
  // parameter decayed, no clipping, constant lr 1e-3).
  train::AdamWConfig oc;
  oc.decay_biases = true;
  train::AdamW opt(lay, oc);
  for (int step = 1; step <= 2; ++step) {
    if (step == 2) {
      const double loss2 = loss_and_grads(graph, params.data(), grads, batch, tc.one_row_per_micro_batch);
      EXPECT_NEAR(loss2, ref.meta["losses"][1].get<double>(), 1e-5 * loss2);
    }
    opt.step(params.data(), grads.data(), 1e-3, 2);
    double worst_p = 0;
    for (const auto& t : lay.tensors()) {
      const auto want = ref.floats("param_after_step" + std::to_string(step) + "." + t.name);
      const Err e = compare(params.data() + t.offset, want);
      worst_p = std::max(worst_p, e.max_abs);
      // An Adam step moves every weight by about lr = 1e-3; the f32 result must agree to
      // a few percent of one step even where a gradient is tiny (its sign decides the step).
      EXPECT_LE(e.max_abs, 5e-5) << "after step " << step << ": " << t.name;
    }
    std::printf("  after AdamW step %d: max |param - ref| %.3g\n", step, worst_p);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, TrainReference,
                         ::testing::Values(Case{"qwen2-tied", false, false}, Case{"qwen3-tied", false, false},
                                           Case{"llama-untied", false, false}, Case{"qwen2-tied", true, true},
                                           Case{"qwen3-tied", true, false}, Case{"llama-untied", true, true}),
                         [](const auto& info) {
                           std::string n = info.param.model + (info.param.checkpoint ? "_ckpt" : "") +
                                           (info.param.one_row_per_micro_batch ? "_accum" : "");
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// The training forward is the engine's forward: same logits as Model::forward.
TEST(TrainForward, MatchesEngineLogits) {
  for (const char* name : {"qwen2-tied", "qwen3-tied", "llama-untied", "llama3-rope-scaled", "qwen2-untied-mqa"}) {
    auto model = Model::load(kModels + name + "/f32", make_cpu_backend(2));
    ParamLayout lay(model->config());
    std::vector<float> params = load_params(*model, lay);
    const int64_t V = model->config().vocab_size;
    std::vector<int32_t> ids;
    for (int i = 0; i < 100; ++i) ids.push_back(int32_t((i * 37 + 11) % V));
    std::vector<float> a(ids.size() * size_t(V)), b(ids.size() * size_t(V));
    KVCache kv(*model, 256);
    model->forward(kv, ids, a.data(), true);
    TrainGraph g(lay, model->backend(), false);
    g.forward_logits(params.data(), ids, b.data());
    float mx = 0, scale = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      mx = std::max(mx, std::fabs(a[i] - b[i]));
      scale = std::max(scale, std::fabs(a[i]));
    }
    EXPECT_LE(mx, 1e-5f * scale) << name;
  }
}

// The learning rate of each of the s1 recipe's 315 steps (16 warmup) against transformers.
TEST(TrainSchedule, CosineWithWarmupMatchesTransformers) {
  std::ifstream f(std::string(S1_TEST_DATA) + "/reference/train/cosine-warmup16-steps315-lr1e-5.json");
  const auto j = nlohmann::json::parse(f);
  const auto& lrs = j["lr_per_step"];
  ASSERT_EQ(lrs.size(), 315u);
  EXPECT_EQ(train::warmup_steps(315, 0.05), 16);
  for (size_t s = 0; s < lrs.size(); ++s)
    EXPECT_NEAR(train::cosine_lr(int64_t(s), 315, 16, 1e-5), lrs[s].get<double>(), 1e-12) << "step " << s;
}

TEST(TrainOptimizer, ClipsToMaxNorm) {
  std::vector<float> g = {3, 4};
  EXPECT_NEAR(train::clip_grad_norm(g.data(), 2, 1.0, 1), 5.0, 1e-9);
  EXPECT_NEAR(std::hypot(g[0], g[1]), 1.0, 1e-5);
  std::vector<float> small = {0.3f, 0.4f};
  train::clip_grad_norm(small.data(), 2, 1.0, 1);
  EXPECT_FLOAT_EQ(small[0], 0.3f);
}

}  // namespace
}  // namespace s1

namespace s1 {
namespace {

// Beyond the fixture's 32 positions: several sequences of different lengths (up to 150)
// packed in one micro-batch. The directional derivative of the loss along the gradient
// (central difference) must equal |g|^2 / |g|: catches any error that grows with length
// or leaks between packed sequences. Also covers the two architectures without PyTorch
// gradients: llama3 rope scaling (scaling matters past position 64 there) and MQA.
TEST(TrainGradient, DirectionalDerivativeOnLongPackedSequences) {
  for (const char* name : {"qwen2-tied", "qwen3-tied", "llama-untied", "llama3-rope-scaled", "qwen2-untied-mqa"}) {
    auto model = Model::load(kModels + name + "/f32", make_cpu_backend(2));
    ParamLayout lay(model->config());
    std::vector<float> p = load_params(*model, lay), g(lay.total(), 0.0f);
    std::vector<std::vector<int32_t>> ids, tg;
    uint64_t s = 12345;
    int64_t valid = 0;
    for (int len : {150, 47, 96}) {
      std::vector<int32_t> a, t;
      for (int i = 0; i < len; ++i) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        a.push_back(int32_t((s >> 33) % 512));
      }
      for (int i = 0; i < len; ++i) t.push_back(i + 1 < len && i >= len / 3 ? a[size_t(i) + 1] : kIgnoreIndex);
      for (int32_t x : t) valid += x != kIgnoreIndex;
      ids.push_back(a);
      tg.push_back(t);
    }
    std::vector<TrainSequence> batch;
    for (size_t i = 0; i < ids.size(); ++i) batch.push_back({ids[i], tg[i]});
    TrainGraph graph(lay, model->backend(), false);
    const float scale = float(1.0 / double(valid));
    graph.forward_backward(p.data(), g.data(), batch, scale);
    const double gn = train::grad_norm(g.data(), g.size(), 2);
    auto loss_at = [&](double h) {
      std::vector<float> q(p), dummy(p.size(), 0.0f);
      for (size_t i = 0; i < q.size(); ++i) q[i] += float(h * g[i] / gn);
      return graph.forward_backward(q.data(), dummy.data(), batch, scale) / double(valid);
    };
    // Central differences at h and h/2, Richardson-extrapolated: the O(h^2) curvature
    // term cancels, leaving f32 rounding (~1e-6 here).
    auto central = [&](double h) { return (loss_at(h) - loss_at(-h)) / (2 * h); };
    const double h = 5e-3;
    const double fd = (4 * central(h / 2) - central(h)) / 3;
    EXPECT_NEAR(fd, gn, 1e-4 * gn) << name;
    std::printf("%s: |g| %.7f, extrapolated central difference along g %.7f\n", name, gn, fd);
  }
}

}  // namespace
}  // namespace s1
