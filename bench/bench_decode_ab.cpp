// A/B of the one-token bf16 matmul kernels: the dispatched one (in-lane unpack,
// row_stream_bf16) against the generic row_stream (vpmovzxwd + shift) on a matrix far larger than the caches
// (the Qwen2.5-0.5B output head, 151936 x 896 bf16 = 272 MB), single thread, the
// variants alternating so that machine noise hits both alike.
#include <benchmark/benchmark.h>

#include <sys/mman.h>

#include <cstdlib>
#include <vector>

#include "backend/cpu/simd_kernels.h"

namespace s1 {
namespace {

constexpr int64_t R = 151936, C = 896;

struct Head {
  std::vector<uint16_t> w = std::vector<uint16_t>(size_t(R * C), 0x3c00);
  std::vector<float> x = std::vector<float>(C, 0.5f), y = std::vector<float>(R);
  WeightMatrix m{DType::BF16, w.data(), R, C};
};
Head& head() {
  static Head h;
  return h;
}
// The same matrix in memory advised as transparent huge pages (2 MB): one TLB entry per
// 2 MB instead of per 4 KB, and no hardware-prefetch stop at every 4 KB page boundary.
struct HugeHead {
  size_t bytes = size_t(R * C) * 2;
  uint16_t* w = nullptr;
  std::vector<float> x = std::vector<float>(C, 0.5f), y = std::vector<float>(R);
  WeightMatrix m;
  HugeHead() {
    w = static_cast<uint16_t*>(std::aligned_alloc(size_t(2) << 20, (bytes + (size_t(2) << 20) - 1) / (size_t(2) << 20) * (size_t(2) << 20)));
    madvise(w, bytes, MADV_HUGEPAGE);
    for (size_t i = 0; i < size_t(R * C); ++i) w[i] = 0x3c00;
    m = WeightMatrix{DType::BF16, w, R, C};
  }
};
HugeHead& huge_head() {
  static HugeHead h;
  return h;
}
void BM_Gemv_Bf16Unpack_HugePages(benchmark::State& st) {
  if (!cpu::isa_supported(cpu::Isa::Avx512)) return st.SkipWithError("no AVX-512");
  HugeHead& h = huge_head();
  for (auto _ : st) cpu::matmul_rows_avx512(h.x.data(), 1, C, h.m, 0, R, h.y.data(), R);
  st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(h.m.bytes()));
}
BENCHMARK(BM_Gemv_Bf16Unpack_HugePages)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);

void BM_Gemv_Bf16Unpack(benchmark::State& st) {
  if (!cpu::isa_supported(cpu::Isa::Avx512)) return st.SkipWithError("no AVX-512");
  Head& h = head();
  for (auto _ : st) cpu::matmul_rows_avx512(h.x.data(), 1, C, h.m, 0, R, h.y.data(), R);
  st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(h.m.bytes()));
}
void BM_Gemv_RowStream(benchmark::State& st) {
  if (!cpu::isa_supported(cpu::Isa::Avx512)) return st.SkipWithError("no AVX-512");
  Head& h = head();
  for (auto _ : st) cpu::matmul_rows_avx512_stream(h.x.data(), h.m, 0, R, h.y.data());
  st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(h.m.bytes()));
}
void BM_Gemv_Bf16Dot(benchmark::State& st) {
  if (!__builtin_cpu_supports("avx512bf16")) return st.SkipWithError("no AVX512-BF16");
  Head& h = head();
  for (auto _ : st) cpu::matmul_rows_bf16dot_avx512(h.x.data(), h.m, 0, R, h.y.data());
  st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(h.m.bytes()));
}
BENCHMARK(BM_Gemv_Bf16Dot)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_Gemv_Bf16Unpack)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_Gemv_RowStream)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);

}  // namespace
}  // namespace s1

BENCHMARK_MAIN();
