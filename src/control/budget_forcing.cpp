#include "control/budget_forcing.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include "core/error.h"

namespace s1::control {

namespace {

constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max() / 4;

std::string trim_right(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

}  // namespace

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::Idle: return "idle";
    case Phase::Start: return "start";
    case Phase::Thinking: return "thinking";
    case Phase::End: return "end";
    case Phase::Answer: return "answer";
  }
  return "?";
}

TokenPlan TokenPlan::resolve(const BudgetConfig& c, const Tokenizer& tok) {
  const Delimiters& d = c.delimiters;
  TokenPlan p;
  p.start = tok.encode(d.think_start);
  p.end = tok.encode(d.think_end);
  p.end_text = tok.encode(d.end_text);
  p.newline = tok.encode("\n");
  p.ignore = tok.encode(c.ignore_str);
  p.start_marker = tok.encode(trim_right(d.think_start));
  p.end_marker = tok.encode(trim_right(d.think_end));
  for (const auto& s : d.stops)
    if (auto ids = tok.encode(s); !ids.empty()) p.stops.push_back(std::move(ids));
  if (p.stops.empty() && !p.end_marker.empty()) p.stops.push_back(p.end_marker);
  return p;
}

BudgetForcingController::BudgetForcingController(BudgetConfig cfg, const Tokenizer& tok,
                                                 std::shared_ptr<const TokenTraits> traits)
    : cfg_(std::move(cfg)), tok_(tok), traits_(traits ? std::move(traits) : TokenTraits::build(tok)) {
  cfg_.validate();
  plan_ = TokenPlan::resolve(cfg_, tok_);
  if (plan_.stops.empty()) fail("no end-of-thinking token: the end delimiter and stop strings tokenize to nothing");
  start_matcher_ = TokenMatcher(plan_.start_marker);
  for (const auto& s : plan_.stops) stop_matchers_.emplace_back(s);
}

int64_t BudgetForcingController::output_bound() const {
  const int64_t think = cfg_.reject_at ? *cfg_.reject_at : cfg_.effective_max_thinking();
  // README rounds: each ignored end costs at least its stop token, so at most think + 1.
  const int64_t injected = cfg_.mode == BudgetMode::Readme ? (think + 1) * int64_t(plan_.ignore.size()) : 0;
  const int64_t end = 1 + int64_t(std::max(plan_.end_text.size(), plan_.end.size()));
  return cfg_.answer_limit /*preamble*/ + int64_t(plan_.start.size()) + think + injected + end + cfg_.answer_limit + 2;
}

void BudgetForcingController::on_prompt(std::span<const int32_t> prompt) {
  std::vector<int32_t> full = prefix_;
  full.insert(full.end(), prompt.begin(), prompt.end());
  // A fresh generation: everything but the configuration starts over.
  queue_.clear();
  rec_ = ThinkingRecord{};
  prompt_tokens_ = int64_t(full.size());
  emitted_ = idle_tokens_ = block_ = round_sampled_ = readme_used_ = 0;
  readme_remaining_ = cfg_.effective_max_thinking();
  suppressions_ = pending_utf8_ = 0;
  accept_end_token_ = step_suppressed_ = step_biased_ = false;
  start_matcher_.reset();
  last_visible_ = -1;
  for (auto it = full.rbegin(); it != full.rend(); ++it)
    if (!traits_->is_empty(*it)) {
      last_visible_ = *it;
      break;
    }

  // Has the prompt opened (or, in this turn, closed) the block? Found in the decoded text,
  // since a delimiter that is no single token may be split differently in the prompt
  // ("<think>\n" can end in the token ">\n"). The last start after the last end opens
  // it; but a start that also begins a stop string (s1-steps' "<|im_start|>") occurs in
  // every ChatML turn, so there it must end the prompt (whitespace aside). An end closes
  // the block only at the end of the prompt: an earlier turn's block says nothing.
  const std::string text = tok_.decode(full);
  const std::string sm = trim_right(cfg_.delimiters.think_start), em = trim_right(cfg_.delimiters.think_end);
  const size_t s = sm.empty() ? std::string::npos : text.rfind(sm);
  const size_t e = em.empty() ? std::string::npos : text.rfind(em);
  auto only_space_after = [&](size_t at, size_t len) {
    return std::all_of(text.begin() + int64_t(at + len), text.end(), [](unsigned char c) { return std::isspace(c); });
  };
  bool start_is_common = false;
  for (const auto& st : cfg_.delimiters.stops)
    if (!sm.empty() && st.compare(0, sm.size(), sm) == 0) start_is_common = true;
  const bool has_s = s != std::string::npos, has_e = e != std::string::npos;
  const bool open = has_s && (!has_e || s > e) && (!start_is_common || only_space_after(s, sm.size()));
  const bool closed = has_e && (!has_s || e > s) && only_space_after(e, em.size());
  if (open) {
    rec_.opened_in_prompt = true;
    start_thinking();
  } else if (closed) {
    rec_.closed_in_prompt = true;
    phase_ = Phase::Answer;
  } else if (cfg_.force_start && !plan_.start.empty()) {
    phase_ = Phase::Start;
    queue_.assign(plan_.start.begin(), plan_.start.end());
  } else if (cfg_.force_start) {
    start_thinking();
  } else {
    phase_ = Phase::Idle;
  }
}

