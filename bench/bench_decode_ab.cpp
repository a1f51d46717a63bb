// A/B of one-token (decode) matmul choices. First the bf16 kernels: the dispatched one (in-lane unpack,
// row_stream_bf16) against the generic row_stream (vpmovzxwd + shift) on a matrix far larger than the caches
// (the Qwen2.5-0.5B output head, 151936 x 896 bf16 = 272 MB), single thread, the
// variants alternating so that machine noise hits both alike.
#include <benchmark/benchmark.h>

#include <sys/mman.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "backend/cpu/membw.h"
#include "backend/cpu/q8_interleaved.h"
#include "backend/cpu/quant.h"
#include "backend/cpu/simd_kernels.h"
#include "backend/cpu/weight_layout.h"
#include "core/dtype.h"
#include "core/streamed_memory.h"

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
// The dispatched bf16 kernel on two threads through the backend with each software
// prefetch plan (weight_prefetch, simd_kernels.h): none, into L2 4 KB ahead on every
// other line (Zen 4's default), on every line, and into L2 8 KB and L1 4 KB ahead on every
// line (Intel's default), against a plain two-thread read of as many bytes (BandwidthProbe),
// all alternating inside every iteration: this VM's read rate jumps between levels within
// seconds, and only runs side by side compare. Counters: GB/s of each, and the kernels'
// fractions of the plain read. The head is 272 MB: where the last-level cache is large
// (260 MB on the Emerald Rapids VM) part of it may be read from there, so compare
// fractions, not GB/s, across machines.
void BM_Head2Threads_Prefetch(benchmark::State& st) {
  if (!cpu::isa_supported(cpu::Isa::Avx512)) return st.SkipWithError("no AVX-512");
  HugeHead& h = huge_head();
  static std::unique_ptr<Backend> be = make_cpu_backend(2);
  static cpu::BandwidthProbe probe(2, h.bytes);
  const cpu::WeightPrefetch keep = cpu::weight_prefetch();
  struct Plan {
    const char* name;
    cpu::WeightPrefetch p;
  };
  const Plan plans[] = {{"off", {0, 0, 2}},
                        {"l2_every_other_line", {4096, 0, 2}},
                        {"l2_every_line", {4096, 0, 1}},
                        {"l2_l1_every_line", {8192, 4096, 1}}};
  constexpr int kPlans = 4;
  double secs[kPlans] = {}, read_gbps = 0;
  int64_t it = 0;
  for (auto _ : st) {
    read_gbps += probe.measure(1).gbps;
    for (int k = 0; k < kPlans; ++k) {
      const int v = (k + int(it)) % kPlans;  // rotate which goes first
      cpu::set_weight_prefetch(plans[v].p);
      const auto t0 = std::chrono::steady_clock::now();
      be->matmul(h.x.data(), 1, h.m, h.y.data());
      secs[v] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    ++it;
  }
  cpu::set_weight_prefetch(keep);
  const double gb = double(h.bytes) * double(it) / 1e9;
  read_gbps /= double(it);
  st.counters["read_GBps"] = read_gbps;
  for (int v = 0; v < kPlans; ++v) {
    st.counters[std::string(plans[v].name) + "_GBps"] = gb / secs[v];
    st.counters[std::string(plans[v].name) + "_of_read"] = gb / secs[v] / read_gbps;
  }
}
BENCHMARK(BM_Head2Threads_Prefetch)->UseRealTime()->Iterations(40)->Repetitions(3);

// The down projections of Qwen2.5-0.5B (24 x 896 rows x 4864 columns, bf16, 209 MB):
// plain rows against the column-blocked layout (WeightMatrix::col_block) that the model
// gives long rows at load, through the backend's one-token matmul on all cores.
struct Downs {
  static constexpr int L = 24;
  static constexpr int64_t Rows = 896, Cols = 4864;
  std::vector<StreamedBuffer> plain_mem, blocked_mem;
  std::vector<WeightMatrix> plain, blocked;
  std::vector<float> x = std::vector<float>(Cols, 0.01f), y = std::vector<float>(Rows);
  std::unique_ptr<Backend> be = make_cpu_backend(0);
  Downs() {
    const size_t bytes = size_t(Rows * Cols) * 2;
    for (int l = 0; l < L; ++l) {
      plain_mem.push_back(make_streamed_buffer(bytes));
      auto* w = reinterpret_cast<uint16_t*>(plain_mem.back().get());
      for (size_t i = 0; i < size_t(Rows * Cols); ++i) w[i] = uint16_t(0x3c00 + (i % 61));
      plain.push_back(WeightMatrix{DType::BF16, w, Rows, Cols});
      blocked_mem.push_back(make_streamed_buffer(bytes));
      blocked.push_back(cpu::copy_col_blocked(plain.back(), cpu::kDecodeColBlock, blocked_mem.back().get()));
    }
  }
  double bytes() const { return double(L) * double(Rows * Cols) * 2; }
};
Downs& downs() {
  static Downs d;
  return d;
}
void run_downs(benchmark::State& st, bool blocked) {
  Downs& d = downs();
  auto& ms = blocked ? d.blocked : d.plain;
  for (auto _ : st)
    for (const auto& m : ms) d.be->matmul(d.x.data(), 1, m, d.y.data());
  st.SetBytesProcessed(int64_t(st.iterations() * d.bytes()));
}
void BM_Down24_PlainRows(benchmark::State& st) { run_downs(st, false); }
void BM_Down24_ColumnBlocked(benchmark::State& st) { run_downs(st, true); }
BENCHMARK(BM_Down24_PlainRows)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_Down24_ColumnBlocked)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);

