// The small parts of the control layer: token matching, UTF-8 bookkeeping, family
// detection, s1's exact strings and numbers, answer extraction and voting.
#include "control/answer.h"
#include "control/methods.h"
#include "helpers.h"

namespace s1::control::test {
namespace {

TEST(TokenMatcher, FindsOverlappingSequences) {
  TokenMatcher m({1, 1, 2});
  std::vector<int32_t> stream = {1, 1, 1, 2, 1, 2, 1, 1, 2};
  std::vector<size_t> hits;
  for (size_t i = 0; i < stream.size(); ++i)
    if (m.push(stream[i])) hits.push_back(i);
  EXPECT_EQ(hits, (std::vector<size_t>{3, 8}));
  TokenMatcher w({5, 6});
  EXPECT_FALSE(w.would_complete(6));
  w.push(5);
  EXPECT_TRUE(w.would_complete(6));
  EXPECT_EQ(w.next_expected(), 6);
  EXPECT_EQ(find_last(std::vector<int32_t>{5, 6, 7, 5, 6}, std::vector<int32_t>{5, 6}), 3);
  EXPECT_EQ(find_last(std::vector<int32_t>{5}, std::vector<int32_t>{5, 6}), -1);
}

TEST(TokenTraits, Utf8PendingBytes) {
  EXPECT_EQ(utf8_pending(0, "ab"), 0);
  EXPECT_EQ(utf8_pending(0, "a\xE4"), 2);
  EXPECT_EQ(utf8_pending(2, "\xB8"), 1);
  EXPECT_EQ(utf8_pending(1, "\xAD"), 0);
  EXPECT_EQ(utf8_pending(2, "x"), 0);             // broken: nothing more can complete it
  EXPECT_EQ(utf8_pending(0, "\xF0\x9F"), 2);      // 4-byte lead + 1
  const auto& t = *qwen_traits();
  for (int32_t id = 0; id < qwen().vocab_size(); id += 97) {
    std::string b = qwen().token_bytes(id);
    for (int p = 0; p <= 3; ++p) {
      std::string prefix = p == 0 ? "" : p == 1 ? "\xC3" : p == 2 ? "\xE4" : "\xF0";
      ASSERT_EQ(t.pending_after(p, id), utf8_pending(utf8_pending(0, prefix), b)) << id << " " << p;
    }
  }
  EXPECT_TRUE(t.ends_with_newline(ids("\n")[0]));
  EXPECT_FALSE(t.ends_with_newline(kImStart));
  EXPECT_TRUE(t.is_empty(151900));  // padded embedding rows have no bytes
}

TEST(Delimiters, FamiliesAndDetection) {
  EXPECT_EQ(detect_family("", qwen()), Family::S1);  // ChatML: <|im_start|> is a token
  EXPECT_EQ(detect_family("{{ '<think>\\n' }}...</think>", qwen()), Family::R1);
  EXPECT_EQ(parse_family("r1"), Family::R1);
  EXPECT_EQ(parse_family("s1-steps"), Family::S1Steps);
  EXPECT_THROW(parse_family("qwen"), Error);
  Delimiters s1 = family_delimiters(Family::S1);
  EXPECT_EQ(s1.think_start, "<|im_start|>think");
  EXPECT_EQ(s1.end_text, "<|im_start|>answer\nFinal Answer:");
  EXPECT_EQ(ids(s1.think_start), (std::vector<int32_t>{kImStart, id1("think")}));
  EXPECT_EQ(ids(s1.stops[0]), std::vector<int32_t>{kImStart});
  EXPECT_EQ(parse_budget_mode("readme"), BudgetMode::Readme);
  EXPECT_THROW(parse_budget_mode("paper"), Error);
}

TEST(AutoBudget, S1Formula) {
  // 32768 - prompt - len("<|im_start|>think") - len("<|im_start|>answer\nFinal Answer:") - 100
  Delimiters d = family_delimiters(Family::S1);
  EXPECT_EQ(ids(d.end_text).size(), 6u);
  EXPECT_EQ(auto_thinking_budget(32768, 40, d, qwen()), 32768 - 40 - 2 - 6 - 100);
  EXPECT_EQ(auto_thinking_budget(32768, 40000, d, qwen()), 0);
}

TEST(Methods, ExactPromptStrings) {
  EXPECT_EQ(conditional_question(ControlMethod::TokenPrompt, "Q", 2048), "Q\n\nThink for up to 2048 tokens.");
  EXPECT_EQ(conditional_question(ControlMethod::StepPrompt, "Q", 64), "Q\n\nThink for up to 64 steps.");
  EXPECT_EQ(conditional_prompt_suffix(ControlMethod::ClassLong),
            "\n\nAnswer after a long amount of thinking. If you feel like you are finished early, spend the extra time "
            "trying to double-check your work until you are absolutely sure that you have the correct answer.");
  EXPECT_EQ(conditional_prompt_suffix(ControlMethod::ClassShort),
            "\n\nAnswer after a short amount of thinking. Do not spend excessive time double-checking your work.");
  EXPECT_EQ(conditional_prompt_suffix(ControlMethod::Budget), "");
  EXPECT_EQ(conditional_prompt_suffix(ControlMethod::Rejection), "");
  EXPECT_THROW(conditional_prompt_suffix(ControlMethod::TokenPrompt, 0), Error);
  EXPECT_EQ(parse_control_method("class-short"), ControlMethod::ClassShort);
  EXPECT_THROW(parse_control_method("best-of-n"), Error);
}

TEST(Answers, SimpleExtractor) {
  SimpleAnswerExtractor x;
  EXPECT_EQ(x.extract("so \\boxed{3} then \\boxed{\\frac{1}{2}}."), "\\frac{1}{2}");
  EXPECT_EQ(x.extract("\n<|im_start|>answer\nFinal Answer: $42$.\nmore"), "42");
  EXPECT_EQ(x.extract("Final Answer:\n\n 7 \n"), "7");
  EXPECT_EQ(x.extract("Answer: B"), "B");
  EXPECT_EQ(x.extract("no answer here"), std::nullopt);
  EXPECT_EQ(x.extract("\\boxed{unclosed"), std::nullopt);
}

TEST(Answers, MajorityVoteTiesGoToTheFirstSeen) {
  Vote v = majority_vote({std::string("2"), std::nullopt, std::string("3"), std::string("3"), std::string("2")});
  EXPECT_EQ(v.answer, "2");
  EXPECT_EQ(v.count, 2);
  EXPECT_EQ(v.first_index, 0);
  EXPECT_EQ(v.voters, 4);
  Vote w = majority_vote({std::string("a"), std::string("b"), std::string("b")});
  EXPECT_EQ(w.answer, "b");
  EXPECT_EQ(w.first_index, 1);
  Vote none = majority_vote({std::nullopt});
  EXPECT_EQ(none.count, 0);
  EXPECT_EQ(none.answer, "");
}

}  // namespace
}  // namespace s1::control::test
