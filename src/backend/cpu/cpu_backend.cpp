// The CPU backend: OpenMP threads over the kernels of this folder. Matmuls split the
// weight rows among threads (each weight byte is read by one thread once per call);
// attention splits (token, head) pairs.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/q8_interleaved.h"
#include "backend/cpu/row_shares.h"
#include "backend/cpu/quant.h"
#include "backend/cpu/simd_kernels.h"
#include "backend/cpu/spin_team.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/streamed_memory.h"

namespace s1 {
namespace {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(int threads)
      : threads_(threads > 0 ? threads : omp_get_num_procs()),
        matmul_rows_(cpu::matmul_rows_for(cpu::best_isa())),
        use_avx512_(cpu::best_isa() == cpu::Isa::Avx512),
        q8_int_(cpu::q8_int_path()),
        q8_il_(cpu::q8_il_path()),
        bf16_attention_(cpu::bf16_attention_path()) {}

  const char* name() const override { return "cpu"; }
  int threads() const override { return threads_; }

  // Large buffers (the KV cache, read whole at every token) get huge pages.
  float* alloc(size_t n) override { return static_cast<float*>(alloc_streamed(std::max<size_t>(n, 1) * sizeof(float))); }
  void free(float* p) override { free_streamed(p); }
  bool host_memory() const override { return true; }

  void prefetch_during_next(std::span<const Region> regions) override {
    if (!cpu::kv_side_prefetch()) return;  // simd_kernels.h says where, and why
    hint_.assign(regions.begin(), regions.end());
  }

  void embed(const int32_t* ids, int n, const WeightMatrix& table, float* out) override {
    for (int t = 0; t < n; ++t) {
      float* o = out + int64_t(t) * table.cols;
      for (int64_t c = 0; c < table.cols; ++c) o[c] = cpu::weight_at(table, ids[t], c);
    }
  }

  void matmul(const float* x, int n, const WeightMatrix& w, float* y) override { run_jobs(x, n, {{&w, y}}); }

  // Several matrices of the same input: one parallel region over the row blocks of all
  // of them, which saves a fork/join (and a wait for the slowest thread) per matrix on
  // every decoded token.
  void matmul_same_input(const float* x, int n, std::initializer_list<MatmulJob> jobs) override {
    if (jobs.size() > 8) return Backend::matmul_same_input(x, n, jobs);
    run_jobs(x, n, jobs);
  }

  // Up to 8 matmuls of one input. Q8_0 weights on the integer path take the activations
  // quantised to int16 blocks, once per call (O(n x cols), tiny next to the weights);
  // Q8_0_IL weights the same split into bytes (q8_interleaved.h).
  // The jobs' rows are laid end to end (each padded to 16) and the work is cut there, so a
  // piece may finish one matrix and start the next: Q, K and V (896 + 128 + 128 rows)
  // share evenly, where pieces cut per matrix gave one thread 704 rows and the other 448.
  // Pieces are whole units of 16 rows, a multiple of the kernels' row tiles.
  // One token: one_token (below). Prefill: 16-row items, dynamic scheduling.
  // Either way a thread that lost its core to another process for a while does not hold
  // up the others (static shares made decode stall on a busy machine).
  void run_jobs(const float* x, int n, std::initializer_list<MatmulJob> jobs) {
    const MatmulJob* js = jobs.begin();
    const int nj = static_cast<int>(jobs.size());
    // One token in a session: the threads' copies of add_rmsnorm's xn where x is that,
    // else each thread makes its own split or quantised form of the shared x (kLocal).
    // Why kLocal: x is often written by both cores (attention's heads); thread 0 made
    // the form alone while the other core waited, which then read it across. In-process
    // A/B (Q8_0, where it serves the O projection and the output head): +2.2% at 512 at
    // the high level (n = 69) at first; leaving it out of the finished set measured
    // x1.017 at 512 and x0.983 at 4096 (n = 72-75): within this VM's noise. Kept for the
    // serial work and the crossing it saves.
    const bool copies = take_copies(x, n, js[0].w->cols);
    const bool local = !copies && n == 1 && in_session_ && !xil_ready_;
    if (!copies && !local) prepare_input(x, n, js, nj);
    if (n == 1) return one_token(x, js, nj, nullptr, copies ? kCopies : local ? kLocal : kShared);
    int64_t offs[9] = {0};  // job i's rows at offs[i] .. offs[i] + rows
    for (int i = 0; i < nj; ++i) offs[i + 1] = offs[i] + (js[i].w->rows + 15) / 16 * 16;
    if (offs[nj] == 0) return hint_.clear();  // no rows at all (OpenMP wants at least one thread)
    // Virtual rows v0 .. v1 of the jobs laid end to end.
    auto do_rows = [&](int64_t v0, int64_t v1) {
      for (int i = 0; i < nj; ++i) {
        const WeightMatrix& w = *js[i].w;
        const int64_t r0 = std::max(v0, offs[i]) - offs[i], r1 = std::min(v1 - offs[i], w.rows);
        if (r0 >= r1) continue;
        for_each_segment(n, w, r0, r1, js[i].y, [&](int64_t s, const WeightMatrix& seg, float* ys, int64_t ystride) {
          segment_rows({x, &xil_, xq_.data()}, n, w, s, seg, ys, ystride);
        });
        if (const float* bias = js[i].bias)  // while the rows are in L1
          for (int t = 0; t < n; ++t) {
            float* yt = js[i].y + int64_t(t) * w.rows;
            for (int64_t r = r0; r < r1; ++r) yt[r] += bias[r];
          }
      }
    };
    const int64_t total = offs[nj] / 16;
    const int nt = static_cast<int>(std::min<int64_t>(threads_, total));
    SidePrefetch side(hint_, nt, total);
    hint_.clear();
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (int64_t b = 0; b < total; ++b) {
      side.some(omp_get_thread_num());
      do_rows(16 * b, 16 * (b + 1));
    }
  }