// Decode attention over 24 layers' KV cache at position 4096 (Qwen2.5-0.5B: 14 query
// heads, 2 kv heads of 64; 100 MB of f32 keys and values), in the cache layouts the
// backend reads: positions interleaving the kv heads ([pos][head][dim], what the cache
// was) and head-major ([head][pos][dim]: one contiguous run per kv head), and head-major
// with the keys in blocks of 16 positions (what it is: AttentionShape::key_blocks, attended
// chunk by chunk with an online softmax).
struct Caches {
  static constexpr int L = 24, H = 14, KVH = 2, D = 64;
  static constexpr int64_t Len = 4096;
  std::vector<StreamedBuffer> k, v;
  std::vector<float> q = std::vector<float>(H * D, 0.1f), out = std::vector<float>(H * D);
  std::unique_ptr<Backend> be = make_cpu_backend(0);
  Caches() {
    const size_t bytes = size_t(Len * KVH * D) * sizeof(float);
    for (int l = 0; l < L; ++l)
      for (auto* c : {&k, &v}) {
        c->push_back(make_streamed_buffer(bytes));
        auto* f = reinterpret_cast<float*>(c->back().get());
        for (size_t i = 0; i < bytes / sizeof(float); ++i) f[i] = 0.01f * float(i % 13);
      }
  }
};
Caches& caches() {
  static Caches c;
  return c;
}
void run_attention(benchmark::State& st, bool head_major, bool key_blocks = false) {
  Caches& c = caches();
  const AttentionShape shape{Caches::H, Caches::KVH, Caches::D, Caches::H * Caches::D,
                             head_major ? Caches::D : Caches::KVH * Caches::D,
                             head_major ? Caches::Len * Caches::D : Caches::D, key_blocks};
  for (auto _ : st)
    for (int l = 0; l < Caches::L; ++l)
      c.be->attention(c.q.data(), 1, reinterpret_cast<const float*>(c.k[size_t(l)].get()),
                      reinterpret_cast<const float*>(c.v[size_t(l)].get()), Caches::Len - 1, shape, c.out.data());
  st.SetBytesProcessed(int64_t(st.iterations()) * Caches::L * Caches::Len * Caches::KVH * Caches::D * 2 * int64_t(sizeof(float)));
}
// The same 24 layers' cache in bf16 (AttentionShape::bf16_kv, what the model keeps for
// non-f32 weights where the CPU has AVX512-BF16): half the bytes (bytes/s counts them).
void BM_Attention24_Bf16Pairs(benchmark::State& st) {
  Caches& c = caches();
  if (!c.be->supports_bf16_kv()) return st.SkipWithError("no AVX512-BF16");
  // one huge-page buffer for all layers, as the model's cache (per-layer 1 MB buffers would
  // get 4 KB pages)
  const size_t elems = size_t(Caches::Len * Caches::KVH * Caches::D);
  static StreamedBuffer mem;
  if (!mem) {
    mem = make_streamed_buffer(2 * Caches::L * elems * sizeof(uint16_t));
    auto* p = reinterpret_cast<uint16_t*>(mem.get());
    for (size_t i = 0; i < 2 * Caches::L * elems; ++i) p[i] = f32_to_bf16(0.01f * float(i % 13));
  }
  auto* base = reinterpret_cast<const uint16_t*>(mem.get());
  const AttentionShape shape{Caches::H, Caches::KVH, Caches::D, Caches::H * Caches::D, Caches::D,
                             Caches::Len * Caches::D, false, true};
  for (auto _ : st)
    for (int l = 0; l < Caches::L; ++l)
      c.be->attention(c.q.data(), 1, base + 2 * l * elems, base + (2 * l + 1) * elems, Caches::Len - 1, shape, c.out.data());
  st.SetBytesProcessed(int64_t(st.iterations()) * Caches::L * Caches::Len * Caches::KVH * Caches::D * 2 * int64_t(sizeof(uint16_t)));
}
BENCHMARK(BM_Attention24_Bf16Pairs)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
void BM_Attention24_InterleavedHeads(benchmark::State& st) { run_attention(st, false); }
void BM_Attention24_HeadMajor(benchmark::State& st) { run_attention(st, true); }
void BM_Attention24_HeadMajorKeyBlocks(benchmark::State& st) { run_attention(st, true, true); }
BENCHMARK(BM_Attention24_HeadMajorKeyBlocks)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_Attention24_InterleavedHeads)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_Attention24_HeadMajor)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);

