// The budget-forcing state machine driven through the generator's exact loop by a
// scripted "model" (tests/control/helpers.h): every path a random model rarely takes —
// natural ends, ignored ends, minimums, both accountings, s1's crash cases — with the
// real Qwen2.5 tokenizer, so delimiters tokenize as they do for s1.
#include "helpers.h"

namespace s1::control::test {
namespace {

const int32_t X = qwen().encode("x")[0];

std::vector<int32_t> cat(std::initializer_list<std::vector<int32_t>> parts) {
  std::vector<int32_t> v;
  for (const auto& p : parts) v.insert(v.end(), p.begin(), p.end());
  return v;
}
std::vector<int32_t> rep(int32_t id, size_t n) { return std::vector<int32_t>(n, id); }

// Wants the end delimiter once the last three output tokens are "x" (a 3-token round).
auto end_after_three(const BudgetForcingController& c) {
  return [&c](const std::vector<int32_t>& out) {
    bool three = out.size() >= 3 && std::all_of(out.end() - 3, out.end(), [](int32_t t) { return t == X; });
    return c.phase() == Phase::Thinking && three ? kImStart : X;
  };
}

TEST(Scripted, BudgetEndsThinkingWithEndText) {
  BudgetConfig cfg = s1_config();
  cfg.max_thinking = 16;
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  auto prompt = chat_prompt();
  ScriptRun r = run_script(c, prompt, [](const auto&) { return X; });
  EXPECT_EQ(r.out, cat({ids("<|im_start|>think"), rep(X, 16), ids("\n"), ids("<|im_start|>answer\nFinal Answer:"), rep(X, 8)}));
  ThinkingRecord rec = c.finish(as_result(r));
  EXPECT_EQ(rec.thinking_tokens(), 16);
  EXPECT_TRUE(rec.forced_end);
  EXPECT_EQ(rec.end_cause, "budget");
  EXPECT_EQ(rec.end_text, "\n<|im_start|>answer\nFinal Answer:");
  EXPECT_EQ(rec.start_text, "<|im_start|>think");
  EXPECT_EQ(rec.thinking_text, std::string(16, 'x'));
  EXPECT_EQ(rec.answer_tokens(), 8);
  EXPECT_EQ(rec.stop_reason, "length");
  EXPECT_EQ(rec.stop_phase, "answer");
  EXPECT_EQ(rec.rounds, 1);
}

TEST(Scripted, NoSecondNewlineWhenThinkingEndsInOne) {
  BudgetConfig cfg = s1_config();
  cfg.max_thinking = 4;
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  const int32_t nl = ids("\n")[0];
  ScriptRun r = run_script(c, chat_prompt(), [&](const auto&) { return nl; });
  ThinkingRecord rec = c.finish(as_result(r));
  EXPECT_EQ(rec.end_text, "<|im_start|>answer\nFinal Answer:");
}

TEST(Scripted, ModelEndsThinkingItself) {
  BudgetConfig cfg = s1_config();
  cfg.max_thinking = 100;
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  ScriptRun r = run_script(c, chat_prompt(), [&](const std::vector<int32_t>& out) {
    if (c.phase() == Phase::Thinking) return c.thinking_tokens() == 5 ? kImStart : X;
    return c.phase() == Phase::Answer && out.back() == X ? kImEnd : X;
  });
  ThinkingRecord rec = c.finish(as_result(r));
  EXPECT_EQ(rec.thinking_tokens(), 5);
  EXPECT_FALSE(rec.forced_end);
  EXPECT_EQ(rec.end_cause, "model");
  EXPECT_EQ(rec.end_ids, ids("<|im_start|>answer"));  // the sampled <|im_start|> kept, "answer" forced
  EXPECT_EQ(rec.answer_ids, std::vector<int32_t>{X});  // the stop token is not answer text
  EXPECT_EQ(rec.stop_reason, "eos");
  EXPECT_EQ(r.out.back(), kImEnd);
}

TEST(Scripted, IgnoredEndsAppendWaitHarness) {
  BudgetConfig cfg = s1_config();
  cfg.max_thinking = 100;
  cfg.num_ignore = 2;
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  ScriptRun r = run_script(c, chat_prompt(), end_after_three(c));
  ThinkingRecord rec = c.finish(as_result(r));
  const int32_t wait = id1("Wait");
  EXPECT_EQ(rec.thinking_ids, cat({rep(X, 3), {wait}, rep(X, 3), {wait}, rep(X, 3)}));
  ASSERT_EQ(rec.ignores.size(), 2u);
  EXPECT_EQ(rec.ignores[0].position, 3);
  EXPECT_EQ(rec.ignores[1].position, 7);
  EXPECT_EQ(rec.ignores[0].text, "Wait");
  EXPECT_EQ(rec.ignores[0].reason, "ignore");
  EXPECT_EQ(rec.ignores[0].output_position, 2 + 3);  // after "<|im_start|>think" and 3 tokens
  EXPECT_EQ(r.out[size_t(rec.ignores[1].output_position)], wait);
  EXPECT_EQ(rec.rounds, 3);
  EXPECT_FALSE(rec.forced_end);
  EXPECT_EQ(rec.end_ids, ids("<|im_start|>answer"));
  EXPECT_EQ(rec.thinking_text, "xxxWaitxxxWaitxxx");  // s1 inserts no space
}

TEST(Scripted, RoundCannotEndAtItsFirstToken) {
  // The harness runs every round with min_tokens = 1 when thinking_n_ignore is set.
  BudgetConfig cfg = s1_config();
  cfg.max_thinking = 100;
  cfg.num_ignore = 1;
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  ScriptRun r = run_script(c, chat_prompt(), [&](const auto&) { return c.phase() == Phase::Thinking ? kImStart : X; });
  ThinkingRecord rec = c.finish(as_result(r));
  EXPECT_EQ(rec.thinking_ids, cat({{X}, {id1("Wait")}, {X}}));
}

TEST(Scripted, MinimumInjectsWaitUntilReached) {
  BudgetConfig cfg = s1_config();
  cfg.max_thinking = 100;
  cfg.min_thinking = 10;
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  ScriptRun r = run_script(c, chat_prompt(), end_after_three(c));
  ThinkingRecord rec = c.finish(as_result(r));
  EXPECT_GE(rec.thinking_tokens(), 10);
  EXPECT_EQ(rec.thinking_tokens(), 11);  // xxx W xxx W xxx
  ASSERT_EQ(rec.ignores.size(), 2u);
  EXPECT_EQ(rec.ignores[0].reason, "min");
  EXPECT_FALSE(rec.forced_end);
}

TEST(Scripted, MinimumWithoutIgnoreStringOnlyMasks) {
  // --ignore-str "": the end is refused and the model samples something else, which is
  // the harness's min_tokens_thinking (vLLM masks the stop ids below min_tokens).
  BudgetConfig cfg = s1_config();
  cfg.max_thinking = 100;
  cfg.min_thinking = 5;
  cfg.ignore_str = "";
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  ScriptRun r = run_script(c, chat_prompt(), [&](const auto&) { return c.phase() == Phase::Thinking ? kImStart : X; });
  ThinkingRecord rec = c.finish(as_result(r));
  EXPECT_EQ(rec.thinking_ids, rep(X, 5));
  EXPECT_EQ(rec.end_ids, ids("<|im_start|>answer"));
  for (const auto& e : rec.ignores) EXPECT_EQ(e.text, "");
}

TEST(Scripted, BudgetRunsOutBeforeTheLastIgnoreRound) {
  // s1 issues #35 / #95: every sample hits "length" before the last round and the
  // harness calls generate([]). Here the budget simply ends thinking.
  BudgetConfig cfg = s1_config();
  cfg.max_thinking = 8;
  cfg.num_ignore = 4;
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  ScriptRun r = run_script(c, chat_prompt(), end_after_three(c));
  ThinkingRecord rec = c.finish(as_result(r));
  EXPECT_EQ(rec.thinking_tokens(), 8);
  EXPECT_EQ(rec.ignores.size(), 2u);
  EXPECT_TRUE(rec.forced_end);
  EXPECT_EQ(rec.end_text, "\n<|im_start|>answer\nFinal Answer:");
  EXPECT_EQ(rec.stop_reason, "length");
}

TEST(Scripted, ReadmeAccountingShrinksTheBudget) {
  // README: remaining = 12 - 4 (xxx + stop) - 4 = 4; the third round ends with a stop
  // that leaves 0, so it is not continued (the #53 guard) although ignores remain.
  BudgetConfig cfg = s1_config();
  cfg.max_thinking = 12;
  cfg.num_ignore = 3;
  cfg.mode = BudgetMode::Readme;
  BudgetForcingController readme(cfg, qwen(), qwen_traits());
  ThinkingRecord a = readme.finish(as_result(run_script(readme, chat_prompt(), end_after_three(readme))));
  const int32_t wait = id1("Wait");
  EXPECT_EQ(a.thinking_ids, cat({rep(X, 3), {wait}, rep(X, 3), {wait}, rep(X, 3)}));
  EXPECT_FALSE(a.forced_end);
  EXPECT_EQ(a.budget_used, 12);
  EXPECT_EQ(a.mode, "readme");

  // The harness on the same model: the third end is ignored too, and the budget, which
  // counts the Waits, cuts right after it.
  cfg.mode = BudgetMode::Harness;
  BudgetForcingController harness(cfg, qwen(), qwen_traits());
  ThinkingRecord b = harness.finish(as_result(run_script(harness, chat_prompt(), end_after_three(harness))));
  EXPECT_EQ(b.thinking_ids, cat({rep(X, 3), {wait}, rep(X, 3), {wait}, rep(X, 3), {wait}}));
  EXPECT_TRUE(b.forced_end);
  EXPECT_EQ(b.budget_used, 12);
}

TEST(Scripted, ReadmeRoundIsCutByTheRemainingBudget) {
  BudgetConfig cfg = s1_config();
  cfg.max_thinking = 10;
  cfg.num_ignore = 3;
  cfg.mode = BudgetMode::Readme;
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  ThinkingRecord rec = c.finish(as_result(run_script(c, chat_prompt(), end_after_three(c))));
  // xxx+stop (4) W xxx+stop (8) W xx (10): the last round's max_tokens was 2.
  EXPECT_EQ(rec.thinking_tokens(), 3 + 1 + 3 + 1 + 2);
  EXPECT_TRUE(rec.forced_end);
  EXPECT_EQ(rec.budget_used, 10);
}

TEST(Scripted, ReadmeRemainingBudgetAtZeroIsNotContinued) {
  BudgetConfig cfg = s1_config();
  cfg.max_thinking = 4;
  cfg.num_ignore = 1;
  cfg.mode = BudgetMode::Readme;
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  ThinkingRecord rec = c.finish(as_result(run_script(c, chat_prompt(), end_after_three(c))));
  EXPECT_EQ(rec.thinking_ids, rep(X, 3));
  EXPECT_TRUE(rec.ignores.empty());
  EXPECT_FALSE(rec.forced_end);
}

TEST(Scripted, BudgetZero) {
  BudgetConfig cfg = s1_config();
  cfg.max_thinking = 0;
  cfg.num_ignore = 2;
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  ScriptRun r = run_script(c, chat_prompt(), [](const auto&) { return X; });
  ThinkingRecord rec = c.finish(as_result(r));
  EXPECT_EQ(rec.thinking_tokens(), 0);
  EXPECT_TRUE(rec.forced_end);
  EXPECT_EQ(r.out, cat({ids("<|im_start|>think"), ids("\n"), ids("<|im_start|>answer\nFinal Answer:"), rep(X, 8)}));
}

TEST(Scripted, DelimiterAsTheVeryFirstToken) {
  BudgetConfig cfg = s1_config();
  cfg.max_thinking = 50;
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  ScriptRun r = run_script(c, chat_prompt(), [&](const auto&) { return c.phase() == Phase::Thinking ? kImStart : X; });
  ThinkingRecord rec = c.finish(as_result(r));
  EXPECT_EQ(rec.thinking_tokens(), 0);
  EXPECT_FALSE(rec.forced_end);
  EXPECT_EQ(r.out, cat({ids("<|im_start|>think"), ids("<|im_start|>answer"), rep(X, 8)}));
}

TEST(Scripted, NoBudgetMeansTheAnswerLimitBoundsThinking) {
  BudgetConfig cfg = s1_config();  // no max_thinking: the harness uses max_gen_toks
  cfg.answer_limit = 20;
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  ThinkingRecord rec = c.finish(as_result(run_script(c, chat_prompt(), [](const auto&) { return X; })));
  EXPECT_EQ(rec.thinking_tokens(), 20);
  EXPECT_TRUE(rec.forced_end);
  EXPECT_EQ(rec.answer_tokens(), 20);
}

TEST(Scripted, EosDuringThinkingBecomesTheEndDelimiter) {
  BudgetConfig cfg = s1_config();
  cfg.max_thinking = 50;
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  ScriptRun r = run_script(c, chat_prompt(), [&](const auto&) {
    return c.phase() == Phase::Thinking && c.thinking_tokens() == 3 ? kImEnd : X;
  });
  ThinkingRecord rec = c.finish(as_result(r));
  EXPECT_EQ(rec.thinking_tokens(), 3);
  EXPECT_EQ(rec.end_ids, ids("<|im_start|>answer"));  // <|im_end|> stripped, as the harness does
  EXPECT_EQ(rec.end_cause, "model");
}

TEST(Scripted, PromptThatAlreadyOpensTheBlock) {
  BudgetConfig cfg = s1_config();
  cfg.max_thinking = 4;
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  auto prompt = chat_prompt();
  auto open = ids("<|im_start|>think\n");
  prompt.insert(prompt.end(), open.begin(), open.end());
  ScriptRun r = run_script(c, prompt, [](const auto&) { return X; });
  ThinkingRecord rec = c.finish(as_result(r));
  EXPECT_TRUE(rec.opened_in_prompt);
  EXPECT_TRUE(rec.start_ids.empty());
  EXPECT_EQ(r.out, cat({rep(X, 4), ids("\n"), ids("<|im_start|>answer\nFinal Answer:"), rep(X, 8)}));
}

TEST(Scripted, R1PromptsOpenOrCloseTheBlock) {
  BudgetConfig cfg = s1_config();
  cfg.delimiters = family_delimiters(Family::R1);
  cfg.max_thinking = 4;
  {
    BudgetForcingController c(cfg, qwen(), qwen_traits());
    auto prompt = ids("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n");  // <think> is 3 tokens here
    ThinkingRecord rec = c.finish(as_result(run_script(c, prompt, [](const auto&) { return X; })));
    EXPECT_TRUE(rec.opened_in_prompt);
    EXPECT_EQ(rec.thinking_tokens(), 4);
    EXPECT_EQ(rec.end_text, "\n</think>\n\n");
  }
  {
    // Qwen3 with enable_thinking=false renders an empty, closed block.
    BudgetForcingController c(cfg, qwen(), qwen_traits());
    auto prompt = ids("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
    ScriptRun r = run_script(c, prompt, [](const auto&) { return X; });
    ThinkingRecord rec = c.finish(as_result(r));
    EXPECT_TRUE(rec.closed_in_prompt);
    EXPECT_EQ(r.out, rep(X, 8));
  }
}

TEST(Scripted, EarlierTurnsDoNotOpenOrCloseTheBlock) {
  BudgetConfig cfg = s1_config();
  cfg.max_thinking = 2;
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  auto prompt = ids(
      "<|im_start|>user\nq1<|im_end|>\n<|im_start|>assistant\n<|im_start|>think\nt<|im_start|>answer\na<|im_end|>\n"
      "<|im_start|>user\nq2<|im_end|>\n<|im_start|>assistant\n");
  ScriptRun r = run_script(c, prompt, [](const auto&) { return X; });
  ThinkingRecord rec = c.finish(as_result(r));
  EXPECT_FALSE(rec.opened_in_prompt);
  EXPECT_FALSE(rec.closed_in_prompt);
  EXPECT_EQ(rec.start_text, "<|im_start|>think");
  EXPECT_EQ(rec.thinking_tokens(), 2);
}

TEST(Scripted, MultiTokenDelimitersMatchedTokenByToken) {
  // "<think>" / "</think>" are not tokens of Qwen2.5: the model writes them in pieces.
  BudgetConfig cfg = s1_config();
  cfg.delimiters = family_delimiters(Family::R1);
  cfg.force_start = false;
  cfg.max_thinking = 50;
  const auto open = ids("<think>"), close = ids("</think>");
  ASSERT_GT(open.size(), 1u);
  ASSERT_GT(close.size(), 1u);
  const int32_t a = id1("a");
  std::vector<int32_t> script = cat({{a}, open, rep(X, 4), close});
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  ScriptRun r = run_script(c, chat_prompt(), [&](const std::vector<int32_t>& out) {
    return out.size() < script.size() ? script[out.size()] : X;
  });
  ThinkingRecord rec = c.finish(as_result(r));
  EXPECT_EQ(rec.preamble_ids, std::vector<int32_t>{a});
  EXPECT_EQ(rec.start_ids, open);
  EXPECT_EQ(rec.thinking_ids, rep(X, 4));
  EXPECT_EQ(rec.end_ids, close);
  EXPECT_EQ(rec.end_cause, "model");
  EXPECT_EQ(rec.answer_tokens(), 8);
}

TEST(Scripted, StepConditionalStopsAtZeroStepsLeft) {
  BudgetConfig cfg = s1_config();
  cfg.delimiters = family_delimiters(Family::S1Steps);
  cfg.max_thinking = 100;
  std::vector<int32_t> script = cat({ids("2 steps left\nfoo\n"), {kImStart}, ids("1 steps left\nbar\n"), {kImStart}, ids("0")});
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  ScriptRun r = run_script(c, chat_prompt(), [&](const std::vector<int32_t>& out) {
    size_t i = out.size() - 1;  // after the forced "<|im_start|>"
    return c.phase() == Phase::Thinking && i < script.size() ? script[i] : X;
  });
  ThinkingRecord rec = c.finish(as_result(r));
  EXPECT_EQ(rec.start_ids, std::vector<int32_t>{kImStart});
  EXPECT_EQ(rec.thinking_text, "2 steps left\nfoo\n<|im_start|>1 steps left\nbar\n");
  EXPECT_EQ(rec.end_ids, ids("<|im_start|>answer"));  // "0" refused, "answer" forced after the kept <|im_start|>
}

TEST(Scripted, ContextFullEndsThinkingSoTheEndTextFits) {
  BudgetConfig cfg = s1_config();
  cfg.max_thinking = 1000;
  auto prompt = chat_prompt();
  cfg.context_tokens = int64_t(prompt.size()) + 24;
  cfg.context_reserve = 4;
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  ScriptRun r = run_script(c, prompt, [](const auto&) { return X; });
  ThinkingRecord rec = c.finish(as_result(r));
  EXPECT_EQ(rec.end_cause, "context");
  EXPECT_TRUE(rec.forced_end);
  // start (2) + thinking + "\n" (1) + end text (6) + reserve (4) = 24
  EXPECT_EQ(rec.thinking_tokens(), 24 - 2 - 1 - 6 - 4);
  EXPECT_LE(int64_t(r.out.size()) - rec.answer_tokens(), 24 - 4);
}

TEST(Scripted, MinimumYieldsOnlyToAFullContext) {
  BudgetConfig cfg = s1_config();
  cfg.max_thinking = 1000;
  cfg.min_thinking = 500;
  auto prompt = chat_prompt();
  cfg.context_tokens = int64_t(prompt.size()) + 40;
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  ThinkingRecord rec = c.finish(as_result(run_script(c, prompt, end_after_three(c))));
  EXPECT_LT(rec.thinking_tokens(), 500);
  EXPECT_TRUE(rec.thinking_ended);
  EXPECT_FALSE(rec.ignores.empty());
}

TEST(Scripted, IgnoreStringIsCutByTheBudget) {
  BudgetConfig cfg = s1_config();
  cfg.max_thinking = 6;
  cfg.num_ignore = 1;
  cfg.ignore_str = " Let me double-check this carefully";
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  ThinkingRecord rec = c.finish(as_result(run_script(c, chat_prompt(), end_after_three(c))));
  auto ig = ids(cfg.ignore_str);
  ASSERT_GT(ig.size(), 3u);
  EXPECT_EQ(rec.thinking_ids, cat({rep(X, 3), std::vector<int32_t>(ig.begin(), ig.begin() + 3)}));
  EXPECT_TRUE(rec.forced_end);
}

// Single-byte tokens of the byte-level vocabulary.
int32_t byte_token(unsigned char b) {
  for (int32_t id = 0; id < 256 * 4 && id < qwen().vocab_size(); ++id)
    if (qwen().token_bytes(id) == std::string(1, char(b))) return id;
  ADD_FAILURE() << "no token for byte " << int(b);
  return -1;
}

TEST(Scripted, BudgetNeverSplitsAUtf8Character) {
  const int32_t e4 = byte_token(0xE4), b8 = byte_token(0xB8), ad = byte_token(0xAD);  // 中 = E4 B8 AD
  for (int64_t budget : {3, 4, 5}) {
    BudgetConfig cfg = s1_config();
    cfg.max_thinking = budget;
    std::vector<int32_t> script = {X, X, e4, b8, ad};
    BudgetForcingController c(cfg, qwen(), qwen_traits());
    ScriptRun r = run_script(c, chat_prompt(), [&](const auto&) {
      auto n = size_t(c.thinking_tokens());
      return c.phase() == Phase::Thinking && n < script.size() ? script[n] : X;
    });
    ThinkingRecord rec = c.finish(as_result(r));
    EXPECT_EQ(rec.thinking_tokens(), budget);
    EXPECT_TRUE(complete_utf8(rec.thinking_text)) << budget;
    if (budget == 5) {
      EXPECT_EQ(rec.thinking_text, "xx中");  // room for the whole character: not masked
    } else {
      EXPECT_EQ(std::count(rec.thinking_ids.begin(), rec.thinking_ids.end(), e4), 0) << budget;
    }
  }
}

TEST(Scripted, RejectionStopsAtTheBudget) {
  BudgetConfig cfg = s1_config();
  cfg.max_thinking = 5;
  cfg.reject_at = 5;
  {
    BudgetForcingController c(cfg, qwen(), qwen_traits());
    ScriptRun r = run_script(c, chat_prompt(), [](const auto&) { return X; });
    EXPECT_EQ(r.stop, "rejected");
    EXPECT_EQ(c.thinking_tokens(), 5);
  }
  {
    BudgetForcingController c(cfg, qwen(), qwen_traits());
    ScriptRun r = run_script(c, chat_prompt(), [&](const auto&) {
      return c.phase() == Phase::Thinking && c.thinking_tokens() == 4 ? kImStart : X;
    });
    ThinkingRecord rec = c.finish(as_result(r));
    EXPECT_EQ(r.stop, "length");  // accepted: on to the answer
    EXPECT_EQ(rec.thinking_tokens(), 4);
  }
}

TEST(Scripted, ModelThatNeverOpensTheBlock) {
  BudgetConfig cfg = s1_config();
  cfg.force_start = false;
  cfg.max_thinking = 4;
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  ScriptRun r = run_script(c, chat_prompt(), [](const auto&) { return X; });
  ThinkingRecord rec = c.finish(as_result(r));
  EXPECT_FALSE(rec.thinking_started);
  EXPECT_EQ(rec.preamble_ids, rep(X, 8));  // bounded by the answer limit
  EXPECT_EQ(r.stop, "length");
}

TEST(Scripted, EndBiasMakesTheModelTryToEnd) {
  BudgetConfig cfg = s1_config();
  cfg.max_thinking = 20;
  cfg.num_ignore = 1;
  cfg.end_bias = 100;
  BudgetForcingController c(cfg, qwen(), qwen_traits());
  ThinkingRecord rec = c.finish(as_result(run_script(c, chat_prompt(), [](const auto&) { return X; })));
  EXPECT_EQ(rec.thinking_ids, cat({{X}, {id1("Wait")}, {X}}));
}

TEST(Scripted, BadConfigurations) {
  BudgetConfig cfg = s1_config();
  cfg.max_thinking = 10;
  cfg.min_thinking = 11;
  EXPECT_THROW(BudgetForcingController(cfg, qwen(), qwen_traits()), Error);
  cfg.min_thinking = 0;
  cfg.max_thinking = -1;
  EXPECT_THROW(cfg.validate(), Error);
  cfg.max_thinking = 10;
  cfg.num_ignore = -2;
  EXPECT_THROW(cfg.validate(), Error);
  cfg.num_ignore = 0;
  cfg.delimiters = family_delimiters(Family::None);
  EXPECT_THROW(cfg.validate(), Error);
  try {
    BudgetConfig m = s1_config();
    m.min_thinking = 300;  // no --max-thinking: the answer limit is the budget
    m.validate();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--min-thinking (300)"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace s1::control::test
