// Answer extraction: the answer segment, \boxed / \fbox with brace matching, "Answer:"
// lines, "the answer is", multiple-choice letters, AIME integers.
#include <gtest/gtest.h>

#include "grading/grader.h"

using s1::grading::AnswerKind;
using s1::grading::answer_segment;
using s1::grading::extract_answer;
using s1::grading::grade;

namespace {

std::string math(const std::string& r) {
  auto a = extract_answer(r, AnswerKind::Math);
  return a ? *a : "<none>";
}
std::string choice(const std::string& r) {
  auto a = extract_answer(r, AnswerKind::MultipleChoice);
  return a ? *a : "<none>";
}

TEST(GradingExtract, AnswerSegment) {
  // s1: the text after "<|im_start|>answer\n"
  EXPECT_EQ(answer_segment("<|im_start|>think\nmaybe \\boxed{1}\n<|im_start|>answer\nAnswer: 2"), "Answer: 2");
  EXPECT_EQ(math("<|im_start|>think\nmaybe \\boxed{1}\n<|im_start|>answer\nAnswer: 2"), "2");
  // the last <|im_start|> minus its first line
  EXPECT_EQ(answer_segment("a<|im_start|>3 steps left\nstep\n<|im_start|>assistant\nThe answer is 5."),
            "The answer is 5.");
  EXPECT_EQ(answer_segment("<|im_start|>think\nno end"), "no end");  // s1: the thinking, minus its first line
  // R1 / Qwen3: after </think>
  EXPECT_EQ(math("<think>\\boxed{1}</think>\nSo \\boxed{3}."), "3");
  EXPECT_EQ(math("plain \\boxed{7}"), "7");
}

TEST(GradingExtract, Boxed) {
  EXPECT_EQ(math("so \\boxed{\\frac{1}{2}}."), "\\frac{1}{2}");
  EXPECT_EQ(math("first \\boxed{1} then \\boxed{2}"), "2");
  EXPECT_EQ(math("nested \\boxed{\\{1, \\{2\\}\\}} end"), "\\{1, \\{2\\}\\}");
  EXPECT_EQ(math("\\boxed{x^{2}+\\frac{1}{y}}"), "x^{2}+\\frac{1}{y}");
  EXPECT_EQ(math("\\fbox{12}"), "12");
  EXPECT_EQ(math("\\boxed{3} and later \\fbox{4}"), "4");  // the later of the two
  EXPECT_EQ(math("$\\boxed 5$."), "5");                     // s1's "\boxed " form
  EXPECT_EQ(math("\\boxed{$42$}"), "42");
  EXPECT_EQ(math("\\boxed{ 7 }"), "7");
  // an unbalanced last box (a cut response): the previous complete one
  EXPECT_EQ(math("\\boxed{6} ... \\boxed{\\frac{1}{"), "6");
  EXPECT_EQ(math("\\boxed{\\frac{1}{"), "<none>");
  EXPECT_EQ(math("\\boxedx{3}"), "<none>");
}

TEST(GradingExtract, AnswerLines) {
  EXPECT_EQ(math("work\nAnswer: 42"), "42");
  EXPECT_EQ(math("work\nFinal Answer: $\\frac{3}{4}$."), "\\frac{3}{4}");
  EXPECT_EQ(math("Final Answer: The final answer is $7$. I hope it is correct."), "7");
  EXPECT_EQ(math("**Final Answer:** 12"), "12");
  EXPECT_EQ(math("**Answer**: 13"), "13");
  EXPECT_EQ(math("answer : 14"), "14");
  EXPECT_EQ(math("Answer:\n\n15\n"), "15");  // the next non-empty line
  // the LAST marker and only its line (s1's greedy DOTALL regex takes everything after the
  // first "Answer:")
  EXPECT_EQ(math("Answer: 1\nmore thought\nAnswer: 2\nbye"), "2");
  EXPECT_EQ(math("Answer: 3\nthe end"), "3");
  // boxed wins over Answer:
  EXPECT_EQ(math("Answer: 9 is wrong, \\boxed{10}"), "10");
  EXPECT_EQ(math("Thus the answer is 17."), "17");
  EXPECT_EQ(math("the answer is $3.5$. Done"), "3.5");
  EXPECT_EQ(math("The final answer is: 5"), "5");
  EXPECT_EQ(math("so the answer is \\(\\frac{1}{2}\\)."), "\\frac{1}{2}");
  EXPECT_EQ(math("Answer: $x = 3$"), "x = 3");
  EXPECT_EQ(math("**Final Answer**\n\\[ \\boxed{5} \\]"), "5");
  EXPECT_EQ(math("no answer here"), "<none>");
  EXPECT_EQ(math(""), "<none>");
}

TEST(GradingExtract, MultipleChoice) {
  EXPECT_EQ(choice("\\boxed{B}"), "B");
  EXPECT_EQ(choice("\\boxed{(C)}"), "C");
  EXPECT_EQ(choice("\\boxed{\\text{D}}"), "D");
  EXPECT_EQ(choice("Answer: (B)"), "B");
  EXPECT_EQ(choice("Answer: C) 42 kg"), "C");
  EXPECT_EQ(choice("So the answer is A."), "A");
  EXPECT_EQ(choice("the correct answer is **D**"), "D");
  EXPECT_EQ(choice("Answer: b"), "B");
  EXPECT_EQ(choice("The answer is: B"), "B");
  EXPECT_EQ(choice("(d)"), "D");
  EXPECT_EQ(choice("  B  "), "B");
  EXPECT_EQ(choice("<|im_start|>think\nA or B?\n<|im_start|>answer\nAnswer: C"), "C");
  // not letters
  EXPECT_EQ(choice("Answer: Because of the heat"), "<none>");
  EXPECT_EQ(choice("the answer is a large number"), "<none>");  // an article, not choice A
  EXPECT_EQ(choice("I think it is unclear"), "<none>");
  EXPECT_EQ(choice("\\boxed{42}"), "<none>");
}

TEST(GradingExtract, IntegerKind) {
  auto v = grade("... so \\boxed{042}", "42", AnswerKind::Integer);
  EXPECT_EQ(v.extracted.value_or(""), "042");
  EXPECT_TRUE(v.correct);
  EXPECT_EQ(v.method, "integer");
  v = grade("Answer: 007", "7", AnswerKind::Integer);
  EXPECT_TRUE(v.correct);
  v = grade("\\boxed{43}", "042", AnswerKind::Integer);
  EXPECT_FALSE(v.correct);
  EXPECT_EQ(v.method, "mismatch");
  v = grade("I give up", "42", AnswerKind::Integer);
  EXPECT_FALSE(v.extracted);
  EXPECT_EQ(v.method, "none");
}

TEST(GradingExtract, GradeMath) {
  auto v = grade("We get \\boxed{\\dfrac{1}{2}}.", "0.5", AnswerKind::Math);
  EXPECT_TRUE(v.correct);
  EXPECT_EQ(v.method, "rational");
  v = grade("Therefore \\boxed{4:30 \\text{ p.m.}}.", "\\text{4:30 p.m.}", AnswerKind::Math);
  EXPECT_TRUE(v.correct);
  v = grade("\\boxed{(2,1)}", "(1,2)", AnswerKind::Math);
  EXPECT_FALSE(v.correct);
}

TEST(GradingExtract, LongAndHostileInputStaysFast) {
  // many unbalanced boxes and markers: bounded tries, linear scans
  std::string r;
  for (int i = 0; i < 20000; ++i) r += "\\boxed{";
  EXPECT_EQ(math(r), "<none>");
  std::string many(200000, 'a');
  for (int i = 0; i < 2000; ++i) many += "answer answer: ";
  EXPECT_EQ(math(many + "\nAnswer: 5"), "5");
  std::string deep = "\\boxed{" + std::string(5000, '(') + "1" + std::string(5000, ')') + "}";
  auto a = extract_answer(deep, AnswerKind::Math);
  ASSERT_TRUE(a);
  EXPECT_TRUE(s1::grading::equivalent(*a, *a, AnswerKind::Math));
  EXPECT_FALSE(s1::grading::equivalent(*a, "1", AnswerKind::Math));
}

}  // namespace