  // The activations as the jobs' kernels read them, once per call: int16 blocks for Q8_0
  // on the integer path, the split bytes for Q8_0_IL (unless mlp already made those).
  struct Forms {
    bool q8 = false, il = false;  // int16 blocks (Q8_0), split bytes (Q8_0_IL)
  };
  Forms forms(const MatmulJob* js, int nj) const {
    Forms f;
    for (int i = 0; i < nj; ++i) {
      f.q8 = f.q8 || (js[i].w->dtype == DType::Q8_0 && q8_int_);
      f.il = f.il || (js[i].w->dtype == DType::Q8_0_IL && q8_il_);
    }
    return f;
  }
  void prepare_input(const float* x, int n, const MatmulJob* js, int nj) {
    const auto [q8, il] = forms(js, nj);
    const int64_t cols = js[0].w->cols, nb = cols / 32;
    if (q8) {
      xq_.resize(size_t(n) * size_t(nb));
      for (int t = 0; t < n; ++t) cpu::quantize_row_i16_avx512(x + int64_t(t) * cols, cols, xq_.data() + t * nb);
    }
    if (il && !xil_ready_) cpu::prepare_q8_il_input_avx512(x, n, cols, xil_);
    xil_ready_ = false;
  }

  // One token inside a session: gate and up are streamed so that each thread holds the
  // same rows of both (one_token's paired shares); then each thread computes the SwiGLU
  // of its own rows and, for a Q8_0_IL down projection, splits them into that matmul's
  // input; then the down projection. Why: otherwise one thread held (nearly) all the gate
  // rows and the other all the up rows, and one thread did the SwiGLU and the split alone
  // while the other waited, reading ~19 KB the other core had written and leaving ~10 KB
  // for the other core to read. At this VM's high bandwidth level a line passes between
  // the cores slowly, and that gap before the down projection was traced at ~14 us a
  // layer (Q8_0 at 512; ~4 us at the low level); now ~0.6 us. In-process A/B on the 0.5B
  // shape, Q8_0 at 512: +2.3% at the high level (n = 29), +2.1% / +0.8% low; at 4096
  // +1.5% low; bf16 (no split; the down projection reads h) within noise (x0.99 / x1.02).
  void mlp(const float* x, int n, const MatmulJob& gate, const MatmulJob& up, const MatmulJob& down) override {
    const WeightMatrix &wg = *gate.w, &wu = *up.w;
    if (n != 1 || !in_session_ || threads_ < 2 || wg.rows != wu.rows || wg.cols != wu.cols || wg.dtype != wu.dtype ||
        wg.segments() != 1 || wu.segments() != 1 || down.w->cols != wg.rows)
      return Backend::mlp(x, n, gate, up, down);
    const MatmulJob jobs[2] = {gate, up};
    const bool copies = take_copies(x, 1, wg.cols);
    if (!copies) prepare_input(x, 1, jobs, 2);
    const int64_t rows = wg.rows;
    const bool split = down.w->dtype == DType::Q8_0_IL && q8_il_;
    if (split) xil_next_.resize(1, rows);
    const int64_t groups = (rows / 32 + cpu::kQ8GroupBlocks - 1) / cpu::kQ8GroupBlocks;
    float* h = gate.y;
    const float* u = up.y;
    const Epilogue epilogue = [&](int, int64_t a, int64_t b) {
      if (!split) return swiglu(h + a, u + a, size_t(b - a), h + a);
      // the split works on whole groups: this thread's rows to the nearest group bounds
      const int64_t g0 = a == 0 ? 0 : (a + cpu::kQ8GroupCols / 2) / cpu::kQ8GroupCols;
      const int64_t g1 = b == rows ? groups : (b + cpu::kQ8GroupCols / 2) / cpu::kQ8GroupCols;
      const int64_t v0 = std::min(rows, g0 * cpu::kQ8GroupCols), v1 = std::min(rows, g1 * cpu::kQ8GroupCols);
      swiglu(h + v0, u + v0, size_t(v1 - v0), h + v0);
      cpu::prepare_q8_il_groups_avx512(h, rows, g0, g1, xil_next_);
    };
    one_token(x, jobs, 2, &epilogue, copies ? kCopies : kShared);
    if (split) {
      std::swap(xil_, xil_next_);
      xil_ready_ = true;
    }
    run_jobs(h, 1, {down});
  }