void BudgetForcingController::start_thinking() {
  phase_ = Phase::Thinking;
  rec_.thinking_started = true;
  rec_.rounds = 1;
  round_sampled_ = 0;
  for (auto& m : stop_matchers_) m.reset();
}

bool BudgetForcingController::is_eos(int32_t id) const {
  return std::find(cfg_.eos_ids.begin(), cfg_.eos_ids.end(), id) != cfg_.eos_ids.end();
}

int64_t BudgetForcingController::context_slots() const {
  if (cfg_.context_tokens <= 0) return kUnbounded;
  const int64_t room = cfg_.context_tokens - prompt_tokens_ - emitted_;
  return room - int64_t(plan_.newline.size() + plan_.end_text.size()) - cfg_.context_reserve;
}

int64_t BudgetForcingController::budget_slots() const {
  if (cfg_.reject_at) return kUnbounded;  // rejection sampling rejects instead of cutting
  if (cfg_.mode == BudgetMode::Harness) return cfg_.effective_max_thinking() - block_;
  return readme_remaining_ - round_sampled_;  // the README round's max_tokens
}

int64_t BudgetForcingController::slots_left() const { return std::min(budget_slots(), context_slots()); }

int BudgetForcingController::round_min() const {
  // vLLM min_tokens = 1 on every round after an ignored end, and on the first round too
  // when the harness runs with thinking_n_ignore: the model cannot end a round at once.
  if (rec_.rounds > 1) return 1;
  return cfg_.mode == BudgetMode::Harness && cfg_.num_ignore > 0 ? 1 : 0;
}

