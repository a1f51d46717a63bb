#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "backend/cpu/simd_kernels.h"
#include "core/error.h"

namespace s1::cpu {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "?";
}

bool isa_supported(Isa isa) {
  __builtin_cpu_init();
  switch (isa) {
    case Isa::Scalar: return true;
    // F16C is not checked: clang 14 cannot query it, and every AVX2 CPU (Haswell, Zen) has it.
    case Isa::Avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::Avx512:
      return isa_supported(Isa::Avx2) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl");
  }
  return false;
}

bool cpu_is_intel() {
  static const bool intel = [] {
    __builtin_cpu_init();
    return __builtin_cpu_is("intel") != 0;
  }();
  return intel;
}

WeightPrefetch default_weight_prefetch() {
  if (cpu_is_intel()) return WeightPrefetch{8192, 4096, 1};
  return WeightPrefetch{4096, 0, 2};
}

namespace {
WeightPrefetch sanitized(WeightPrefetch p) {
  p.l2_bytes = std::max(p.l2_bytes, 0);
  p.l1_bytes = std::max(p.l1_bytes, 0);
  p.lines = p.lines == 1 ? 1 : 2;
  return p;
}
// S1_WEIGHT_PREFETCH=L2[,L1[,LINES]]; what it leaves out keeps this CPU's default.
WeightPrefetch read_weight_prefetch_env() {
  WeightPrefetch p = default_weight_prefetch();
  const char* e = std::getenv("S1_WEIGHT_PREFETCH");
  if (!e) return p;
  int v[3] = {p.l2_bytes, p.l1_bytes, p.lines};
  const int n = std::sscanf(e, "%d,%d,%d", &v[0], &v[1], &v[2]);
  if (n >= 1) p.l2_bytes = v[0];
  if (n >= 2) p.l1_bytes = v[1];
  if (n >= 3) p.lines = v[2];
  return sanitized(p);
}
WeightPrefetch g_weight_prefetch = read_weight_prefetch_env();
}  // namespace

const WeightPrefetch& weight_prefetch() { return g_weight_prefetch; }
void set_weight_prefetch(const WeightPrefetch& p) { g_weight_prefetch = sanitized(p); }

bool q8_int_path() {
  static const bool ok = best_isa() == Isa::Avx512 && !std::getenv("S1_Q8_FLOAT");
  return ok;
}

bool bf16_attention_path() {
  static const bool ok = [] {
    __builtin_cpu_init();
    return best_isa() == Isa::Avx512 && __builtin_cpu_supports("avx512bf16");
  }();
  return ok;
}

// The switches below default by CPU where that was measured to matter (simd_kernels.h
// says why); their env variables choose, and the setters serve benchmarks and tests.
namespace {
bool env_or(const char* name, bool fallback, const char* off_value) {
  const char* e = std::getenv(name);
  return e ? std::strcmp(e, off_value) != 0 : fallback;
}
bool g_bf16_attention_dot = env_or("S1_BF16_ATTENTION", !cpu_is_intel(), "fma");
bool g_kv_side_prefetch = env_or("S1_KV_PREFETCH", !cpu_is_intel(), "0");
bool g_packed_prefill = env_or("S1_PACKED_PREFILL", true, "0");
}  // namespace

bool bf16_attention_dot() { return g_bf16_attention_dot; }
void set_bf16_attention_dot(bool dot) { g_bf16_attention_dot = dot; }
bool kv_side_prefetch() { return g_kv_side_prefetch; }
void set_kv_side_prefetch(bool on) { g_kv_side_prefetch = on; }
bool packed_prefill() { return g_packed_prefill; }
void set_packed_prefill(bool on) { g_packed_prefill = on; }

bool attention_simd_head_dim(int head_dim) {
  switch (head_dim) {
    case 16: case 32: case 48: case 64: case 80: case 96: case 128: case 256: return true;
    default: return false;
  }
}

Isa best_isa() {
  static const Isa chosen = [] {
    Isa best = isa_supported(Isa::Avx512) ? Isa::Avx512 : isa_supported(Isa::Avx2) ? Isa::Avx2 : Isa::Scalar;
    // S1_ISA caps the choice (to test or compare the slower paths); it never raises it.
    if (const char* e = std::getenv("S1_ISA")) {
      Isa want = std::strcmp(e, "scalar") == 0 ? Isa::Scalar : std::strcmp(e, "avx2") == 0 ? Isa::Avx2 : Isa::Avx512;
      if (int(want) < int(best)) best = want;
    }
    return best;
  }();
  return chosen;
}

MatmulRowsFn matmul_rows_for(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return matmul_rows_avx512;
    case Isa::Avx2: return matmul_rows_avx2;
    default: return matmul_rows_scalar;
  }
}

}  // namespace s1::cpu
