// RowShares (backend/cpu/row_shares.h): every unit is done exactly once, owners go front to
// back in runs that halve towards the end of their share, and thieves take from the back,
// whatever the interleaving of the threads.
#include <gtest/gtest.h>

#include <omp.h>

#include <atomic>
#include <vector>

#include "backend/cpu/row_shares.h"

namespace s1 {
namespace {

TEST(RowShares, OneThreadTakesItsShareInRunsThenNothing) {
  cpu::RowShares s;
  s.reset(10, 1);
  std::vector<std::pair<int64_t, int64_t>> runs;
  s.run(0, 4, [&](int64_t first, int64_t count) { runs.emplace_back(first, count); });
  // 4 of 10, then at most half of what is left: 3 of 6, 2 of 3, 1 of 1
  EXPECT_EQ(runs, (std::vector<std::pair<int64_t, int64_t>>{{0, 4}, {4, 3}, {7, 2}, {9, 1}}));
  int64_t got = 0;
  EXPECT_EQ(s.take_front(0, 4, got), -1);
  EXPECT_EQ(s.take_back(0), -1);
}

TEST(RowShares, SharesAreContiguousAndThievesTakeFromTheBack) {
  cpu::RowShares s;
  s.reset(10, 3);  // shares [0,3) [3,6) [6,10)
  int64_t got = 0;
  EXPECT_EQ(s.take_front(1, 2, got), 3);
  EXPECT_EQ(got, 2);
  EXPECT_EQ(s.take_back(1), 5);
  EXPECT_EQ(s.take_back(1), -1);  // owner and thief met: nothing is taken twice
  EXPECT_EQ(s.take_front(1, 2, got), -1);
  EXPECT_EQ(s.take_back(2), 9);
  EXPECT_EQ(s.take_front(2, 100, got), 6);
  EXPECT_EQ(got, 2);  // half of the 3 left, rounded up: a unit stays for a thief
  EXPECT_EQ(s.take_back(2), 8);
  EXPECT_EQ(s.take_front(2, 100, got), -1);
  EXPECT_EQ(s.take_front(0, 1, got), 0);
}

TEST(RowShares, EveryUnitExactlyOnceUnderContention) {
  for (int threads : {2, 3, 4}) {
    for (int64_t units : {1, 2, 7, 64, 1000}) {
      cpu::RowShares s;
      s.reset(units, threads);
      std::vector<std::atomic<int>> done(static_cast<size_t>(units));
      for (auto& d : done) d = 0;
#pragma omp parallel num_threads(threads)
      {
        const int t = omp_get_thread_num();
        // Thread 0 is slow, so the others run out and steal from it.
        s.run(t, 3, [&](int64_t first, int64_t count) {
          for (int64_t u = first; u < first + count; ++u) {
            done[size_t(u)]++;
            if (t == 0) {
              std::atomic<int> spin{0};
              while (spin.fetch_add(1, std::memory_order_relaxed) < 2000) {
              }
            }
          }
        });
      }
      for (int64_t u = 0; u < units; ++u) ASSERT_EQ(done[size_t(u)], 1) << threads << " threads, unit " << u << " of " << units;
    }
  }
}

}  // namespace
}  // namespace s1