// Q8_0 feed-forward of 24 layers of Qwen2.5-0.5B (gate and up 4864 x 896, down 896 x 4864:
// 314 MB) through the backend's one-token matmul on all cores: Q8_0 blocks as stored
// (int16 activations, matmul_q8_i16.cpp) against the same blocks as Q8_0_IL (int8 dot
// products, q8_interleaved.h), the down projection column-blocked as the model loads it,
// and for Q8_0_IL also in plain rows.
struct Q8Ffn {
  static constexpr int L = 24;
  static constexpr int64_t H = 896, I = 4864;
  struct Variant {
    std::vector<StreamedBuffer> mem;
    std::vector<WeightMatrix> gate, up, down;
  };
  Variant plain, il, il_rows;
  std::vector<float> x = std::vector<float>(I, 0.01f), y = std::vector<float>(2 * I);
  std::unique_ptr<Backend> be[3] = {nullptr, make_cpu_backend(1), make_cpu_backend(2)};
  Q8Ffn() {
    std::vector<float> row(static_cast<size_t>(I));
    auto make = [&](int64_t rows, int64_t cols, int64_t col_block, bool interleave, Variant& v) {
      const WeightMatrix shape{DType::Q8_0, nullptr, rows, cols};
      std::vector<cpu::BlockQ8_0> q(size_t(rows * cols / 32));
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t c = 0; c < cols; ++c) row[size_t(c)] = float((r * 7 + c * 13) % 61) - 30.0f;
        cpu::quantize_row_q8_0(row.data(), cols, q.data() + r * cols / 32);
      }
      v.mem.push_back(make_streamed_buffer(shape.bytes()));
      WeightMatrix m = cpu::copy_col_blocked(WeightMatrix{DType::Q8_0, q.data(), rows, cols}, col_block, v.mem.back().get());
      return interleave ? cpu::interleave_q8_0_in_place(m) : m;
    };
    for (int l = 0; l < L; ++l) {
      for (auto [v, il_, block] : {std::tuple{&plain, false, cpu::kDecodeColBlock}, std::tuple{&il, true, cpu::kDecodeColBlock},
                                   std::tuple{&il_rows, true, int64_t(0)}}) {
        v->gate.push_back(make(I, H, 0, il_, *v));
        v->up.push_back(make(I, H, 0, il_, *v));
        v->down.push_back(make(H, I, block, il_, *v));
      }
    }
  }
  double bytes() const { return double(L) * 3 * double(H * I / 32 * 34); }
};
Q8Ffn& q8_ffn() {
  static Q8Ffn f;
  return f;
}
void run_q8_ffn(benchmark::State& st, Q8Ffn::Variant Q8Ffn::*which) {
  if (!cpu::q8_il_path()) return st.SkipWithError("no AVX512-VNNI");
  Q8Ffn& f = q8_ffn();
  const Q8Ffn::Variant& v = f.*which;
  Backend& be = *f.be[st.range(0)];
  for (auto _ : st)
    for (int l = 0; l < Q8Ffn::L; ++l) {
      be.matmul_same_input(f.x.data(), 1, {{&v.gate[size_t(l)], f.y.data()}, {&v.up[size_t(l)], f.y.data() + Q8Ffn::I}});
      be.matmul(f.x.data(), 1, v.down[size_t(l)], f.y.data());
    }
  st.SetBytesProcessed(int64_t(st.iterations() * f.bytes()));
}
// The Q8_0_IL one-token kernel through the backend on two threads, against a plain two-thread
// read of as many bytes (BandwidthProbe), alternating inside every iteration as in
// Head2Threads: a ~145 MB matrix of rows of st.range(0) columns (896: the output head's
// shape; 2560: the down projection's first segment). How the kernel reads its stream
// decides how close it comes to the read at this VM's high bandwidth level: reading each
// group's scales after its quants, and the activations' hi and lo as two arrays, left
// 2560-column rows at 0.64-0.77 of the read there (~0.9 since; q8_interleaved.h).
// Counters: GB/s of each and the kernel's fraction of the read.
void BM_Q8IL2Threads_OfRead(benchmark::State& st) {
  if (!cpu::q8_il_path()) return st.SkipWithError("no AVX512-VNNI");
  const int64_t cols = st.range(0), rows = (int64_t(145) << 20) / (cols / 32 * 34) / 16 * 16;
  const WeightMatrix shape{DType::Q8_0, nullptr, rows, cols};
  static std::unique_ptr<Backend> be = make_cpu_backend(2);
  StreamedBuffer mem = make_streamed_buffer(shape.bytes());
  WeightMatrix w;
  {
    std::vector<cpu::BlockQ8_0> q(size_t(rows * cols / 32));
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) row[size_t(c)] = float((r * 7 + c * 13) % 61) - 30.0f;
      cpu::quantize_row_q8_0(row.data(), cols, q.data() + r * cols / 32);
    }
    w = cpu::interleave_q8_0_in_place(cpu::copy_col_blocked(WeightMatrix{DType::Q8_0, q.data(), rows, cols}, 0, mem.get()));
  }
  cpu::BandwidthProbe probe(2, shape.bytes());
  std::vector<float> x(static_cast<size_t>(cols), 0.01f), y(static_cast<size_t>(rows));
  double secs = 0, read_secs = 0;
  int64_t it = 0;
  for (auto _ : st) {
    if (it % 2) read_secs += double(shape.bytes()) / 1e9 / probe.measure(1).gbps;  // alternate which goes first
    const auto t0 = std::chrono::steady_clock::now();
    be->matmul(x.data(), 1, w, y.data());
    secs += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (it % 2 == 0) read_secs += double(shape.bytes()) / 1e9 / probe.measure(1).gbps;
    ++it;
  }
  const double gb = double(shape.bytes()) * double(it) / 1e9;
  st.counters["kernel_GBps"] = gb / secs;
  st.counters["read_GBps"] = gb / read_secs;
  st.counters["kernel_of_read"] = read_secs / secs;
}
BENCHMARK(BM_Q8IL2Threads_OfRead)->Arg(896)->Arg(2560)->UseRealTime()->Iterations(30)->Repetitions(3);

void BM_Q8Ffn24_Q8_0(benchmark::State& st) { run_q8_ffn(st, &Q8Ffn::plain); }
void BM_Q8Ffn24_Q8_0_IL(benchmark::State& st) { run_q8_ffn(st, &Q8Ffn::il); }
void BM_Q8Ffn24_Q8_0_IL_PlainRows(benchmark::State& st) { run_q8_ffn(st, &Q8Ffn::il_rows); }
// threads: 1, 2
BENCHMARK(BM_Q8Ffn24_Q8_0)->Arg(1)->Arg(2)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_Q8Ffn24_Q8_0_IL)->Arg(1)->Arg(2)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_Q8Ffn24_Q8_0_IL_PlainRows)->Arg(1)->Arg(2)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);

BENCHMARK(BM_Gemv_Bf16Dot)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_Gemv_Bf16Unpack)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_Gemv_RowStream)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);

}  // namespace
}  // namespace s1

BENCHMARK_MAIN();
