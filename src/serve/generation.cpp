#include "serve/generation.h"

#include <algorithm>
#include <limits>

#include "core/error.h"

namespace s1::serve {

namespace {

// Sits between the decoding session and the budget-forcing controller (or alone): adds
// vLLM's min_tokens (no end-of-sequence before N completion tokens) and notes the phase
// the controller was in when each token was emitted, which says whether the token went
// to the thinking or to the answer. Everything else is passed through unchanged.
class Tap : public Controller {
 public:
  Tap(control::BudgetForcingController* inner, int64_t min_tokens, std::vector<int32_t> eos)
      : inner_(inner), min_(min_tokens), eos_(std::move(eos)) {}
  void on_prompt(std::span<const int32_t> p) override {
    if (inner_) inner_->on_prompt(p);
  }
  std::optional<int32_t> forced_token() override { return inner_ ? inner_->forced_token() : std::nullopt; }
  void shape_logits(std::span<float> logits) override {
    if (inner_) inner_->shape_logits(logits);
    if (emitted_ < min_)
      for (int32_t id : eos_)
        if (id >= 0 && size_t(id) < logits.size()) logits[size_t(id)] = -std::numeric_limits<float>::infinity();
  }
  bool allow_stop(int32_t t) override { return emitted_ >= min_ && (!inner_ || inner_->allow_stop(t)); }
  bool accept_sampled(int32_t t) override { return !inner_ || inner_->accept_sampled(t); }
  void on_token(int32_t t, bool forced) override {
    ++emitted_;
    phase_at_emit = inner_ ? inner_->phase() : control::Phase::Answer;
    if (inner_) inner_->on_token(t, forced);
  }
  std::optional<std::string> stop_reason() const override { return inner_ ? inner_->stop_reason() : std::nullopt; }

  control::Phase phase_at_emit = control::Phase::Answer;

