// The plain read s1 bench --plain-read times decode against (membw.h): every SIMD path
// of read_bytes sums the same bytes as the scalar loop, at any alignment and with odd
// tails; time_plain_read reads each region's bytes exactly once, whether the threads
// share a region or one thread owns it.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "backend/cpu/membw.h"
#include "backend/cpu/simd_kernels.h"

namespace s1 {
namespace {

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = uint8_t(rng());
  return v;
}

TEST(PlainRead, EverySimdPathSumsTheSameBytes) {
  const std::vector<uint8_t> buf = random_bytes(70000, 1);
  std::mt19937 rng(2);
  for (int i = 0; i < 200; ++i) {
    const size_t off = rng() % 64, n = i < 8 ? size_t(i) : rng() % (buf.size() - 64);
    const uint64_t want = cpu::read_bytes_scalar(buf.data() + off, n);
    if (cpu::isa_supported(cpu::Isa::Avx2)) {
      EXPECT_EQ(cpu::read_bytes_avx2(buf.data() + off, n), want) << off << "+" << n;
    }
    if (cpu::isa_supported(cpu::Isa::Avx512)) {  // with the prefetch on every line and on every other line, into L1 or not
      const cpu::WeightPrefetch keep = cpu::weight_prefetch();
      for (int lines : {1, 2}) {
        cpu::set_weight_prefetch({4096, i % 2 ? 2048 : 0, lines});
        EXPECT_EQ(cpu::read_bytes_avx512(buf.data() + off, n), want) << off << "+" << n << ", every " << lines;
      }
      cpu::set_weight_prefetch(keep);
    }
    EXPECT_EQ(cpu::read_bytes(buf.data() + off, n), want);
  }
}

TEST(PlainRead, ReadsEachRegionOnceWhateverTheSplit) {
  const std::vector<uint8_t> buf = random_bytes(3 << 20, 3);
  // shared regions of odd sizes (some smaller than a line per thread), owned ones, an empty one
  const std::vector<cpu::MemRegion> regions = {{buf.data() + 5, 1000003, -1}, {buf.data() + 1000100, 77, -1},
                                               {buf.data() + 1001000, 200000, 0}, {buf.data() + 1201000, 300001, 1},
                                               {buf.data() + 1600000, 0, -1},     {buf.data() + 1700000, 999999, 5}};
  uint64_t want = 0;
  for (const auto& r : regions) want += cpu::read_bytes_scalar(static_cast<const uint8_t*>(r.data), r.bytes);
  for (int threads : {1, 2, 3}) {
    const cpu::PlainRead got = cpu::time_plain_read(regions, threads);
    EXPECT_EQ(got.sum, want) << threads << " threads";
    EXPECT_GE(got.seconds, 0.0);
  }
}

}  // namespace
}  // namespace s1
