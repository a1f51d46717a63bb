#include "serve/engine.h"

#include <cstdio>

#include "core/error.h"

namespace s1::serve {

// ---- Job: the hand-over between the scheduler thread and an HTTP thread ----

Delta Job::take(std::chrono::milliseconds wait, bool* finished) {
  std::unique_lock lk(mu_);
  cv_.wait_for(lk, wait, [&] { return !pending_.empty() || finished_; });
  Delta d = std::move(pending_);
  pending_ = {};
  if (finished) *finished = finished_;
  return d;
}

bool Job::finished() const {
  std::lock_guard lk(mu_);
  return finished_;
}

void Job::add(const Delta& d) {
  std::lock_guard lk(mu_);
  pending_.reasoning += d.reasoning;
  pending_.content += d.content;
  cv_.notify_all();
}

void Job::finish(Outcome o) {
  std::lock_guard lk(mu_);
  outcome_ = std::move(o);
  finished_ = true;
  cv_.notify_all();
}

void Job::fail(ApiError e) {
  std::lock_guard lk(mu_);
  error_ = std::move(e);
  finished_ = true;
  cv_.notify_all();
}

// ---- Engine ----

struct Engine::Slot {
  std::unique_ptr<KVCache> kv;
  std::shared_ptr<Job> job;
  std::unique_ptr<Generation> gen;
};

Engine::Engine(ModelContext mc, EngineOptions opts) : mc_(std::move(mc)), opts_(opts) {
  if (opts_.parallel < 1) fail("--parallel must be >= 1, got ", opts_.parallel);
  if (opts_.ctx < 2) fail("--ctx must be >= 2, got ", opts_.ctx);
  for (int i = 0; i < opts_.parallel; ++i) {
    auto s = std::make_unique<Slot>();
    s->kv = std::make_unique<KVCache>(*mc_.model, opts_.ctx);  // grows on demand up to ctx
    slots_.push_back(std::move(s));
  }
  thread_ = std::thread([this] { loop(); });
}

Engine::~Engine() { stop(); }

void Engine::stop() {
  {
    std::lock_guard lk(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  const ApiError gone{503, "the server is shutting down", "server_error", "", "shutting_down"};
  std::lock_guard lk(mu_);
  for (auto& j : queue_) j->fail(gone);
  queue_.clear();
  for (auto& s : slots_)
    if (s->job) {
      s->job->fail(gone);
      s->job.reset();
      s->gen.reset();
    }
  active_ = 0;
}

std::optional<ApiError> Engine::submit(const std::shared_ptr<Job>& job) {
  {
    std::lock_guard lk(mu_);
    if (stop_) return ApiError{503, "the server is shutting down", "server_error", "", "shutting_down"};
    // Capacity: the slots plus the queue. Counting active ones too keeps a job that just
    // arrived from being refused while a slot is free but not yet taken.
    if (size_t(active_) + queue_.size() >= size_t(opts_.parallel) + opts_.max_queue) {
      ++rejected_;
      return ApiError{503,
                      "the server is busy: " + std::to_string(opts_.parallel) + " requests are being generated and " +
                          std::to_string(queue_.size()) + " are waiting (--max-queue " +
                          std::to_string(opts_.max_queue) + "); retry later",
                      "server_error", "", "server_busy"};
    }
    queue_.push_back(job);
  }
  cv_.notify_all();
  return std::nullopt;
}

EngineStats Engine::stats() const {
  EngineStats s;
  {
    std::lock_guard lk(mu_);
    s.active = active_;
    s.queued = queue_.size();
  }
  s.slots = opts_.parallel;
  s.max_queue = opts_.max_queue;
  s.completed = completed_;
  s.cancelled = cancelled_;
  s.rejected = rejected_;
  s.failed = failed_;
  s.tokens_generated = tokens_;
  return s;
}

void Engine::loop() {
  while (true) {
    std::vector<Slot*> admitted;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stop_ || active_ > 0 || !queue_.empty(); });
      if (stop_) return;
      for (auto& s : slots_) {
        if (s->job) continue;
        while (!queue_.empty() && queue_.front()->cancelled()) {  // gone before it started
          ++cancelled_;
          queue_.front()->fail({499, "the client closed the connection", "cancelled", "", "cancelled"});
          queue_.pop_front();
        }
        if (queue_.empty()) break;
        s->job = std::move(queue_.front());
        queue_.pop_front();
        ++active_;
        admitted.push_back(s.get());
      }
    }
    for (Slot* s : admitted) start(*s);
    // One round: every active request emits one token, then all of them are fed back
    // through the model in one batched pass (each weight read once for the round).
    std::vector<Slot*> feeding;
    for (auto& s : slots_)
      if (s->job && advance(*s)) feeding.push_back(s.get());
    feed(feeding);
  }
}

void Engine::feed(const std::vector<Slot*>& slots) {
  std::vector<DecodeSession*> sessions;
  for (Slot* s : slots) sessions.push_back(s->gen->pending_feed());
  try {
    DecodeSession::feed_batch(sessions);
  } catch (const std::exception& e) {
    for (Slot* s : slots) {
      ++failed_;
      release(*s)->fail({500, std::string("generation failed: ") + e.what(), "server_error", "", ""});
    }
  }
}

void Engine::start(Slot& s) {
  try {
    s.kv->truncate(0);
    s.gen = std::make_unique<Generation>(mc_, *s.kv, s.job->spec);
    s.gen->prefill();
  } catch (const std::exception& e) {
    ++failed_;
    release(s)->fail({500, std::string("generation failed: ") + e.what(), "server_error", "", ""});
  }
}

bool Engine::advance(Slot& s) {
  if (s.job->cancelled()) {
    ++cancelled_;
    release(s)->fail({499, "the client closed the connection", "cancelled", "", "cancelled"});
    return false;
  }
  try {
    Delta d = s.gen->emit();
    ++tokens_;
    if (!d.empty()) s.job->add(d);
    if (s.gen->done()) {
      Delta tail;
      Outcome o = s.gen->finish(&tail);
      ++completed_;
      auto job = release(s);
      if (!tail.empty()) job->add(tail);
      job->finish(std::move(o));
      return false;
    }
    return s.gen->pending_feed() != nullptr;
  } catch (const std::exception& e) {
    ++failed_;
    release(s)->fail({500, std::string("generation failed: ") + e.what(), "server_error", "", ""});
    return false;
  }
}

// The slot is free (and counted free) before its client hears the job ended, so a client
// that sends its next request at once finds room.
std::shared_ptr<Job> Engine::release(Slot& s) {
  s.gen.reset();
  std::shared_ptr<Job> job = std::move(s.job);
  std::lock_guard lk(mu_);
  --active_;
  return job;
}

}  // namespace s1::serve