 private:
  control::BudgetForcingController* inner_;
  int64_t min_, emitted_ = 0;
  std::vector<int32_t> eos_;
};

bool contains(const std::vector<int32_t>& v, int32_t id) { return std::find(v.begin(), v.end(), id) != v.end(); }

}  // namespace

Generation::Generation(const ModelContext& mc, KVCache& kv, GenerationSpec spec)
    : mc_(mc), spec_(std::move(spec)), reasoning_dec_(*mc.tok), content_dec_(*mc.tok) {
  GenerateParams gp;
  gp.sampling = spec_.sampling;
  gp.stop_ids = mc_.stop_ids;
  gp.valid_vocab = mc_.valid_vocab;
  gp.max_new_tokens = spec_.max_tokens;
  if (spec_.budget) {
    control::BudgetConfig cfg = *spec_.budget;
    cfg.eos_ids = mc_.stop_ids;
    cfg.context_tokens = kv.max_ctx();
    cfg.answer_limit = spec_.max_tokens;
    // Budget forcing that was not asked for (force_start off) only reads the thinking of a
    // prompt that opened the block itself (templates ending in "<think>\n"); a prompt that
    // did not is generated plainly, all of it content.
    bool use = cfg.force_start;
    if (!use) {
      control::BudgetForcingController probe(cfg, *mc_.tok, mc_.traits);
      probe.on_prompt(spec_.prompt);
      use = probe.phase() != control::Phase::Idle;
    }
    if (use) {
      ctl_ = std::make_unique<control::BudgetForcingController>(std::move(cfg), *mc_.tok, mc_.traits);
      gp.max_new_tokens = std::min(spec_.max_tokens, ctl_->output_bound());
      for (const auto& s : ctl_->plan().stops) hold_tokens_ = std::max(hold_tokens_, s.empty() ? 0 : s.size() - 1);
    }
  }
  if (ctl_ || spec_.min_tokens > 0) guard_ = std::make_unique<Tap>(ctl_.get(), spec_.min_tokens, mc_.stop_ids);
  for (const auto& s : spec_.stop) hold_bytes_ = std::max(hold_bytes_, s.size() - 1);
  session_ = std::make_unique<DecodeSession>(*mc_.model, kv, spec_.prompt, gp, guard_.get());
}

Generation::~Generation() = default;

void Generation::prefill() { session_->prefill(); }

Delta Generation::step() {
  Delta d = emit();
  if (DecodeSession* s = pending_feed()) s->feed();
  return d;
}

Delta Generation::emit() {
  Delta d;
  if (done_) return d;
  if (auto id = session_->next_token()) on_emitted(*id, d);
  if (session_->done() || stopped_by_string_) done_ = true;
  return d;
}

void Generation::on_emitted(int32_t id, Delta& d) {
  if (!ctl_) {
    if (!contains(mc_.stop_ids, id)) push_content(content_dec_.push(id), d);
    return;
  }
  // The controller's thinking ids, mirrored: one is added per thinking token; a multi-token
  // end trigger moves its first tokens out again (hence the held-back tail).
  const size_t T = size_t(ctl_->thinking_tokens());
  if (T < thinking_.size()) thinking_.resize(std::max(T, thinking_streamed_));
  else if (T == thinking_.size() + 1) thinking_.push_back(id);
  const bool thinking = ctl_->phase() == control::Phase::Thinking;
  const size_t hold = thinking ? hold_tokens_ : 0;
  while (thinking_streamed_ + hold < thinking_.size()) d.reasoning += reasoning_dec_.push(thinking_[thinking_streamed_++]);
  if (!thinking && ctl_->phase() != control::Phase::Start) d.reasoning += reasoning_dec_.flush();
  reasoning_all_ += d.reasoning;
  const auto phase = static_cast<Tap*>(guard_.get())->phase_at_emit;
  if (phase == control::Phase::Answer && !contains(mc_.stop_ids, id)) push_content(content_dec_.push(id), d);
}

// Content is streamed up to the last hold_bytes_ bytes (a stop string may begin there),
// never inside a UTF-8 character; a stop string found ends the generation before it.
void Generation::push_content(const std::string& s, Delta& d) {
  if (stopped_by_string_) return;
  content_all_ += s;
  size_t cut = std::string::npos;
  const size_t from = content_streamed_ > hold_bytes_ ? content_streamed_ - hold_bytes_ : 0;
  for (const auto& st : spec_.stop) cut = std::min(cut, content_all_.find(st, from));
  if (cut != std::string::npos) {
    content_all_.resize(cut);
    stopped_by_string_ = true;
    flush_content(d);
    return;
  }
  size_t safe = content_all_.size() > hold_bytes_ ? content_all_.size() - hold_bytes_ : 0;
  while (safe > content_streamed_ && safe < content_all_.size() && (uint8_t(content_all_[safe]) & 0xC0) == 0x80) --safe;
  if (safe > content_streamed_) {
    d.content += content_all_.substr(content_streamed_, safe - content_streamed_);
    content_streamed_ = safe;
  }
}

void Generation::flush_content(Delta& d) {
  if (content_all_.size() > content_streamed_) d.content += content_all_.substr(content_streamed_);
  content_streamed_ = content_all_.size();
}

Outcome Generation::finish(Delta* tail) {
  Delta d;
  if (ctl_) {
    while (thinking_streamed_ < thinking_.size()) d.reasoning += reasoning_dec_.push(thinking_[thinking_streamed_++]);
    d.reasoning += reasoning_dec_.flush();
    reasoning_all_ += d.reasoning;
  }
  if (!stopped_by_string_) push_content(content_dec_.flush(), d);
  flush_content(d);
  if (tail) *tail = d;

  const GenerateResult& r = session_->result();
  Outcome o;
  o.finish_reason = stopped_by_string_ || r.stop_reason == "eos" ? "stop" : "length";
  o.prompt_tokens = int64_t(spec_.prompt.size());
  o.completion_tokens = int64_t(r.output_ids.size());
  o.reasoning = reasoning_all_;
  o.content = content_all_;
  if (ctl_) {
    control::ThinkingRecord rec = ctl_->finish(r);
    o.reasoning_tokens = rec.thinking_tokens();
    nlohmann::json ignores = nlohmann::json::array();
    for (const auto& e : rec.ignores) ignores.push_back({{"position", e.position}, {"text", e.text}, {"reason", e.reason}});
    o.thinking = {{"thinking_tokens", rec.thinking_tokens()}, {"max_thinking", rec.max_thinking},
                  {"forced_end", rec.forced_end},         {"end_cause", rec.end_cause},
                  {"rounds", rec.rounds},                 {"ignores", ignores},
                  {"budget_mode", rec.mode},              {"opened_in_prompt", rec.opened_in_prompt}};
  }
  return o;
}

}  // namespace s1::serve
