// Budget forcing in the real decoding loop on a random-weight model with the Qwen2.5
// tokenizer (qwen2.5-tiny): the budget sweep (Control = 100%), minimums, exact Wait
// continuation against a fresh prefill, prefix reuse, rejection sampling and voting.
#include "control/run.h"
#include "helpers.h"

namespace s1::control::test {
namespace {

GenerateParams params(float temperature, uint64_t seed) {
  GenerateParams gp;
  gp.sampling.temperature = temperature;
  gp.sampling.seed = seed;
  gp.stop_ids = {kImEnd, kEot};
  gp.valid_vocab = qwen().vocab_size();
  return gp;
}

BudgetConfig budget(int64_t max_thinking, BudgetMode mode = BudgetMode::Harness) {
  BudgetConfig c;
  c.max_thinking = max_thinking;
  c.mode = mode;
  c.answer_limit = 6;
  return c;
}

bool starts_with(const std::vector<int32_t>& v, size_t at, const std::vector<int32_t>& p) {
  return v.size() >= at + p.size() && std::equal(p.begin(), p.end(), v.begin() + int64_t(at));
}

TEST(ModelRuns, BudgetSweepControlIsHundredPercent) {
  Model& m = tiny_model();
  const auto prompt = chat_prompt();
  const auto end_text = ids("<|im_start|>answer\nFinal Answer:"), nl = ids("\n"), end = ids("<|im_start|>answer");
  int runs = 0, within = 0, natural = 0, forced = 0;
  for (int64_t B : {0, 1, 16, 128})
    for (BudgetMode mode : {BudgetMode::Harness, BudgetMode::Readme})
      for (float bias : {0.0f, 9.0f})  // with a bias the random model sometimes ends thinking itself
        for (uint64_t seed : {0, 1, 2}) {
          BudgetConfig cfg = budget(B, mode);
          cfg.end_bias = bias;
          KVCache kv(m, 1024);
          ControlledRun r = generate_controlled(m, kv, qwen(), prompt, params(seed == 0 ? 0.0f : 1.0f, seed), &cfg);
          const ThinkingRecord& rec = r.record;
          ++runs;
          within += rec.thinking_tokens() <= B;
          EXPECT_LE(rec.thinking_tokens(), B) << "B=" << B << " seed " << seed;
          // output = start, thinking, end, answer; the answer phase begins with the end text
          const auto& out = r.gen.output_ids;
          const size_t at = rec.start_ids.size() + rec.thinking_ids.size();
          ASSERT_TRUE(rec.thinking_ended);
          if (rec.forced_end) {
            ++forced;
            EXPECT_TRUE(starts_with(out, at, end_text) || (starts_with(out, at, nl) && starts_with(out, at + 1, end_text)));
            EXPECT_TRUE(complete_utf8(rec.thinking_text)) << "a forced end split a character";
            EXPECT_EQ(rec.thinking_tokens(), B);
          } else {
            ++natural;
            EXPECT_TRUE(starts_with(out, at, end));
          }
          EXPECT_EQ(rec.start_text, "<|im_start|>think");
          EXPECT_LE(rec.answer_tokens(), 6);
        }
  EXPECT_EQ(within, runs);  // Control = 100%
  EXPECT_GT(natural, 0);
  EXPECT_GT(forced, 0);
}

TEST(ModelRuns, MinimumIsNeverUndershot) {
  Model& m = tiny_model();
  for (uint64_t seed : {1, 2, 3, 4}) {
    BudgetConfig cfg = budget(64);
    cfg.min_thinking = 24;
    cfg.end_bias = 30;  // the model tries to end thinking at (almost) every step
    KVCache kv(m, 1024);
    ControlledRun r = generate_controlled(m, kv, qwen(), chat_prompt(), params(1.0f, seed), &cfg);
    const ThinkingRecord& rec = r.record;
    EXPECT_GE(rec.thinking_tokens(), 24) << seed;
    EXPECT_FALSE(rec.ignores.empty());
    const int32_t wait = id1("Wait");
    for (const auto& e : rec.ignores) {
      EXPECT_EQ(e.reason, "min");
      ASSERT_LT(size_t(e.position), rec.thinking_ids.size());
      EXPECT_EQ(rec.thinking_ids[size_t(e.position)], wait);
      EXPECT_EQ(r.gen.output_ids[size_t(e.output_position)], wait);
    }
  }
}

// Wraps the budget controller and keeps the raw logits of every sampled step, keyed by
// the number of tokens emitted before it.
class Capture : public Controller {
 public:
  explicit Capture(BudgetForcingController& in) : in_(in) {}
  std::map<int64_t, std::vector<float>> logits;
  void on_prompt(std::span<const int32_t> p) override { in_.on_prompt(p); }
  std::optional<int32_t> forced_token() override { return in_.forced_token(); }
  void shape_logits(std::span<float> l) override {
    if (!logits.count(emitted_)) logits[emitted_] = std::vector<float>(l.begin(), l.end());
    in_.shape_logits(l);
  }
  bool accept_sampled(int32_t t) override { return in_.accept_sampled(t); }
  void on_token(int32_t t, bool f) override {
    ++emitted_;
    in_.on_token(t, f);
  }
  std::optional<std::string> stop_reason() const override { return in_.stop_reason(); }

