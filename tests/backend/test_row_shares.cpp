// RowShares (backend/cpu/row_shares.h): every unit is done exactly once, owners go front to
// back in runs that halve towards the end of their share, and thieves take the back half
// of what is left, whatever the interleaving of the threads.
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
  EXPECT_EQ(s.take_back_half(0, got), -1);
}

TEST(RowShares, SharesAreContiguousAndThievesTakeTheBackHalf) {
  cpu::RowShares s;
  s.reset(10, 3);  // shares [0,3) [3,6) [6,10)
  int64_t got = 0;
  EXPECT_EQ(s.take_front(1, 2, got), 3);
  EXPECT_EQ(got, 2);
  EXPECT_EQ(s.take_back_half(1, got), 5);  // one unit left: it goes
  EXPECT_EQ(got, 1);
  EXPECT_EQ(s.take_back_half(1, got), -1);  // owner and thief met: nothing is taken twice
  EXPECT_EQ(s.take_front(1, 2, got), -1);
  EXPECT_EQ(s.take_back_half(2, got), 8);  // [8,10) of [6,10)
  EXPECT_EQ(got, 2);
  EXPECT_EQ(s.take_front(2, 100, got), 6);
  EXPECT_EQ(got, 1);  // half of the 2 left, rounded up: a unit stays for a thief
  EXPECT_EQ(s.take_back_half(2, got), 7);
  EXPECT_EQ(got, 1);
  EXPECT_EQ(s.take_front(2, 100, got), -1);
  EXPECT_EQ(s.take_front(0, 1, got), 0);
}

// A thread that runs out makes the half it takes its own share: it runs it front to back
// in halving claims, and another thread can take from it in turn.
TEST(RowShares, AStolenHalfIsRunFrontToBackAndCanBeStolenFrom) {
  cpu::RowShares s;
  s.reset(40, 2);  // [0,20) [20,40)
  std::vector<std::pair<int64_t, int64_t>> runs;
  int64_t got = 0;
  EXPECT_EQ(s.take_front(0, 100, got), 0);  // thread 0 holds [0,10) and leaves [10,20)
  EXPECT_EQ(got, 10);
  // thread 1 has nothing of its own left
  while (s.take_front(1, 100, got) >= 0) {
  }
  s.run(1, 3, [&](int64_t first, int64_t count) {
    runs.emplace_back(first, count);
    if (runs.size() == 1) {  // meanwhile thread 0 comes back for more and takes from thread 1's new share
      int64_t g = 0;
      EXPECT_EQ(s.take_back_half(1, g), 19);  // [15,20) less the claim [15,18): [18,20) left, half is [19,20)
      EXPECT_EQ(g, 1);
    }
  });
  // the back half of [10,20) is [15,20): claims 3, then at most half of what is left; [19,20) went to thread 0;
  // then the back half of thread 0's [10,15), [13,15), and so on
  ASSERT_GE(runs.size(), 2u);
  EXPECT_EQ(runs[0], (std::pair<int64_t, int64_t>{15, 3}));
  EXPECT_EQ(runs[1], (std::pair<int64_t, int64_t>{18, 1}));
  std::vector<int> seen(40, 0);
  for (auto [f, c] : runs)
    for (int64_t u = f; u < f + c; ++u) seen[size_t(u)]++;
  for (int64_t u = 10; u < 20; ++u) EXPECT_EQ(seen[size_t(u)], u == 19 ? 0 : 1) << u;  // thread 1 did all of [10,19)
  EXPECT_EQ(s.take_back_half(0, got), -1);
  EXPECT_EQ(s.take_back_half(1, got), -1);
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
