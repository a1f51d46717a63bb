#include "core/streamed_memory.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <string>

namespace s1 {

namespace {
constexpr size_t kHuge = size_t(2) << 20;
}

void* alloc_streamed(size_t bytes) {
  bytes = std::max<size_t>(bytes, 1);
  if (bytes < kHuge) {  // small: ordinary cache-line aligned memory
    void* p = nullptr;
    if (posix_memalign(&p, 64, bytes) != 0) throw std::bad_alloc();
    return p;
  }
  void* p = std::aligned_alloc(kHuge, (bytes + kHuge - 1) / kHuge * kHuge);
  if (!p) throw std::bad_alloc();
  // Advice only: where THP is off ("never") this fails harmlessly and 4 KB pages are used.
  ::madvise(p, (bytes + kHuge - 1) / kHuge * kHuge, MADV_HUGEPAGE);
  return p;
}

void free_streamed(void* p) { std::free(p); }

bool streamed_copies_enabled() {
  const char* e = std::getenv("S1_HUGE_PAGES");
  return !(e && std::strcmp(e, "0") == 0);
}

uint64_t available_memory_bytes() {
  std::ifstream f("/proc/meminfo");
  std::string key;
  uint64_t kb = 0;
  std::string unit;
  while (f >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024;
  return 0;
}

}  // namespace s1