  // y (rows of `seg`, ystride apart per token) = x . segment s of w, whichever kernel
  // takes w's layout.
  // A matmul's input in the forms its kernels read.
  struct Input {
    const float* x;
    const cpu::Q8ILInput* il;
    const cpu::BlockI16* q;
  };
  void segment_rows(const Input& in, int n, const WeightMatrix& w, int64_t s, const WeightMatrix& seg, float* y,
                    int64_t ystride) {
    if (w.dtype == DType::Q8_0 && q8_int_)
      cpu::matmul_rows_q8_i16(in.q + w.segment_col0(s) / 32, w.cols / 32, n, seg, 0, seg.rows, y, ystride);
    else if (w.dtype == DType::Q8_0_IL && q8_il_)
      cpu::matmul_rows_q8_il(*in.il, w.segment_col0(s), n, seg, 0, seg.rows, y, ystride);
    else
      matmul_rows_(in.x + w.segment_col0(s), n, w.cols, seg, 0, seg.rows, y, ystride);
  }

  // The residual step for one token in a session: each thread adds its part of the row
  // into x_out, then every thread normalises the whole row, thread 0 into xn, the others
  // into copies of their own (tin_), which the next matmul call on xn reads (take_copies)
  // along with each thread's own split or quantised form of it. The same bits as the
  // plain ops (the same adds; each thread sums the squares of the whole row in order).
  // Why: done by thread 0 alone between two parallel calls, the other core waited for it
  // and then read the prepared input out of thread 0's cache. At this VM's high bandwidth
  // level a cache line takes ~215 ns from one core to the other (~50 ns at the low one),
  // and the per-call trace put ~4-5 us before each Q/K/V and gate / up matmul (Q8_0 at
  // 512). In-process A/B, 0.5B shape at 512: the step on every thread +1.5% (Q8_0, high
  // level, n = 61) / +1.7% (low), bf16 +1.5% high; at 4096 within noise; then each thread
  // adding only its own part (x is where it wrote it last; one core read all of x across
  // before) +1.0% more (Q8_0, high, n = 80).
  void add_rmsnorm(const float* x, const float* y, float* x_out, const float* w, int rows, int dim, float eps,
                   float* xn) override {
    copies_of_ = nullptr;
    if (rows != 1 || !in_session_ || threads_ < 2 || !use_avx512_) {  // one pass of adds, then the norm
      for (size_t i = 0; i < size_t(rows) * size_t(dim); ++i) x_out[i] = x[i] + y[i];
      return rmsnorm(x_out, w, rows, dim, eps, xn);
    }
    if (tin_.size() < size_t(threads_)) tin_.resize(size_t(threads_));
    for (int t = 1; t < threads_; ++t) tin_[size_t(t)].x.resize(size_t(dim));
    team_run(threads_, [&](int t) {
      // thread t adds its part of the row (the part it wrote the last time, so that x is
      // in its cache), then, once every part is there, normalises the whole row
      const int64_t i0 = int64_t(dim) * t / threads_ / 16 * 16;
      const int64_t i1 = t + 1 == threads_ ? dim : int64_t(dim) * (t + 1) / threads_ / 16 * 16;
      for (int64_t i = i0; i < i1; ++i) x_out[i] = x[i] + y[i];
      team_.arrive_and_wait(threads_);
      cpu::rmsnorm_row_avx512(x_out, w, dim, eps, t == 0 ? xn : tin_[size_t(t)].x.data());
    });
    copies_of_ = xn;
    copies_dim_ = dim;
  }

