// Microbenchmarks of the CPU kernels at Qwen2.5-0.5B sizes. GEMV reports bytes/s
// (weights read; compare with `s1 bench`'s measured bandwidth), GEMM FLOP/s.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "backend/backend.h"
#include "core/dtype.h"
#include "backend/cpu/q8_interleaved.h"
#include "backend/cpu/quant.h"
#include "decode/sampler.h"

namespace s1 {
namespace {

struct Mat {
  std::vector<uint8_t> bytes;
  WeightMatrix m;
};

Mat make(DType dt, int64_t rows, int64_t cols) {
  Mat w;
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 0.02f);
  std::vector<float> f(size_t(rows * cols));
  for (auto& x : f) x = nd(rng);
  WeightMatrix src{DType::F32, f.data(), rows, cols};
  if (dt == DType::F32) {
    w.bytes.resize(f.size() * 4);
    std::memcpy(w.bytes.data(), f.data(), w.bytes.size());
  } else if (dt == DType::Q8_0 || dt == DType::Q8_0_IL) {
    w.bytes.resize(size_t(rows * cols / 32) * sizeof(cpu::BlockQ8_0));
    cpu::quantize_q8_0(src, reinterpret_cast<cpu::BlockQ8_0*>(w.bytes.data()), 2);
    w.m = {DType::Q8_0, w.bytes.data(), rows, cols};
    if (dt == DType::Q8_0_IL) w.m = cpu::interleave_q8_0_in_place(w.m);  // the layout Q8_0 gets at load
    return w;
  } else {
    w.bytes.resize(f.size() * 2);
    auto* h = reinterpret_cast<uint16_t*>(w.bytes.data());
    for (size_t i = 0; i < f.size(); ++i) h[i] = dt == DType::BF16 ? f32_to_bf16(f[i]) : f32_to_f16(f[i]);
  }
  w.m = {dt, w.bytes.data(), rows, cols};
  return w;
}

// args: dtype, rows, cols, tokens, threads
void BM_Matmul(benchmark::State& st) {
  const DType dt = DType(st.range(0));
  if (dt == DType::Q8_0_IL && !cpu::q8_il_path()) return st.SkipWithError("no AVX512-VNNI");
  const int64_t rows = st.range(1), cols = st.range(2);
  const int n = int(st.range(3));
  auto be = make_cpu_backend(int(st.range(4)));
  Mat w = make(dt, rows, cols);
  std::vector<float> x(size_t(n * cols), 0.01f), y(size_t(n * rows));
  for (auto _ : st) {
    be->matmul(x.data(), n, w.m, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(w.m.bytes()));
  st.counters["FLOP/s"] = benchmark::Counter(2.0 * rows * cols * n, benchmark::Counter::kIsIterationInvariantRate);
  st.SetLabel(dtype_name(dt));
}
// decode GEMV (FFN up: 4864 x 896; lm_head slice) and prefill GEMM (64 tokens). Q8_0 is
// the stored block order (int16 kernel), Q8_0_IL the order it gets at load with VNNI.
BENCHMARK(BM_Matmul)
    ->ArgsProduct({{int(DType::F32), int(DType::BF16), int(DType::Q8_0), int(DType::Q8_0_IL)}, {4864}, {896}, {1}, {1, 2}})
    ->ArgsProduct({{int(DType::BF16), int(DType::Q8_0), int(DType::Q8_0_IL)}, {4864}, {896}, {64}, {2}})
    ->UseRealTime();

// args: position, keys in 16-position blocks (the model's cache) or rows
void BM_Attention(benchmark::State& st) {
  const int64_t pos = st.range(0), cap = (pos + 16) / 16 * 16;
  auto be = make_cpu_backend(2);
  const int H = 14, KVH = 2, D = 64;
  std::vector<float> q(H * D, 0.1f), out(H * D), k(cap * KVH * D, 0.01f), v(k.size(), 0.02f);
  const AttentionShape shape{H, KVH, D, H * D, D, cap * D, st.range(1) != 0};
  for (auto _ : st) {
    be->attention(q.data(), 1, k.data(), v.data(), pos, shape, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(2 * k.size() * sizeof(float)));
}
BENCHMARK(BM_Attention)->ArgsProduct({{512, 4096}, {1, 0}})->UseRealTime();

// The same one-token attention over a bf16 cache in its pair layouts (AttentionShape::
// bf16_kv): half the bytes; bytes/s counts the bf16 bytes read.
void BM_AttentionBf16Cache(benchmark::State& st) {
  const int64_t pos = st.range(0), cap = (pos + 16) / 16 * 16;
  auto be = make_cpu_backend(2);
  if (!be->supports_bf16_kv()) return st.SkipWithError("no AVX512-BF16: the bf16 cache would take the scalar path");
  const int H = 14, KVH = 2, D = 64;
  std::vector<float> q(H * D, 0.1f), out(H * D);
  std::vector<uint16_t> k(cap * KVH * D, f32_to_bf16(0.01f)), v(k.size(), f32_to_bf16(0.02f));
  const AttentionShape shape{H, KVH, D, H * D, D, cap * D, false, true};
  for (auto _ : st) {
    be->attention(q.data(), 1, k.data(), v.data(), pos, shape, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(2 * k.size() * sizeof(uint16_t)));
}
BENCHMARK(BM_AttentionBf16Cache)->Arg(512)->Arg(4096)->UseRealTime();

// The serial work between a token's matmuls, at the 0.5B shape's widths (896: Q/K/V, O,
// gate / up; 4864: down): the Q8_0_IL activation split one core does before the
// threads start on a matmul, and the SwiGLU between gate / up and down.
void BM_Q8ILInputSplit(benchmark::State& st) {
  if (!cpu::q8_il_path()) return st.SkipWithError("no AVX512-VNNI");
  const int64_t cols = st.range(0);
  std::mt19937 rng(1);
  std::normal_distribution<float> nd;
  std::vector<float> x(static_cast<size_t>(cols));
  for (auto& v : x) v = nd(rng);
  cpu::Q8ILInput in;
  for (auto _ : st) {
    cpu::prepare_q8_il_input_avx512(x.data(), 1, cols, in);
    benchmark::DoNotOptimize(in.split);
  }
  st.SetItemsProcessed(int64_t(st.iterations()) * cols);
}
BENCHMARK(BM_Q8ILInputSplit)->Arg(896)->Arg(4864);

void BM_SwiGLU(benchmark::State& st) {
  auto be = make_cpu_backend(1);
  const size_t n = size_t(st.range(0));
  std::mt19937 rng(1);
  std::normal_distribution<float> nd;
  std::vector<float> g(n), u(n), y(n);
  for (size_t i = 0; i < n; ++i) g[i] = nd(rng), u[i] = nd(rng);
  for (auto _ : st) {
    be->swiglu(g.data(), u.data(), n, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  st.SetItemsProcessed(int64_t(st.iterations()) * int64_t(n));
}
BENCHMARK(BM_SwiGLU)->Arg(4864);

void BM_RmsNormRope(benchmark::State& st) {
  auto be = make_cpu_backend(1);
  std::vector<float> x(896, 0.5f), w(896, 1.0f), y(896);
  std::vector<double> inv(32, 0.01);
  for (auto _ : st) {
    be->rmsnorm(x.data(), w.data(), 1, 896, 1e-6f, y.data());
    be->rope(y.data(), 1, 14, 64, 896, 1000, inv.data());
    benchmark::DoNotOptimize(y.data());
  }
}
BENCHMARK(BM_RmsNormRope);

void BM_Sample(benchmark::State& st) {
  std::mt19937 rng(1);
  std::normal_distribution<float> nd;
  std::vector<float> logits(151936);
  for (auto& x : logits) x = nd(rng);
  SamplingParams p{float(st.range(0)) / 10.0f, 0, float(st.range(1)) / 100.0f, 0.0f, 1};
  Sampler s(p, 151665);
  std::vector<float> l(logits.size());
  for (auto _ : st) {
    l = logits;
    benchmark::DoNotOptimize(s.sample(l));
  }
}
BENCHMARK(BM_Sample)->Args({0, 100})->Args({8, 100})->Args({8, 95});

}  // namespace
}  // namespace s1

BENCHMARK_MAIN();
