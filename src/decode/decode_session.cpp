#include "decode/decode_session.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include "core/error.h"

namespace s1 {

namespace {
using Clock = std::chrono::steady_clock;
double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

int64_t valid_vocab_of(const Model& m, const GenerateParams& p) {
  const int64_t V = m.config().vocab_size;
  return p.valid_vocab > 0 ? std::min(p.valid_vocab, V) : V;
}
}  // namespace

DecodeSession::DecodeSession(Model& model, KVCache& kv, std::vector<int32_t> prompt, const GenerateParams& params,
                             Controller* controller)
    : model_(model),
      kv_(kv),
      prompt_(std::move(prompt)),
      params_(params),
      ctl_(controller),
      sampler_(params.sampling, valid_vocab_of(model, params)),
      logits_(size_t(model.config().vocab_size), 0.0f) {}

bool DecodeSession::is_stop(int32_t id) const {
  return std::find(params_.stop_ids.begin(), params_.stop_ids.end(), id) != params_.stop_ids.end();
}

void DecodeSession::finish(std::string reason) {
  r_.stop_reason = std::move(reason);
  done_ = true;
  pending_feed_ = false;
}

void DecodeSession::prefill() {
  if (prefilled_) fail("the session is already prefilled");
  if (prompt_.empty()) fail("the prompt is empty: at least one token is needed to start generation");
  if (params_.max_new_tokens < 0) fail("max new tokens must be >= 0");
  if (ctl_) ctl_->on_prompt(prompt_);
  if (kv_.pos() + int64_t(prompt_.size()) > kv_.max_ctx())
    fail("the prompt (", prompt_.size(), " tokens) does not fit the context (", kv_.max_ctx() - kv_.pos(), " free)");
  auto t0 = Clock::now();
  model_.forward(kv_, prompt_, logits_.data());
  r_.prefill_tokens = int64_t(prompt_.size());
  r_.prefill_seconds = seconds(Clock::now() - t0);
  prefilled_ = true;
}

// The body of generate()'s loop up to the feed, in the same order.
std::optional<int32_t> DecodeSession::next_token() {
  if (!prefilled_) fail("next_token() before prefill()");
  if (done_) return std::nullopt;
  if (pending_feed_) fail("next_token() before feed() of the previous token");
  auto t0 = Clock::now();
  const int64_t V = model_.config().vocab_size;
  if (int64_t(r_.output_ids.size()) >= params_.max_new_tokens) {
    finish("length");
    return std::nullopt;
  }
  if (ctl_)
    if (auto why = ctl_->stop_reason()) {
      finish(*why);
      return std::nullopt;
    }
  std::optional<int32_t> forced;
  int32_t id = -1;
  while (true) {
    forced = ctl_ ? ctl_->forced_token() : std::nullopt;
    if (forced) {
      id = *forced;
      if (id < 0 || id >= V) fail("controller forced token id ", id, ", outside the vocabulary");
      break;
    }
    if (ctl_) ctl_->shape_logits(logits_);
    id = sampler_.sample(logits_);
    if (ctl_ && ((is_stop(id) && !ctl_->allow_stop(id)) || !ctl_->accept_sampled(id))) {
      // Refused: masked for this step; the controller forces something or we sample again.
      logits_[size_t(id)] = -std::numeric_limits<float>::infinity();
      continue;
    }
    break;
  }
  last_forced_ = forced.has_value();
  r_.output_ids.push_back(id);
  if (ctl_) ctl_->on_token(id, last_forced_);
  r_.decode_seconds += seconds(Clock::now() - t0);
  if (!last_forced_ && is_stop(id)) {
    finish("eos");
    return id;
  }
  if (ctl_)
    if (auto why = ctl_->stop_reason()) {
      finish(*why);
      return id;
    }
  if (int64_t(r_.output_ids.size()) >= params_.max_new_tokens) {
    finish("length");
    return id;
  }
  if (kv_.pos() >= kv_.max_ctx()) {
    finish("context");
    return id;
  }
  pending_feed_ = true;
  return id;
}

void DecodeSession::feed() {
  if (!pending_feed_) fail("feed() without a token to feed");
  auto t0 = Clock::now();
  const int32_t id = r_.output_ids.back();
  model_.forward(kv_, std::span<const int32_t>(&id, 1), logits_.data());
  ++r_.decode_tokens;
  pending_feed_ = false;
  r_.decode_seconds += seconds(Clock::now() - t0);
}

void DecodeSession::feed_batch(std::span<DecodeSession* const> sessions) {
  if (sessions.empty()) return;
  if (sessions.size() == 1) return sessions[0]->feed();
  Model& model = sessions[0]->model_;
  std::vector<KVCache*> kvs;
  std::vector<int32_t> ids;
  for (DecodeSession* s : sessions) {
    if (!s->pending_feed_) fail("feed_batch: a session has no token to feed");
    if (&s->model_ != &model) fail("feed_batch: sessions of different models");
    kvs.push_back(&s->kv_);
    ids.push_back(s->r_.output_ids.back());
  }
  const size_t V = size_t(model.config().vocab_size);
  auto t0 = Clock::now();
  thread_local std::vector<float> all;
  all.resize(V * sessions.size());
  model.forward_batch(kvs, ids, all.data());
  const double dt = seconds(Clock::now() - t0) / double(sessions.size());  // shared time, split evenly
  for (size_t i = 0; i < sessions.size(); ++i) {
    DecodeSession& s = *sessions[i];
    std::copy(all.begin() + i * V, all.begin() + (i + 1) * V, s.logits_.begin());
    ++s.r_.decode_tokens;
    s.pending_feed_ = false;
    s.r_.decode_seconds += dt;
  }
}

}  // namespace s1
