// Our prefill matmul against OpenBLAS (Debian's libopenblas) on the same shape:
// sgemm on f32 weights (the conversion from bf16 not timed: the best case for a BLAS
// path). Debian 12's OpenBLAS 0.3.21 is built without BUILD_BFLOAT16, so its
// cblas_sbgemm is declared but absent; oneDNN is not packaged for Debian 12.
// This is the "measure both, keep the winner" check for the prefill GEMM.
//
// Measured 2026-11-26 on the 2-core Zen 4 VM: one GEMM alone, OpenBLAS wins (2 threads:
// 197 vs 108 GFLOP/s at 256 and at 512 tokens). Inside the model's prefill it does not: an
// sgemm path for bf16 / f16 / f32 weights (rows widened to f32 a slab at a time, OpenBLAS's
// pthreads beside our OpenMP threads) prefilled 512 tokens at 99-103 tok/s with OpenMP's
// default spinning, 177 with OMP_WAIT_POLICY=passive, against 187-196 tok/s for our tiles
// in the same minutes. The widening of every weight per 256-token chunk and the two thread
// pools competing for two cores cost more than the faster kernel gains, so the engine keeps
// its own tiles and links no BLAS.
//
// Measured 2026-11-27 on the 2-core Intel Emerald Rapids VM, after prefill got its packed
// kernel (rows_packed in backend/cpu/matmul_avx512.cpp): ours 96-100 GFLOP/s on one
// thread and 180-199 on two. Debian's OpenBLAS 0.3.21 does not know this CPU and runs its
// generic "Prescott" kernels (openblas_get_corename()): 30-31 / 44-50. Told the nearest
// core it has (OPENBLAS_CORETYPE=COOPERLAKE): 115-123 / 218-231, ~15-20% ahead of ours on
// one GEMM of f32 weights, before the widening and the second thread pool that lost it the
// prefill on Zen 4. The engine keeps its own kernel.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <random>
#include <vector>

#include "backend/backend.h"

extern "C" void openblas_set_num_threads(int);

namespace s1 {
namespace {

// Tokens x the FFN up-projection of Qwen2.5-0.5B. 256 tokens is the chunk the model's
// prefill runs in (kMaxChunk in model/transformer.cpp); 512 is one call over a whole prompt.
constexpr int kMaxM = 512, N = 4864, K = 896;

struct Data {
  std::vector<float> x, wf;
  std::vector<uint16_t> wb;
  Data() : x(size_t(kMaxM) * K), wf(size_t(N) * K), wb(wf.size()) {
    std::mt19937 rng(3);
    std::normal_distribution<float> nd(0.0f, 0.05f);
    for (auto& v : x) v = nd(rng);
    for (size_t i = 0; i < wf.size(); ++i) wb[i] = f32_to_bf16(wf[i] = nd(rng));
  }
};
Data& data() {
  static Data d;
  return d;
}

void flops(benchmark::State& st, int M) {
  st.counters["FLOP/s"] = benchmark::Counter(2.0 * M * N * K, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Ours_Bf16Weights(benchmark::State& st) {
  const int M = int(st.range(1));
  auto be = make_cpu_backend(int(st.range(0)));
  Data& d = data();
  std::vector<float> y(size_t(M) * N);
  WeightMatrix w{DType::BF16, d.wb.data(), N, K};
  for (auto _ : st) be->matmul(d.x.data(), M, w, y.data());
  flops(st, M);
}

void BM_OpenBlas_Sgemm(benchmark::State& st) {
  const int M = int(st.range(1));
  openblas_set_num_threads(int(st.range(0)));
  Data& d = data();
  std::vector<float> y(size_t(M) * N);
  for (auto _ : st)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, d.x.data(), K, d.wf.data(), K, 0.0f, y.data(), N);
  flops(st, M);
}

BENCHMARK(BM_Ours_Bf16Weights)->ArgsProduct({{1, 2}, {256, 512}})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OpenBlas_Sgemm)->ArgsProduct({{1, 2}, {256, 512}})->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace s1

BENCHMARK_MAIN();
