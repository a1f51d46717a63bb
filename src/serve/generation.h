// One request being generated: the budget-forcing controller (src/control), the step-wise
// decoding session (src/decode/decode_session.h), and the split of the emitted tokens
// into reasoning text (the thinking block) and content (the answer), with stop strings on
// the content. The scheduler (engine.h) advances many of these one token per round.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/budget_forcing.h"
#include "decode/decode_session.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace s1::serve {

// What every generation of the served model shares.
struct ModelContext {
  Model* model = nullptr;
  const Tokenizer* tok = nullptr;
  std::shared_ptr<const control::TokenTraits> traits;
  control::Delimiters delimiters;  // the model's thinking delimiters (family detected at start)
  bool has_delimiters = false;     // false: family "none", budget forcing cannot be requested
  std::vector<int32_t> stop_ids;   // end-of-sequence ids
  int64_t valid_vocab = 0;
};

// A request ready to run: tokens, sampling, limits, and budget forcing when asked.
struct GenerationSpec {
  std::vector<int32_t> prompt;
  SamplingParams sampling;
  int64_t max_tokens = 256;  // completion tokens in all (thinking, delimiters and answer)
  int64_t min_tokens = 0;    // no end-of-sequence before this many completion tokens
  std::vector<std::string> stop;  // stop strings, matched on the content (the answer)
  std::optional<control::BudgetConfig> budget;  // set when the request asked for budget forcing
};

// What a generation adds after one step.
struct Delta {
  std::string reasoning, content;
  bool empty() const { return reasoning.empty() && content.empty(); }
};

struct Outcome {
  std::string finish_reason;  // "stop" | "length"
  int64_t prompt_tokens = 0, completion_tokens = 0, reasoning_tokens = 0;
  std::string reasoning, content;  // the whole texts
  nlohmann::json thinking;         // budget forcing summary (null when not controlled)
};

class Generation {
 public:
  // Throws s1::Error on a bad budget configuration (the caller answers 400).
  Generation(const ModelContext& mc, KVCache& kv, GenerationSpec spec);
  ~Generation();

  void prefill();
  // Emits one token (and feeds it back unless finished); returns the text it completed.
  Delta step();
  // step() in two halves, so a scheduler can feed many generations in one batched pass:
  // emit() picks and emits the token; then, unless done(), the session returned by
  // pending_feed() must be fed (DecodeSession::feed / feed_batch) before the next emit().
  Delta emit();
  DecodeSession* pending_feed() { return !done_ && session_->needs_feed() ? session_.get() : nullptr; }
  bool done() const { return done_; }
  // Only after done(): the final usage and texts (flushes held-back text into `tail`).
  Outcome finish(Delta* tail);

 private:
  void on_emitted(int32_t id, Delta& d);
  void push_content(const std::string& s, Delta& d);
  void flush_content(Delta& d);

  const ModelContext& mc_;
  GenerationSpec spec_;
  std::unique_ptr<control::BudgetForcingController> ctl_;
  std::unique_ptr<Controller> guard_;  // min_tokens around ctl_ (or alone)
  std::unique_ptr<DecodeSession> session_;
  StreamDecoder reasoning_dec_, content_dec_;
  std::vector<int32_t> thinking_;  // mirror of the controller's thinking ids
  size_t thinking_streamed_ = 0;
  size_t hold_tokens_ = 0;         // thinking tokens held back (a multi-token stop may claim them)
  std::string reasoning_all_, content_all_;
  size_t content_streamed_ = 0, hold_bytes_ = 0;
  bool done_ = false, stopped_by_string_ = false;
};

}  // namespace s1::serve
