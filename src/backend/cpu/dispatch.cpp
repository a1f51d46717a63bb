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

namespace {
int read_weight_prefetch_env() {
  const char* e = std::getenv("S1_WEIGHT_PREFETCH");
  if (!e) return 4096;
  const int v = std::atoi(e);
  return v < 0 ? 0 : v;
}
int g_weight_prefetch_bytes = read_weight_prefetch_env();

// Intel: every line; other CPUs (AMD Zen): every other line (simd_kernels.h says why).
int default_weight_prefetch_lines() {
  __builtin_cpu_init();
  return __builtin_cpu_is("intel") ? 1 : 2;
}
int read_weight_prefetch_lines_env() {
  const char* e = std::getenv("S1_WEIGHT_PREFETCH_LINES");
  if (!e) return default_weight_prefetch_lines();
  return std::atoi(e) == 1 ? 1 : 2;
}
int g_weight_prefetch_lines = read_weight_prefetch_lines_env();
}  // namespace

int weight_prefetch_bytes() { return g_weight_prefetch_bytes; }
void set_weight_prefetch_bytes(int bytes) { g_weight_prefetch_bytes = bytes < 0 ? 0 : bytes; }
int weight_prefetch_lines() { return g_weight_prefetch_lines; }
void set_weight_prefetch_lines(int lines) { g_weight_prefetch_lines = lines == 1 ? 1 : 2; }

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

namespace {
bool g_bf16_attention_dot = [] {
  if (const char* e = std::getenv("S1_BF16_ATTENTION")) return std::strcmp(e, "fma") != 0;
  __builtin_cpu_init();
  return !__builtin_cpu_is("intel");
}();
}  // namespace
bool bf16_attention_dot() { return g_bf16_attention_dot; }
void set_bf16_attention_dot(bool dot) { g_bf16_attention_dot = dot; }

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
