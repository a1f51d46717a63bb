// The step-wise decoding session against s1::generate / generate_controlled (the same
// tokens), and the server's generation state on a real tiny model: reasoning vs content,
// the thinking budget, stop strings, min_tokens.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "control/run.h"
#include "decode/decode_session.h"
#include "llm/engine.h"
#include "support/tiny_model.h"
#include "serve/generation.h"

namespace s1::serve {
namespace {

// qwen2.5-tiny with the real Qwen2.5 tokenizer (data/tokenizers), written once per process.
struct Tiny {
  s1::test::TinyModelDir dir{"serve-gen", 11};
  llm::Engine e;
  ModelContext mc;
  static llm::EngineOptions one_thread() {
    llm::EngineOptions o;
    o.threads = 1;
    return o;
  }
  Tiny() : e(llm::Engine::open(dir.path(), one_thread())) {
    mc.model = e.model.get();
    mc.tok = &e.tokenizer;
    mc.traits = control::TokenTraits::build(e.tokenizer);
    mc.delimiters = control::family_delimiters(control::Family::S1);
    mc.has_delimiters = true;
    mc.stop_ids = e.stop_ids;
    mc.valid_vocab = e.valid_vocab;
  }
  std::vector<int32_t> chat(const std::string& q) const {
    return e.tokenizer.encode(e.chat_template.apply(nlohmann::json::array({{{"role", "user"}, {"content", q}}}), true));
  }
};
Tiny& tiny() {
  static Tiny t;
  return t;
}

GenerateParams params(uint64_t seed, int64_t n) {
  GenerateParams gp;
  gp.max_new_tokens = n;
  gp.sampling.temperature = 0.8f;
  gp.sampling.seed = seed;
  gp.stop_ids = tiny().mc.stop_ids;
  gp.valid_vocab = tiny().mc.valid_vocab;
  return gp;
}

TEST(DecodeSession, SameTokensAsGenerate) {
  auto& t = tiny();
  auto prompt = t.chat("What is 2+2?");
  for (uint64_t seed : {1u, 2u, 3u}) {
    KVCache a(*t.e.model, 512), b(*t.e.model, 512);
    GenerateResult ref = generate(*t.e.model, a, prompt, params(seed, 40));
    DecodeSession s(*t.e.model, b, prompt, params(seed, 40));
    s.prefill();
    std::vector<int32_t> got;
    while (auto id = s.next_token()) {
      got.push_back(*id);
      if (s.needs_feed()) s.feed();
    }
    EXPECT_EQ(got, ref.output_ids) << "seed " << seed;
    EXPECT_EQ(s.result().stop_reason, ref.stop_reason);
    EXPECT_EQ(b.pos(), a.pos());
  }
}

// Sessions fed together in one batched forward pass (the server's rounds) emit the same
// tokens as each generated alone: different prompts, lengths, seeds and finishing times.
TEST(DecodeSession, FeedBatchSameTokensAsGenerateAlone) {
  auto& t = tiny();
  std::vector<std::vector<int32_t>> prompts = {t.chat("What is 2+2?"), t.chat("Name a prime number larger than 10."),
                                               t.chat("Hi")};
  std::vector<int64_t> lengths = {30, 12, 25};
  std::vector<std::unique_ptr<KVCache>> caches;
  std::vector<std::unique_ptr<DecodeSession>> sessions;
  std::vector<std::vector<int32_t>> got(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    caches.push_back(std::make_unique<KVCache>(*t.e.model, 512));
    sessions.push_back(std::make_unique<DecodeSession>(*t.e.model, *caches[i], prompts[i], params(10 + i, lengths[i])));
    sessions[i]->prefill();
  }
  for (bool any = true; any;) {
    any = false;
    std::vector<DecodeSession*> feed;
    for (size_t i = 0; i < sessions.size(); ++i) {
      if (sessions[i]->done()) continue;
      if (auto id = sessions[i]->next_token()) got[i].push_back(*id);
      if (sessions[i]->needs_feed()) feed.push_back(sessions[i].get());
      any = any || !sessions[i]->done();
    }
    DecodeSession::feed_batch(feed);
  }
  for (size_t i = 0; i < prompts.size(); ++i) {
    KVCache alone(*t.e.model, 512);
    GenerateResult ref = generate(*t.e.model, alone, prompts[i], params(10 + i, lengths[i]));
    EXPECT_EQ(got[i], ref.output_ids) << "sequence " << i;
    EXPECT_EQ(sessions[i]->result().stop_reason, ref.stop_reason);
    EXPECT_EQ(caches[i]->pos(), alone.pos());
  }
}

TEST(DecodeSession, SameTokensAsGenerateControlled) {
  auto& t = tiny();
  auto prompt = t.chat("Think about 3*7.");
  control::BudgetConfig cfg;
  cfg.max_thinking = 12;
  cfg.num_ignore = 1;
  cfg.end_bias = 8;  // the random model ends thinking early, so the Wait path runs
  cfg.answer_limit = 10;
  KVCache a(*t.e.model, 512), b(*t.e.model, 512);
  auto ref = control::generate_controlled(*t.e.model, a, t.e.tokenizer, prompt, params(5, 100), &cfg);

  control::BudgetConfig c2 = cfg;
  c2.eos_ids = t.mc.stop_ids;
  c2.context_tokens = b.max_ctx();
  control::BudgetForcingController ctl(c2, t.e.tokenizer, t.mc.traits);
  GenerateParams gp = params(5, 100);
  gp.max_new_tokens = ctl.output_bound();
  DecodeSession s(*t.e.model, b, prompt, gp, &ctl);
  s.prefill();
  while (s.next_token())
    if (s.needs_feed()) s.feed();
  EXPECT_EQ(s.result().output_ids, ref.gen.output_ids);
  auto rec = ctl.finish(s.result());
  EXPECT_EQ(rec.thinking_ids, ref.record.thinking_ids);
  EXPECT_EQ(rec.ignores.size(), ref.record.ignores.size());
}

struct Run {
  std::string reasoning, content;  // concatenated deltas
  Outcome out;
};
Run run(GenerationSpec spec) {
  auto& t = tiny();
  KVCache kv(*t.e.model, 1024);
  Generation g(t.mc, kv, std::move(spec));
  g.prefill();
  Run r;
  while (!g.done()) {
    Delta d = g.step();
    r.reasoning += d.reasoning;
    r.content += d.content;
  }
  Delta tail;
  r.out = g.finish(&tail);
  r.reasoning += tail.reasoning;
  r.content += tail.content;
  return r;
}

GenerationSpec spec(const std::string& q, int64_t max_tokens, uint64_t seed = 3) {
  GenerationSpec s;
  s.prompt = tiny().chat(q);
  s.sampling.temperature = 0.8f;
  s.sampling.seed = seed;
  s.max_tokens = max_tokens;
  return s;
}

TEST(Generation, PlainIsAllContent) {
  auto r = run(spec("hello", 24));
  EXPECT_TRUE(r.reasoning.empty());
  EXPECT_EQ(r.content, r.out.content);
  EXPECT_EQ(r.out.reasoning_tokens, 0);
  EXPECT_EQ(r.out.completion_tokens, 24);
  EXPECT_EQ(r.out.finish_reason, "length");
}

TEST(Generation, ThinkingBudgetSplitsReasoningFromContent) {
  GenerationSpec s = spec("hello", 60);
  control::BudgetConfig cfg;
  cfg.max_thinking = 16;
  s.budget = cfg;
  auto r = run(s);
  EXPECT_EQ(r.out.reasoning_tokens, 16);  // the random model never ends thinking itself: the cap does
  EXPECT_FALSE(r.reasoning.empty());
  EXPECT_EQ(r.reasoning, r.out.reasoning);
  EXPECT_EQ(r.content, r.out.content);
  EXPECT_EQ(r.out.thinking["forced_end"], true);
  EXPECT_EQ(r.out.thinking["end_cause"], "budget");
  // the delimiters are in neither text
  EXPECT_EQ(r.reasoning.find("<|im_start|>"), std::string::npos);
  EXPECT_EQ(r.content.find("<|im_start|>"), std::string::npos);
  EXPECT_EQ(r.out.completion_tokens, 60);
  // the same thinking ids as the control layer's own driver
  auto& t = tiny();
  KVCache kv(*t.e.model, 1024);
  GenerateParams gp;
  gp.sampling = s.sampling;
  gp.stop_ids = t.mc.stop_ids;
  gp.valid_vocab = t.mc.valid_vocab;
  control::BudgetConfig c2 = cfg;
  c2.answer_limit = 60;
  auto ref = control::generate_controlled(*t.e.model, kv, t.e.tokenizer, s.prompt, gp, &c2);
  // (streamed through a StreamDecoder: a broken UTF-8 sequence becomes U+FFFD there)
  StreamDecoder dec(t.e.tokenizer);
  std::string want;
  for (int32_t id : ref.record.thinking_ids) want += dec.push(id);
  want += dec.flush();
  EXPECT_EQ(r.out.reasoning, want);
  EXPECT_EQ(r.out.reasoning_tokens, ref.record.thinking_tokens());
}

TEST(Generation, IgnoredEndsAppendWait) {
  GenerationSpec s = spec("hello", 80);
  control::BudgetConfig cfg;
  cfg.max_thinking = 40;
  cfg.num_ignore = 2;
  cfg.end_bias = 12;  // make the random model try to end thinking
  s.budget = cfg;
  auto r = run(s);
  ASSERT_EQ(r.out.thinking["ignores"].size(), 2u);
  EXPECT_NE(r.reasoning.find("Wait"), std::string::npos);
  EXPECT_EQ(r.reasoning, r.out.reasoning);
}

TEST(Generation, StopStringEndsTheContent) {
  // Find what the plain run writes, then stop on a piece of it.
  auto full = run(spec("tell me", 40, 9));
  ASSERT_GT(full.out.content.size(), 8u);
  const std::string stop = full.out.content.substr(4, 3);
  GenerationSpec s = spec("tell me", 40, 9);
  s.stop = {stop};
  auto r = run(s);
  EXPECT_EQ(r.out.finish_reason, "stop");
  EXPECT_EQ(r.content, full.out.content.substr(0, full.out.content.find(stop)));
  EXPECT_EQ(r.out.content, r.content);
}

}  // namespace
}  // namespace s1::serve