 private:
  BudgetForcingController& in_;
  int64_t emitted_ = 0;
};

TEST(ModelRuns, LogitsAfterWaitEqualAFreshPrefill) {
  Model& m = tiny_model();
  BudgetConfig cfg = budget(48);
  cfg.num_ignore = 2;
  cfg.end_bias = 30;
  cfg.eos_ids = {kImEnd, kEot};
  auto prompt = chat_prompt();
  BudgetForcingController ctl(cfg, qwen(), qwen_traits());
  Capture cap(ctl);
  KVCache kv(m, 1024);
  GenerateParams gp = params(0.0f, 0);
  gp.max_new_tokens = ctl.output_bound();
  GenerateResult r = generate(m, kv, prompt, gp, &cap);
  ThinkingRecord rec = ctl.finish(r);
  ASSERT_EQ(rec.ignores.size(), 2u);
  const size_t wait_len = ids("Wait").size();
  const int64_t V = m.config().vocab_size;
  for (const auto& e : rec.ignores) {
    const int64_t k = e.output_position + int64_t(wait_len);  // the first step after "Wait"
    ASSERT_TRUE(cap.logits.count(k));
    std::vector<int32_t> seq = prompt;
    seq.insert(seq.end(), r.output_ids.begin(), r.output_ids.begin() + k);
    KVCache fresh(m, 1024);
    std::vector<float> want(static_cast<size_t>(V));
    m.forward(fresh, seq, want.data());
    const auto& got = cap.logits[k];
    float scale = 0, diff = 0;
    for (int64_t i = 0; i < V; ++i) {
      scale = std::max(scale, std::fabs(want[size_t(i)]));
      diff = std::max(diff, std::fabs(want[size_t(i)] - got[size_t(i)]));
    }
    EXPECT_LE(diff, 1e-4f * std::max(scale, 1.0f)) << "after the ignore at output " << e.output_position;
  }
}

TEST(ModelRuns, PrefixReuseGivesTheSameGeneration) {
  Model& m = tiny_model();
  BudgetConfig cfg = budget(20);
  cfg.num_ignore = 1;
  cfg.end_bias = 9;
  auto prompt = chat_prompt();
  KVCache a(m, 1024), b(m, 1024);
  ControlledRun first = generate_controlled(m, a, qwen(), prompt, params(0.0f, 0), &cfg);
  rewind_to_prompt(a, prompt);
  EXPECT_EQ(a.pos(), int64_t(prompt.size()) - 1);
  ControlledRun again = generate_controlled(m, a, qwen(), prompt, params(0.0f, 0), &cfg);
  ControlledRun fresh = generate_controlled(m, b, qwen(), prompt, params(0.0f, 0), &cfg);
  EXPECT_EQ(again.gen.output_ids, fresh.gen.output_ids);
  EXPECT_EQ(first.gen.output_ids, fresh.gen.output_ids);
  EXPECT_EQ(again.gen.prefill_tokens, 1);
}

TEST(ModelRuns, ContextFillingUp) {
  Model& m = tiny_model();
  auto prompt = chat_prompt();
  for (int64_t room : {2, 12, 40}) {
    BudgetConfig cfg = budget(1000);
    cfg.min_thinking = 500;
    cfg.end_bias = 9;
    KVCache kv(m, int64_t(prompt.size()) + room);
    ControlledRun r;
    ASSERT_NO_THROW(r = generate_controlled(m, kv, qwen(), prompt, params(1.0f, 5), &cfg));
    EXPECT_LE(int64_t(r.gen.output_ids.size()), room + 1);
    if (room == 40) {
      // The minimum yields to the context: thinking ends (refused ends stop being granted,
      // or the context cap forces the end text) while the end text and an answer still fit.
      EXPECT_TRUE(r.record.thinking_ended);
      EXPECT_LT(r.record.thinking_tokens(), 500);
      if (r.record.forced_end) { EXPECT_EQ(r.record.end_cause, "context"); }
      EXPECT_GT(r.record.answer_tokens(), 0);
    } else {
      EXPECT_EQ(r.gen.stop_reason, "context");
    }
  }
}

TEST(ModelRuns, RejectionSamplingRecordsAttempts) {
  Model& m = tiny_model();
  BudgetConfig cfg = budget(12);
  cfg.end_bias = 9.5f;
  KVCache kv(m, 1024);
  RejectionRun rs = rejection_sample(m, kv, qwen(), chat_prompt(), params(1.0f, 11), cfg, 30);
  ASSERT_FALSE(rs.attempts.empty());
  for (size_t i = 0; i + 1 < rs.attempts.size(); ++i) {
    EXPECT_FALSE(rs.attempts[i].accepted);
    EXPECT_EQ(rs.attempts[i].thinking_tokens, 12);
    EXPECT_EQ(rs.attempts[i].stop_reason, "rejected");
  }
  if (rs.accepted) {
    EXPECT_TRUE(rs.attempts.back().accepted);
    EXPECT_LE(rs.run.record.thinking_tokens(), 11);
    EXPECT_FALSE(rs.run.record.forced_end);
  }
  // Greedy never changes: every try is the same, and the fallback is budget-forced.
  KVCache kv2(m, 1024);
  cfg.end_bias = 0;
  RejectionRun g = rejection_sample(m, kv2, qwen(), chat_prompt(), params(0.0f, 0), cfg, 3);
  EXPECT_FALSE(g.accepted);
  EXPECT_EQ(g.attempts.size(), 4u);
  EXPECT_TRUE(g.run.record.forced_end);
  EXPECT_EQ(g.run.record.thinking_tokens(), 12);
}

TEST(ModelRuns, ParallelSamplingWithVote) {
  Model& m = tiny_model();
  BudgetConfig cfg = budget(8);
  KVCache kv(m, 1024);
  SimpleAnswerExtractor x;
  VotedRuns v = sample_and_vote(m, kv, qwen(), chat_prompt(), params(1.0f, 3), &cfg, 3, x);
  ASSERT_EQ(v.samples.size(), 3u);
  ASSERT_EQ(v.answers.size(), 3u);
  EXPECT_NE(v.samples[0].gen.output_ids, v.samples[1].gen.output_ids);
  // The forced end text ends in "Final Answer:", so every sample with answer text votes.
  for (size_t i = 0; i < 3; ++i)
    EXPECT_EQ(v.answers[i].has_value(), x.extract(response_text(v.samples[i], qwen())).has_value());
  EXPECT_LE(v.vote.count, 3);
  // Without a controller: plain samples.
  VotedRuns p = sample_and_vote(m, kv, qwen(), chat_prompt(), params(1.0f, 3), nullptr, 2, x);
  EXPECT_FALSE(p.samples[0].controlled);
}

}  // namespace
}  // namespace s1::control::test
