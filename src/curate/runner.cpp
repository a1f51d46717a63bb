#include "curate/runner.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "curate/io.h"

namespace s1::curate {

std::string cache_key(const llm::Client& client, const llm::Request& req) {
  return sha256_hex(client.id() + "\n" + dump_safe(req.to_json()));
}

nlohmann::json response_to_json(const llm::Response& r) {
  return {{"text", r.text},
          {"finish_reason", r.finish_reason},
          {"stop", r.stop},
          {"prompt_tokens", r.prompt_tokens},
          {"completion_tokens", r.completion_tokens}};
}

llm::Response response_from_json(const nlohmann::json& j) {
  llm::Response r;
  r.text = j.value("text", "");
  r.finish_reason = j.value("finish_reason", "");
  r.stop = j.value("stop", "");
  r.prompt_tokens = j.value("prompt_tokens", int64_t(0));
  r.completion_tokens = j.value("completion_tokens", int64_t(0));
  return r;
}

namespace {

using Clock = std::chrono::steady_clock;

// Spaces request starts at least 60/rpm seconds apart across all workers.
class RateLimiter {
 public:
  explicit RateLimiter(double rpm) : interval_(rpm > 0 ? 60.0 / rpm : 0) {}
  void acquire() {
    if (interval_ <= 0) return;
    Clock::time_point at;
    {
      std::lock_guard<std::mutex> lk(mu_);
      auto now = Clock::now();
      if (next_ < now) next_ = now;
      at = next_;
      next_ += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval_));
    }
    std::this_thread::sleep_until(at);
  }

 private:
  double interval_;
  std::mutex mu_;
  Clock::time_point next_{};
};

struct Outcome {
  size_t group;  // index into the distinct keys
  std::optional<llm::Response> resp;
  std::string error;
  int tries = 0;
  double seconds = 0;
};

}  // namespace

RunStats run_jobs(Db& db, llm::Client& client, const std::vector<Job>& jobs, const RunnerOptions& opts,
                  const StoreFn& store) {
  RunStats st;
  st.jobs = int64_t(jobs.size());
  if (jobs.empty()) return st;
  const std::string cid = client.id();

  // Group jobs by key: identical requests (the same question twice) are paid once.
  std::map<std::string, size_t> key_index;
  std::vector<std::string> keys;
  std::vector<std::vector<size_t>> members;
  for (size_t i = 0; i < jobs.size(); ++i) {
    std::string k = cache_key(client, jobs[i].req);
    auto [it, fresh] = key_index.emplace(k, keys.size());
    if (fresh) {
      keys.push_back(k);
      members.emplace_back();
    }
    members[it->second].push_back(i);
  }

  util::Progress prog({.prefix = "curate", .label = opts.label, .total = int64_t(jobs.size()), .quiet = opts.quiet});
  // Cache hits: answered without a call, stored in batches.
  std::vector<size_t> misses;
  {
    Stmt get = db.prepare("SELECT response FROM cache WHERE key=?");
    std::optional<Tx> tx;
    size_t in_tx = 0;
    for (size_t g = 0; g < keys.size(); ++g) {
      get.bind(1, keys[g]);
      if (get.step()) {
        llm::Response r = response_from_json(nlohmann::json::parse(get.str(0)));
        get.reset();
        if (!tx) tx.emplace(db);
        for (size_t j : members[g]) store(jobs[j], &r, "");
        st.cache_hits += int64_t(members[g].size());
        prog.add(int64_t(members[g].size()));
        if (++in_tx >= 256) {
          tx->commit();
          tx.reset();
          in_tx = 0;
        }
      } else {
        get.reset();
        misses.push_back(g);
      }
    }
    if (tx) tx->commit();
  }
  if (misses.empty()) {
    prog.finish();
    return st;
  }

  RateLimiter limiter(opts.rpm);
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Outcome> done;

  auto worker = [&] {
    for (;;) {
      size_t m = next.fetch_add(1);
      if (m >= misses.size() || stop) return;
      size_t g = misses[m];
      const llm::Request& req = jobs[members[g][0]].req;
      Outcome o;
      o.group = g;
      auto t0 = Clock::now();
      double wait = opts.backoff_s;
      for (;;) {
        limiter.acquire();
        ++o.tries;
        try {
          o.resp = client.complete(req);
          break;
        } catch (const llm::ClientError& e) {
          o.error = e.what();
          if (!e.retryable || o.tries > opts.retries || stop) break;
        } catch (const std::exception& e) {
          o.error = e.what();
          break;
        }
        std::this_thread::sleep_for(std::chrono::duration<double>(wait));
        wait *= 2;
      }
      o.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      {
        std::lock_guard<std::mutex> lk(mu);
        done.push_back(std::move(o));
      }
      cv.notify_one();
    }
  };
  int nthreads = std::max(1, std::min<int>(opts.concurrency, int(misses.size())));
  std::vector<std::thread> pool;
  for (int t = 0; t < nthreads; ++t) pool.emplace_back(worker);

  Stmt put_cache = db.prepare("INSERT OR REPLACE INTO cache(key, client, request, response) VALUES(?,?,?,?)");
  Stmt put_call = db.prepare("INSERT INTO calls(key, client, ok, error, tries, seconds) VALUES(?,?,?,?,?,?)");
  size_t written = 0;
  try {
    while (written < misses.size()) {
      std::deque<Outcome> batch;
      {
        std::unique_lock<std::mutex> lk(mu);
        cv.wait(lk, [&] { return !done.empty(); });
        batch.swap(done);
      }
      Tx tx(db);
      for (auto& o : batch) {
        const std::string& k = keys[o.group];
        const Job& first = jobs[members[o.group][0]];
        if (o.resp) put_cache.bind(1, k).bind(2, cid).bind(3, dump_safe(first.req.to_json())).bind(4, dump_safe(response_to_json(*o.resp))).run();
        put_call.bind(1, k).bind(2, cid).bind(3, int64_t(o.resp ? 1 : 0)).bind(4, o.resp ? std::string() : o.error);
        put_call.bind(5, int64_t(o.tries)).bind(6, o.seconds).run();
        for (size_t j : members[o.group]) store(jobs[j], o.resp ? &*o.resp : nullptr, o.error);
        ++st.calls;
        if (!o.resp) st.failures += int64_t(members[o.group].size());
      }
      tx.commit();
      for (auto& o : batch) prog.add(int64_t(members[o.group].size()));
      written += batch.size();
    }
  } catch (...) {
    stop = true;
    for (auto& t : pool) t.join();
    throw;
  }
  for (auto& t : pool) t.join();
  prog.finish();
  return st;
}

}  // namespace s1::curate