  // Whether this matmul call (input x of `cols` columns, n tokens) reads the threads'
  // copies of add_rmsnorm's xn; either way they are used up.
  bool take_copies(const float* x, int n, int64_t cols) {
    const bool ok = copies_of_ != nullptr && x == copies_of_ && n == 1 && cols == copies_dim_ && in_session_;
    copies_of_ = nullptr;
    return ok;
  }

  // One token. Every column segment of every job is a run of rows, and the runs are laid
  // end to end in storage order, so a thread's share is one stream through memory.
  // Work is shared by RowShares (row_shares.h): each thread its own share front to back,
  // then the back half of what is left of another's. The unit of work is ~32 KB of
  // weights (at least 16 rows), short enough that the threads finish within a few
  // microseconds of each other; an owner claims 256 KB at a time (less towards the end
  // of its share).
  // Why segment by segment: when a claim of rows ran through all of a matrix's segments,
  // a thread jumped between as many streams every 256 KB, and each jump cost the stream's
  // ramp. Measured on the 0.5B shape's down projection (Q8_0_IL, 896 x 4864 in segments
  // of 2560 + 2304 columns), 24 cold copies: one thread 0.86 -> 0.95 of a plain read, two
  // threads +1.6%; in the model, in-process A/B at 512: Q8_0 +1.6%, bf16 (5 segments)
  // +3.0% at this VM's high bandwidth level.
  // Segment 0 writes y; later segments write parts_, added to y after the threads join,
  // in segment order and then the bias: the order for_each_segment sums in, so decode and
  // prefill agree bit for bit.
  // paired: two single-segment jobs of as many rows (gate and up), laid out so that each
  // thread's share holds the same rows of both, [home[t], home[t + 1]); after every
  // thread is done, epilogue(t, home[t], home[t + 1]) runs on each (mlp).
  using Epilogue = std::function<void(int, int64_t, int64_t)>;
  // Where each thread's input comes from: kShared, the forms prepare_input made; kCopies,
  // the thread's copy of add_rmsnorm's xn (thread 0: x) and forms it makes of that;
  // kLocal, forms each thread makes of x itself.
  enum InputMode { kShared, kCopies, kLocal };
  void one_token(const float* x, const MatmulJob* js, int nj, const Epilogue* epilogue = nullptr, InputMode mode = kShared) {
    const bool own_forms = mode != kShared;  // each thread makes its input's forms itself
    int64_t run_bytes = 0;
    for (int i = 0; i < nj; ++i) {
      const WeightMatrix& w = *js[i].w;
      for (int64_t s = 0; s < w.segments(); ++s)
        run_bytes = std::max<int64_t>(run_bytes, int64_t(w.row_bytes(w.segment(s, 0, 0).cols)));
    }
    int64_t unit = 16 * std::max<int64_t>(1, (int64_t(32) << 10) / (16 * std::max<int64_t>(run_bytes, 1)));
    runs_.clear();
    int64_t total = 0;
    size_t part_floats = 0;
    std::vector<int64_t>& home = home_;
    int nt = 1;
    if (epilogue) {
      // Pairs of runs, one pair per thread: a share of 2 L rows (L a multiple of 16 but
      // the last) is rows [home[t], home[t] + L) of gate, then the same of up.
      unit = (unit + 31) / 32 * 32;
      const int64_t rows = js[0].w->rows, padded = (rows + 15) / 16 * 16;
      const int64_t units = (2 * padded + unit - 1) / unit;
      nt = static_cast<int>(std::min<int64_t>(threads_, units));
      home.assign(size_t(nt) + 1, rows);
      for (int t = 0; t < nt; ++t) home[size_t(t)] = std::min(rows, unit / 2 * (units * t / nt));
      for (int t = 0; t < nt; ++t)
        for (int i = 0; i < 2; ++i) {
          const int64_t r0 = home[size_t(t)], n = home[size_t(t) + 1] - r0;
          runs_.push_back({i, 0, total, 0, r0, n});
          total += (n + 15) / 16 * 16;
        }
    } else {
      for (int i = 0; i < nj; ++i) {
        const WeightMatrix& w = *js[i].w;
        for (int64_t s = 0; s < w.segments(); ++s) {
          runs_.push_back({i, s, total, s == 0 ? size_t(0) : part_floats, 0, w.rows});
          total += (w.rows + 15) / 16 * 16;
          if (s > 0) part_floats += size_t(w.rows);
        }
      }
    }
    if (total == 0) return hint_.clear();  // no rows at all (OpenMP wants at least one thread)
    if (parts_.size() < part_floats) parts_.resize(part_floats);
    // Virtual rows v0 .. v1 of the runs laid end to end.
    auto do_runs = [&](const Input& in, int64_t v0, int64_t v1) {
      for (const Run& run : runs_) {
        const MatmulJob& job = js[run.job];
        const WeightMatrix& w = *job.w;
        const int64_t r0 = run.row0 + std::max(v0, run.v0) - run.v0;
        const int64_t r1 = run.row0 + std::min(v1 - run.v0, run.rows);
        if (r0 >= r1) continue;
        float* out = run.seg == 0 ? job.y : parts_.data() + run.part;
        segment_rows(in, 1, w, run.seg, w.segment(run.seg, r0, r1), out + r0, w.rows);
        if (job.bias && w.segments() == 1)  // while the rows are in L1
          for (int64_t r = r0; r < r1; ++r) out[r] += job.bias[r];
      }
    };
    const int64_t units = (total + unit - 1) / unit;
    const int64_t batch = std::max<int64_t>(1, (int64_t(256) << 10) / (unit * std::max<int64_t>(run_bytes, 1)));
    if (!epilogue) nt = static_cast<int>(std::min<int64_t>(threads_, units));
    SidePrefetch side(hint_, nt, (units + batch - 1) / batch);
    hint_.clear();
    shares_.reset(units, nt);
    const Forms f = forms(js, nj);
    const int64_t cols = js[0].w->cols;
    if (own_forms && tin_.size() < size_t(nt)) tin_.resize(size_t(nt));
    team_run(nt, [&](int t) {
      Input in{x, &xil_, xq_.data()};
      if (own_forms) {
        ThreadInput& ti = tin_[size_t(t)];
        if (t > 0 && mode == kCopies) in.x = ti.x.data();
        if (f.il) {
          cpu::prepare_q8_il_input_avx512(in.x, 1, cols, ti.il);
          in.il = &ti.il;
        }
        if (f.q8) {
          ti.q.resize(size_t(cols / 32));
          cpu::quantize_row_i16_avx512(in.x, cols, ti.q.data());
          in.q = ti.q.data();
        }
      }
      shares_.run(t, batch, [&](int64_t first, int64_t count) {
        side.some(t);
        do_runs(in, first * unit, std::min((first + count) * unit, total));
      });
      if (!epilogue) return;
      // every row done (a thread may have taken some of another's) before the epilogue
      team_.arrive_and_wait(nt);  // (epilogues run only inside a session: mlp)
      (*epilogue)(t, home[size_t(t)], home[size_t(t) + 1]);
    });
    for (int i = 0; i < nj; ++i) {
      const WeightMatrix& w = *js[i].w;
      if (w.segments() == 1) continue;
      float* y = js[i].y;
      for (const Run& run : runs_)
        if (run.job == i && run.seg > 0)
          for (int64_t r = 0; r < w.rows; ++r) y[r] += parts_[run.part + size_t(r)];
      if (const float* bias = js[i].bias)
        for (int64_t r = 0; r < w.rows; ++r) y[r] += bias[r];
    }
  }

