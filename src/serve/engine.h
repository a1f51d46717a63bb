// The scheduler: one thread owns the model and advances every active request one token per
// round (each with its own KV cache, --parallel slots of them); the round's tokens are fed
// back in one batched forward pass (Model::forward_batch), so concurrent requests share
// each read of the weights; requests beyond the slots wait in a bounded queue, and a full
// queue is refused at once (the server answers 503). A request whose client went away is
// dropped at the next round.
//
// HTTP threads talk to a request through its Job: they submit it, then read the text it
// produced so far (reasoning and content deltas) until it is finished.
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "serve/api_error.h"
#include "serve/generation.h"

namespace s1::serve {

class Job {
 public:
  explicit Job(GenerationSpec spec) : spec(std::move(spec)) {}
  GenerationSpec spec;

  // Waits up to `wait` for new text or the end. Returns the text added since the last
  // call; `finished` tells whether the job ended (then outcome() / error() are final).
  Delta take(std::chrono::milliseconds wait, bool* finished);
  bool finished() const;
  const Outcome& outcome() const { return outcome_; }            // after finished
  const std::optional<ApiError>& error() const { return error_; }  // after finished
  void cancel() { cancelled_ = true; }
  bool cancelled() const { return cancelled_; }

 private:
  friend class Engine;
  void add(const Delta& d);
  void finish(Outcome o);
  void fail(ApiError e);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  Delta pending_;
  bool finished_ = false;
  Outcome outcome_;
  std::optional<ApiError> error_;
  std::atomic<bool> cancelled_{false};
};

struct EngineOptions {
  int parallel = 1;       // requests generated at once (one KV cache each)
  size_t max_queue = 16;  // requests waiting for a slot; more are refused
  int64_t ctx = 4096;     // KV cache size per slot (prompt + completion)
};

struct EngineStats {
  int slots = 0, active = 0;
  size_t queued = 0, max_queue = 0;
  uint64_t completed = 0, cancelled = 0, rejected = 0, failed = 0;
  uint64_t tokens_generated = 0;
};

class Engine {
 public:
  Engine(ModelContext mc, EngineOptions opts);
  ~Engine();  // stops the scheduler; jobs still waiting fail with 503
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues the job; nullopt when accepted, a 503 error when the queue is full.
  std::optional<ApiError> submit(const std::shared_ptr<Job>& job);
  EngineStats stats() const;
  const ModelContext& model() const { return mc_; }
  const EngineOptions& options() const { return opts_; }
  void stop();

 private:
  struct Slot;
  void loop();
  void start(Slot& s);
  // Emits the slot's next token; true when it then needs feeding.
  bool advance(Slot& s);
  void feed(const std::vector<Slot*>& slots);
  std::shared_ptr<Job> release(Slot& s);

  ModelContext mc_;
  EngineOptions opts_;
  std::vector<std::unique_ptr<Slot>> slots_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  int active_ = 0;  // slots holding a job (guarded by mu_)
  bool stop_ = false;
  std::atomic<uint64_t> completed_{0}, cancelled_{0}, rejected_{0}, failed_{0}, tokens_{0};
  std::thread thread_;
};

}  // namespace s1::serve
