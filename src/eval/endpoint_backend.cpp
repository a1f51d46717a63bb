// Budget forcing by continuation requests to an OpenAI-compatible /v1/completions
// endpoint, the way s1's harness drives vLLM (s1-reference §2.2):
//   1. thinking: prompt + think_start, stop = until_thinking, max_tokens = the budget;
//   2. a natural stop with ignore rounds left: append the ignore string ("Wait") to the
//      text and continue with the same request shape;
//   3. the end: after a natural stop append think_end; after the budget ran out append
//      "\n" (unless the thinking ends in one) + the forced end text ("<|im_start|>answer\n
//      Final Answer:"); then one answer request stopped by the end-of-turn string.
// Budget accounting follows BudgetMode: harness (default) - the budget bounds the whole
// thinking block, "Wait" tokens included (the harness cuts the ids to the budget after its
// rounds; asking each round only for what remains gives the same tokens without decoding
// ones that are thrown away); readme - each round's completion tokens (stop included)
// are subtracted and the injected strings are free.
#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "eval/backend.h"
#include "llm/client.h"
#include "tokenizer/tokenizer.h"

namespace s1::eval {
namespace {

class EndpointBackend : public Backend {
 public:
  EndpointBackend(std::unique_ptr<llm::Client> c, const Tokenizer& tok, GenOptions o, int64_t context)
      : client_(std::move(c)), tok_(tok), o_(std::move(o)), context_(context) {
    if (!tok_.eos_token().empty()) answer_stops_.push_back(tok_.eos_token());
    if (tok_.token_id("<|im_end|>") &&
        std::find(answer_stops_.begin(), answer_stops_.end(), "<|im_end|>") == answer_stops_.end())
      answer_stops_.push_back("<|im_end|>");
    think_stops_ = thinking_stops(o_.delimiters, answer_stops_);
  }

  bool concurrent() const override { return true; }
  std::string id() const override { return client_->id(); }
  int64_t context_tokens() const override { return context_; }

  SampleRecord generate(const std::string& prompt_text, const PointSettings& point, int64_t max_thinking,
                        uint64_t seed) override {
    auto t0 = std::chrono::steady_clock::now();
    SampleRecord r;
    r.prompt = prompt_text;
    r.controlled = point.controlled;
    r.extra["requests"] = nlohmann::json::array();
    if (!point.controlled) {
      llm::Response a = request(r, prompt_text, o_.answer_limit, answer_stops_, 0, seed);
      r.answer_text = a.text;
      r.stop_reason = a.finish_reason;
      r.engine_answer_tokens = a.completion_tokens;
      const std::string& end = o_.delimiters.think_end;
      size_t at = end.empty() ? std::string::npos : a.text.find(end);
      if (at != std::string::npos) {
        r.thinking_text = a.text.substr(0, at);
        r.end_text = end;
        r.answer_text = a.text.substr(at + end.size());
        r.end_cause = "model";
      }
    } else {
      // templates of R1-style models open the block themselves ("...assistant\n<think>\n"):
      // then the prompt is continued as it is
      std::string start = o_.delimiters.think_start, start_trim = start;
      while (!start_trim.empty() && (start_trim.back() == '\n' || start_trim.back() == ' ')) start_trim.pop_back();
      auto ends_with = [&](const std::string& t) {
        return !t.empty() && prompt_text.size() >= t.size() &&
               prompt_text.compare(prompt_text.size() - t.size(), t.size(), t) == 0;
      };
      if (ends_with(start) || ends_with(start_trim)) start.clear();
      const std::string base = prompt_text + start;
      r.start_text = start;
      Thinking th;
      if (point.rejection) {
        // s1: generate with max_tokens = budget + 1, accept iff the ids (stop included)
        // fit the budget; we fall back to budget forcing after reject_tries (s1 loops).
        nlohmann::json attempts = nlohmann::json::array();
        bool accepted = false;
        for (int t = 0; t < o_.reject_tries && !accepted; ++t) {
          SampleRecord scratch;
          scratch.extra["requests"] = nlohmann::json::array();
          Thinking a = think(scratch, base, max_thinking + 1, seed + uint64_t(t), /*ignores=*/0);
          accepted = !a.hit_budget && a.completion_tokens <= max_thinking;
          attempts.push_back({{"seed", seed + uint64_t(t)}, {"thinking_tokens", a.used}, {"accepted", accepted}});
          for (auto& q : scratch.extra["requests"]) r.extra["requests"].push_back(q);
          if (accepted) th = std::move(a);
        }
        if (!accepted) {
          th = think(r, base, max_thinking, seed + uint64_t(o_.reject_tries), o_.num_ignore);
          attempts.push_back({{"seed", seed + uint64_t(o_.reject_tries)}, {"thinking_tokens", th.used}, {"accepted", false}});
        }
        r.extra["rejection"] = {{"accepted", accepted}, {"attempts", attempts}};
      } else {
        th = think(r, base, max_thinking, seed, o_.num_ignore);
      }
      r.thinking_text = th.text;
      r.waits = th.waits;
      r.engine_thinking_tokens = th.used;
      if (th.hit_budget) {
        bool nl = !th.text.empty() && th.text.back() == '\n';
        r.end_text = (nl ? "" : "\n") + o_.delimiters.end_text;
        r.forced_end = true;
        r.end_cause = "budget";
      } else {
        r.end_text = o_.delimiters.think_end;
        r.end_cause = "model";
      }
      llm::Response a =
          request(r, base + r.thinking_text + r.end_text, o_.answer_limit, answer_stops_, 0, seed);
      r.answer_text = a.text;
      r.stop_reason = a.finish_reason;
      r.engine_answer_tokens = a.completion_tokens;
    }
    r.generated_tokens = 0;
    for (const auto& q : r.extra["requests"]) r.generated_tokens += q.value("completion_tokens", int64_t(0));
    r.output = r.start_text + r.thinking_text + r.end_text + r.answer_text;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
  }