std::optional<int32_t> BudgetForcingController::forced_token() {
  switch (phase_) {
    case Phase::Start:
    case Phase::End:
      if (!queue_.empty()) return queue_.front();
      return std::nullopt;
    case Phase::Thinking: {
      const int64_t s = slots_left();
      if (!queue_.empty()) {
        // An ignore string being injected: the harness cuts its ids at the budget too,
        // and a cut must not split a character.
        if (s > 0 && traits_->pending_after(pending_utf8_, queue_.front()) <= s - 1) return queue_.front();
        queue_.clear();
      }
      if (s > 0) return std::nullopt;
      begin_forced_end(budget_slots() <= 0 ? "budget" : "context");
      if (!queue_.empty()) return queue_.front();
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

void BudgetForcingController::shape_logits(std::span<float> logits) {
  if (phase_ != Phase::Thinking) return;
  const float ninf = -std::numeric_limits<float>::infinity();
  const int64_t V = int64_t(logits.size());
  auto in = [&](int32_t id) { return id >= 0 && id < V; };
  if (cfg_.end_bias != 0 && !step_biased_) {
    step_biased_ = true;
    for (const auto& m : stop_matchers_)
      if (in(m.next_expected())) logits[size_t(m.next_expected())] += cfg_.end_bias;
    for (int32_t id : cfg_.eos_ids)
      if (in(id)) logits[size_t(id)] += cfg_.end_bias;
  }
  if (round_sampled_ < round_min()) {
    for (const auto& m : stop_matchers_)
      if (m.matched() + 1 == m.seq().size() && in(m.seq().back())) logits[size_t(m.seq().back())] = ninf;
    for (int32_t id : cfg_.eos_ids)
      if (in(id)) logits[size_t(id)] = ninf;
  }
  // The last slots before a forced end: only tokens after which the remaining slots can
  // still finish the current character (single continuation-byte tokens always exist in
  // a byte-level vocabulary), so the budget ends thinking on a character boundary
  // without ever exceeding it.
  const int64_t s = slots_left();
  if (s >= 1 && s <= 3) {
    for (int64_t id = 0; id < V; ++id)
      if (logits[size_t(id)] != ninf && traits_->pending_after(pending_utf8_, int32_t(id)) > s - 1)
        logits[size_t(id)] = ninf;
  }
}

bool BudgetForcingController::should_suppress() const {
  if (!(block_ < cfg_.min_thinking || suppressions_ < cfg_.num_ignore)) return false;
  // README guard (s1 issue #53): continue only while the remaining budget stays > 0.
  if (cfg_.mode == BudgetMode::Readme && readme_remaining_ - (round_sampled_ + 1) <= 0) return false;
  // A full context ends thinking: the ignore string and the end text must both still fit.
  if (context_slots() - int64_t(plan_.ignore.size()) <= 0) return false;
  return true;
}

void BudgetForcingController::suppress() {
  rec_.ignores.push_back({block_, emitted_, cfg_.ignore_str, block_ < cfg_.min_thinking ? "min" : "ignore"});
  ++suppressions_;
  ++readme_used_;  // the refused stop token: vLLM generated it and the README subtracts it
  if (cfg_.mode == BudgetMode::Readme) readme_remaining_ -= round_sampled_ + 1;
  round_sampled_ = 0;
  ++rec_.rounds;
  queue_.assign(plan_.ignore.begin(), plan_.ignore.end());
  step_suppressed_ = true;
}

bool BudgetForcingController::natural_end(int32_t token, const TokenMatcher* trigger) {
  rec_.thinking_ended = true;
  rec_.end_cause = "model";
  ++readme_used_;
  if (plan_.end.empty()) {  // no end delimiter: the trigger itself closes the block
    accept_end_token_ = true;
    return true;
  }
  const std::vector<int32_t> trig = trigger ? trigger->seq() : std::vector<int32_t>{token};
  const size_t n = trig.size(), c = common_prefix(trig, plan_.end);
  // The trigger's tokens already emitted that agree with the end delimiter become its
  // first tokens ("<|im_start|>" of "<|im_start|>answer"); the rest is forced.
  const size_t keep = std::min(c, n - 1);
  auto& th = rec_.thinking_ids;
  rec_.end_ids.assign(th.end() - int64_t(keep), th.end());
  th.resize(th.size() - keep);
  if (c == n) {
    queue_.assign(plan_.end.begin() + int64_t(n), plan_.end.end());
    accept_end_token_ = true;
    return true;
  }
  queue_.assign(plan_.end.begin() + int64_t(keep), plan_.end.end());
  phase_ = queue_.empty() ? Phase::Answer : Phase::End;
  return false;
}

bool BudgetForcingController::accept_sampled(int32_t token) {
  if (phase_ != Phase::Thinking) return true;
  const TokenMatcher* trigger = nullptr;
  for (const auto& m : stop_matchers_)
    if (m.would_complete(token)) trigger = &m;
  if (!trigger && !is_eos(token)) return true;
  if (step_suppressed_) return false;  // another end token at a step whose end was refused
  if (should_suppress()) {
    suppress();
    return false;
  }
  return natural_end(token, trigger);
}

void BudgetForcingController::begin_forced_end(const char* cause) {
  queue_.clear();
  rec_.thinking_ended = true;
  rec_.forced_end = true;
  rec_.end_cause = cause;
  // s1: "\n" only when the thinking does not already end in one (vllm_causallms.py).
  if (!traits_->ends_with_newline(last_visible_)) queue_.assign(plan_.newline.begin(), plan_.newline.end());
  queue_.insert(queue_.end(), plan_.end_text.begin(), plan_.end_text.end());
  phase_ = queue_.empty() ? Phase::Answer : Phase::End;
}

void BudgetForcingController::add_thinking(int32_t id, bool sampled) {
  rec_.thinking_ids.push_back(id);
  ++block_;
  if (sampled) {
    ++round_sampled_;
    ++readme_used_;
  }
  pending_utf8_ = traits_->pending_after(pending_utf8_, id);
  for (auto& m : stop_matchers_) m.push(id);
}

void BudgetForcingController::on_token(int32_t id, bool forced) {
  ++emitted_;
  step_suppressed_ = step_biased_ = false;
  if (!traits_->is_empty(id)) last_visible_ = id;
  switch (phase_) {
    case Phase::Start:
      queue_.pop_front();
      rec_.start_ids.push_back(id);
      if (queue_.empty()) start_thinking();
      break;
    case Phase::Idle:
      rec_.preamble_ids.push_back(id);
      if (start_matcher_.push(id)) {
        const size_t n = plan_.start_marker.size();
        auto& pre = rec_.preamble_ids;
        rec_.start_ids.assign(pre.end() - int64_t(n), pre.end());
        pre.resize(pre.size() - n);
        start_thinking();
      } else if (!is_eos(id)) {
        ++idle_tokens_;
      }
      break;
    case Phase::Thinking:
      if (forced) {
        queue_.pop_front();
        add_thinking(id, false);
      } else if (accept_end_token_) {
        accept_end_token_ = false;
        rec_.end_ids.push_back(id);
        phase_ = queue_.empty() ? Phase::Answer : Phase::End;
      } else {
        add_thinking(id, true);
      }
      break;
    case Phase::End:
      queue_.pop_front();
      rec_.end_ids.push_back(id);
      if (queue_.empty()) phase_ = Phase::Answer;
      break;
    case Phase::Answer:
      if (!is_eos(id)) rec_.answer_ids.push_back(id);
      break;
  }
}

std::optional<std::string> BudgetForcingController::stop_reason() const {
  if (phase_ == Phase::Thinking && cfg_.reject_at && block_ >= *cfg_.reject_at) return "rejected";
  if (phase_ == Phase::Answer && int64_t(rec_.answer_ids.size()) >= cfg_.answer_limit) return "length";
  if (phase_ == Phase::Idle && idle_tokens_ >= cfg_.answer_limit) return "length";
  return std::nullopt;
}

ThinkingRecord BudgetForcingController::finish(const GenerateResult& r) const {
  ThinkingRecord out = rec_;
  out.preamble_text = tok_.decode(out.preamble_ids);
  out.start_text = tok_.decode(out.start_ids);
  out.thinking_text = tok_.decode(out.thinking_ids);
  out.end_text = tok_.decode(out.end_ids);
  out.answer_text = tok_.decode(out.answer_ids);
  out.stop_reason = r.stop_reason;
  out.stop_phase = phase_name(phase_);
  out.budget_used = cfg_.mode == BudgetMode::Harness ? block_ : readme_used_;
  out.max_thinking = cfg_.effective_max_thinking();
  out.mode = budget_mode_name(cfg_.mode);
  return out;
}

}  // namespace s1::control
