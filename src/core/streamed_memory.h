// Memory for data streamed from RAM at every decoded token (weights, the KV cache):
// anonymous, 2 MB aligned and advised as transparent huge pages.
//
// Why: measured on this project's machine (Zen 4, Linux 6.18, THP in "madvise" mode), a
// one-token bf16 matmul over 272 MB reads 24-25 GB/s per core from such memory and
// 16-17 GB/s from the same bytes in a file mapping (4 KB pages: a TLB miss every 4 KB and
// hardware prefetch that stops at every page boundary) -- see bench/README.md.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

namespace s1 {

// Throws std::bad_alloc. Large sizes are rounded up to whole 2 MB pages.
void* alloc_streamed(size_t bytes);
void free_streamed(void* p);

struct StreamedDeleter {
  void operator()(uint8_t* p) const { free_streamed(p); }
};
using StreamedBuffer = std::unique_ptr<uint8_t[], StreamedDeleter>;
inline StreamedBuffer make_streamed_buffer(size_t bytes) {
  return StreamedBuffer(static_cast<uint8_t*>(alloc_streamed(bytes)));
}

// False when the environment says S1_HUGE_PAGES=0 (keep weights in their file mapping).
bool streamed_copies_enabled();
// /proc/meminfo MemAvailable in bytes (0 when unknown).
uint64_t available_memory_bytes();

}  // namespace s1