  // prefetch_during_next's regions, cut into one share per thread (in order, whole
  // regions) and issued a slice per work item, so that they arrive while the thread
  // streams its weights rather than in one burst that would stall it. Into L2, at most
  // 512 KB a thread (of the 1 MB L2 here): of larger shares, the first part of every
  // region (where attention starts reading).
  struct SidePrefetch {
    static constexpr size_t kMaxPerThread = size_t(512) << 10;
    struct Share {
      std::vector<Region> parts;  // what to prefetch, in order
      size_t part = 0, off = 0;   // the cursor
      size_t per_item = 0;        // bytes a work item issues
    };
    std::vector<Share> shares;
    SidePrefetch(const std::vector<Region>& hint, int nt, int64_t items) {
      if (hint.empty()) return;
      shares.resize(size_t(nt));
      for (size_t r = 0; r < hint.size(); ++r) shares[r * size_t(nt) / hint.size()].parts.push_back(hint[r]);
      const size_t items_per_thread = size_t((items + nt - 1) / nt);
      for (Share& s : shares) {
        size_t total = 0;
        for (const Region& r : s.parts) total += r.bytes;
        if (total > kMaxPerThread)
          for (Region& r : s.parts) r.bytes = size_t(double(r.bytes) * double(kMaxPerThread) / double(total));
        s.per_item = (std::min(total, kMaxPerThread) + items_per_thread - 1) / items_per_thread;
      }
    }
    void some(int t) {  // the next slice of thread t's share
      if (shares.empty()) return;
      Share& s = shares[size_t(t)];
      for (size_t left = s.per_item; left >= 64 && s.part < s.parts.size();) {
        const Region& r = s.parts[s.part];
        if (s.off >= r.bytes) {
          ++s.part, s.off = 0;
          continue;
        }
        _mm_prefetch(static_cast<const char*>(r.data) + s.off, _MM_HINT_T1);
        s.off += 64, left -= 64;
      }
    }
  };