 private:
  struct Thinking {
    std::string text;
    std::vector<WaitEvent> waits;
    int64_t used = 0;               // budget used, by the accounting in force
    int64_t completion_tokens = 0;  // as the server counted them, stops included
    bool hit_budget = false;
  };

  int64_t count(const std::string& s) const { return int64_t(tok_.encode(s).size()); }

  Thinking think(SampleRecord& r, const std::string& base, int64_t budget, uint64_t seed, int ignores) {
    Thinking th;
    for (int round = 0;; ++round) {
      int64_t remaining = budget - th.used;
      if (remaining <= 0) {
        th.hit_budget = true;
        return th;
      }
      // vLLM's min_tokens = 1 when ignoring ends (a round cannot end before its first token)
      llm::Response resp = request(r, base + th.text, remaining, think_stops_, o_.num_ignore > 0 ? 1 : 0,
                                   seed + uint64_t(round));
      int64_t n = resp.completion_tokens > 0 ? resp.completion_tokens : count(resp.text) + (resp.finish_reason == "length" ? 0 : 1);
      th.text += resp.text;
      th.completion_tokens += n;
      bool stopped = resp.finish_reason != "length";
      if (o_.mode == control::BudgetMode::Harness) th.used += stopped ? n - 1 : n;  // the stop token is stripped
      else th.used += n;
      if (!stopped) {
        th.hit_budget = true;
        return th;
      }
      if (round >= ignores) return th;
      if (o_.mode == control::BudgetMode::Readme && budget - th.used <= 0) return th;  // README's guard (#53)
      WaitEvent w;
      w.token_position = count(th.text);
      w.char_offset = int64_t(th.text.size());
      w.text = o_.ignore_str;
      th.waits.push_back(w);
      th.text += o_.ignore_str;
      if (o_.mode == control::BudgetMode::Harness) th.used += count(o_.ignore_str);
    }
  }

  llm::Response request(SampleRecord& r, const std::string& prompt, int64_t max_tokens,
                        const std::vector<std::string>& stops, int64_t min_tokens, uint64_t seed) {
    llm::Request q;
    q.prompt = prompt;
    q.max_tokens = max_tokens;
    q.min_tokens = min_tokens;
    q.temperature = o_.temperature;
    q.top_p = o_.top_p;
    q.seed = seed;
    q.stop = stops;
    llm::Response resp = client_->complete(q);
    r.extra["requests"].push_back({{"prompt_chars", prompt.size()},
                                   {"max_tokens", max_tokens},
                                   {"finish_reason", resp.finish_reason},
                                   {"completion_tokens", resp.completion_tokens}});
    return resp;
  }

  std::unique_ptr<llm::Client> client_;
  const Tokenizer& tok_;
  GenOptions o_;
  int64_t context_;
  std::vector<std::string> answer_stops_, think_stops_;
};

}  // namespace

std::unique_ptr<Backend> make_endpoint_backend(std::unique_ptr<llm::Client> client, const Tokenizer& tok,
                                               const GenOptions& opts, int64_t context) {
  return std::make_unique<EndpointBackend>(std::move(client), tok, opts, context);
}

}  // namespace s1::eval