  // fn(t) on threads t = 0 .. nt-1: on the token session's waiting threads inside
  // token_session (spin_team.h), else in a parallel region of its own. A thread OpenMP
  // did not give is a share RowShares hands to the others, and attention takes items in
  // turn, so fewer threads than asked only cost time.
  template <class Fn>
  void team_run(int nt, Fn&& fn) {
    if (in_session_) return team_.run([&](int t) {
      if (t < nt) fn(t);
    });
#pragma omp parallel num_threads(nt)
    fn(omp_get_thread_num());
  }

  // Runs kernel(s, segment s of rows r0..r1, out, out_stride) over the column segments of
  // w: the first writes y, the others write a per-thread buffer that is added to y
  // (prefill's items; one token runs each segment on its own, one_token).
  template <class Kernel>
  static void for_each_segment(int n, const WeightMatrix& w, int64_t r0, int64_t r1, float* y, Kernel&& kernel) {
    kernel(0, w.segment(0, r0, r1), y + r0, w.rows);
    if (w.col_block == 0) return;
    const int64_t nr = r1 - r0;
    // On the stack when it fits (a 16-row item of up to 128 tokens), as the bf16 kernel's
    // input (matmul_avx512.cpp: a thread_local vector there halved its speed).
    alignas(64) float part_stack[2048];
    std::vector<float> part_heap;
    float* part = part_stack;
    if (size_t(n) * size_t(nr) > 2048) {
      part_heap.resize(size_t(n) * size_t(nr));
      part = part_heap.data();
    }
    for (int64_t s = 1; s < w.segments(); ++s) {
      kernel(s, w.segment(s, r0, r1), part, nr);
      for (int t = 0; t < n; ++t) {
        float* yt = y + int64_t(t) * w.rows + r0;
        const float* pt = part + int64_t(t) * nr;
        for (int64_t i = 0; i < nr; ++i) yt[i] += pt[i];
      }
    }
  }

  void add_bias(float* y, int n, int dim, const float* b) override {
    for (int t = 0; t < n; ++t)
      for (int i = 0; i < dim; ++i) y[int64_t(t) * dim + i] += b[i];
  }

  void rmsnorm(const float* x, const float* w, int rows, int dim, float eps, float* y) override {
    for (int r = 0; r < rows; ++r) {
      const float* xr = x + int64_t(r) * dim;
      float* yr = y + int64_t(r) * dim;
      if (use_avx512_) {
        cpu::rmsnorm_row_avx512(xr, w, dim, eps, yr);
        continue;
      }
      double ss = 0;
      for (int i = 0; i < dim; ++i) ss += double(xr[i]) * xr[i];
      float inv = static_cast<float>(1.0 / std::sqrt(ss / dim + eps));
      for (int i = 0; i < dim; ++i) yr[i] = w[i] * (xr[i] * inv);
    }
  }

  void rope(float* x, int n, int heads, int head_dim, int64_t stride, int64_t pos0, const double* inv_freq) override {
    const int half = head_dim / 2;
    const RopeTable& tab = rope_table(n, half, pos0, inv_freq);
    for (int t = 0; t < n; ++t) {
      const float* cs = tab.cos.data() + size_t(t) * half;
      const float* sn = tab.sin.data() + size_t(t) * half;
      for (int h = 0; h < heads; ++h) {
        float* v = x + t * stride + int64_t(h) * head_dim;
        for (int i = 0; i < half; ++i) {
          float a = v[i], b = v[i + half];
          v[i] = a * cs[i] - b * sn[i];
          v[i + half] = b * cs[i] + a * sn[i];
        }
      }
    }
  }

  // cos / sin of positions pos0 .. pos0 + n - 1 times inv_freq, kept for the next call:
  // every layer rotates q and k at the same positions, so a decoded token computes them
  // once instead of twice per layer (~1 us of double cos / sin per call).
  struct RopeTable {
    int64_t pos0 = -1;
    int n = 0;
    std::vector<double> freq;
    std::vector<float> cos, sin;
  };
  const RopeTable& rope_table(int n, int half, int64_t pos0, const double* inv_freq) {
    RopeTable& t = rope_;
    if (t.pos0 == pos0 && t.n == n && t.freq.size() == size_t(half) &&
        std::equal(t.freq.begin(), t.freq.end(), inv_freq))
      return t;
    t.pos0 = pos0, t.n = n;
    t.freq.assign(inv_freq, inv_freq + half);
    t.cos.resize(size_t(n) * half);
    t.sin.resize(size_t(n) * half);
    for (int p = 0; p < n; ++p)
      for (int i = 0; i < half; ++i) {
        const double a = double(pos0 + p) * inv_freq[i];
        t.cos[size_t(p) * half + i] = static_cast<float>(std::cos(a));
        t.sin[size_t(p) * half + i] = static_cast<float>(std::sin(a));
      }
    return t;
  }

  bool supports_bf16_kv() const override { return bf16_attention_; }

  void attention(const float* q, int n, const void* k_cache, const void* v_cache, int64_t pos0,
                 const AttentionShape& s, float* out) override {
    const int group = s.heads / s.kv_heads;
    const float scale = 1.0f / std::sqrt(float(s.head_dim));
    const bool simd = s.bf16_kv ? bf16_attention_ && group <= 16 && cpu::attention_simd_head_dim(s.head_dim)
                                : use_avx512_ && group <= 256 && cpu::attention_simd_head_dim(s.head_dim);
    const bool bf16_dot = cpu::bf16_attention_dot();
    // Work items are (token, kv head): the query heads of a group share each K/V row load.
    const int64_t items = int64_t(n) * s.kv_heads;
    const int nt = static_cast<int>(std::min<int64_t>(threads_, items));
    // Items are handed out in turn; in a token session (where every thread runs) thread t
    // starts with item t. Why: one token's items are its kv heads, and
    // prefetch_kv_during_qkv put kv head t's cache into thread t's L2 while Q/K/V ran;
    // taken in turn, the thread that got there first could take the other core's head.
    // In-process A/B at 4096 (Q8_0): +1.8% at the high level (n = 18), +1% low; leaving
    // it out of this session's finished set: x1.021 (n = 107) at 4096, x1.007 at 512.
    // Thread 0, the caller, usually gets there first anyway: within noise, kept because
    // it makes the pairing with the prefetch certain.
    const int64_t own_first = in_session_ ? nt : 0;
    std::atomic<int64_t> next{own_first};
    team_run(nt, [&](int tid) {
      // Per-thread scores, kept between calls (OpenMP threads persist): no allocation and
      // zeroing of group x context floats per layer and token.
      thread_local std::vector<float> score;
      if (score.size() < static_cast<size_t>(group) * size_t(pos0 + n)) score.resize(static_cast<size_t>(group) * size_t(pos0 + n));
      for (int64_t it = tid < own_first ? tid : next.fetch_add(1, std::memory_order_relaxed); it < items;
           it = next.fetch_add(1, std::memory_order_relaxed)) {
        const int t = static_cast<int>(it / s.kv_heads), kvh = static_cast<int>(it % s.kv_heads);
        const int64_t len = pos0 + t + 1;  // causal: positions 0 .. pos0 + t
        const float* qg = q + t * s.q_stride + int64_t(kvh) * group * s.head_dim;
        float* og = out + t * s.q_stride + int64_t(kvh) * group * s.head_dim;
        if (s.bf16_kv) {
          const uint16_t* kb = static_cast<const uint16_t*>(k_cache) + int64_t(kvh) * s.kv_head_stride;
          const uint16_t* vb = static_cast<const uint16_t*>(v_cache) + int64_t(kvh) * s.kv_head_stride;
          if (simd && bf16_dot)
            cpu::attention_group_bf16_avx512(qg, s.head_dim, group, kb, vb, len, s.head_dim, scale, score.data(), og);
          else if (simd)
            cpu::attention_group_bf16_fma_avx512(qg, s.head_dim, group, kb, vb, len, s.head_dim, scale, score.data(), og);
          else
            cpu::attention_group_bf16_scalar(qg, group, kb, vb, len, s.head_dim, scale, score.data(), og);
          continue;
        }
        const float* kb = static_cast<const float*>(k_cache) + int64_t(kvh) * s.kv_head_stride;
        const float* vb = static_cast<const float*>(v_cache) + int64_t(kvh) * s.kv_head_stride;
        if (simd)
          cpu::attention_group_avx512(qg, s.head_dim, group, kb, vb, s.kv_stride, s.key_blocks, len, s.head_dim,
                                      scale, score.data(), og);
        else
          cpu::attention_group_scalar(qg, group, kb, vb, s.kv_stride, s.key_blocks, len, s.head_dim, scale,
                                      score.data(), og);
      }
    });
  }

  void token_session(const std::function<void()>& body) override {
    if (threads_ < 2 || in_session_) return body();
    std::exception_ptr err;
    team_.begin(threads_, omp_get_num_procs());
#pragma omp parallel num_threads(threads_)
    {
      const int t = omp_get_thread_num();
      if (t == 0) {
        // (where OpenMP gave fewer threads, parallel calls start their own regions)
        in_session_ = omp_get_num_threads() == threads_;
        try {
          body();
        } catch (...) {
          err = std::current_exception();
        }
        in_session_ = false;
        team_.stop();
      } else {
        team_.work(t);
      }
    }
    if (err) std::rethrow_exception(err);
  }

  void swiglu(const float* gate, const float* up, size_t n, float* out) override {
    if (use_avx512_) return cpu::swiglu_avx512(gate, up, n, out);
    for (size_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
  }

  void add(float* x, const float* y, size_t n) override {
    for (size_t i = 0; i < n; ++i) x[i] += y[i];
  }

  void copy(float* dst, const float* src, size_t n) override { std::memmove(dst, src, n * sizeof(float)); }
  void copy_strided(float* dst, int64_t dst_stride, const float* src, size_t n) override {
    for (size_t i = 0; i < n; ++i) dst[int64_t(i) * dst_stride] = src[i];
  }
  void store_bf16(uint16_t* dst, int64_t dst_stride, int group, const float* src, size_t n) override {
    for (size_t i = 0; i < n; ++i) dst[int64_t(i) / group * dst_stride + int64_t(i) % group] = f32_to_bf16(src[i]);
  }
  void to_host(float* dst, const float* src, size_t n) override { std::memcpy(dst, src, n * sizeof(float)); }

 private:
  int threads_;
  cpu::MatmulRowsFn matmul_rows_;
  bool use_avx512_;
  bool q8_int_, q8_il_, bf16_attention_;
  std::vector<Region> hint_;  // prefetch_during_next's, for the next run_jobs
  cpu::RowShares shares_;     // run_jobs' one-token work sharing
  cpu::SpinTeam team_;        // token_session's threads
  bool in_session_ = false;   // inside token_session (set and read by thread 0 only)
  RopeTable rope_;
  std::vector<cpu::BlockI16> xq_;  // quantised activations of the current Q8_0 matmul
  cpu::Q8ILInput xil_;             // ... and of the current Q8_0_IL matmul
  cpu::Q8ILInput xil_next_;        // mlp's down projection input, made while xil_ is read
  bool xil_ready_ = false;         // xil_ already holds the next run_jobs' input (mlp)
  struct ThreadInput {             // a thread's copy of add_rmsnorm's xn (thread 0: xn
    std::vector<float> x;          // itself) and its kernels' forms of it
    cpu::Q8ILInput il;
    std::vector<cpu::BlockI16> q;
  };
  std::vector<ThreadInput> tin_;
  const float* copies_of_ = nullptr;  // the xn that tin_ holds copies of, until a matmul takes them
  int64_t copies_dim_ = 0;
  struct Run {      // one_token's: rows row0 .. row0 + rows of segment `seg` of job `job`, at virtual row v0
    int job;
    int64_t seg, v0;
    size_t part;    // where its sums go in parts_ (segments after the first)
    int64_t row0, rows;
  };
  std::vector<Run> runs_;
  std::vector<int64_t> home_;           // one_token's paired shares
  std::vector<float> parts_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int threads) { return std::make_unique<CpuBackend>(threads); }

}  // namespace s1
