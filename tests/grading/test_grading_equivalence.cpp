// Equivalence rules of the deterministic checker, each with cases that must be equal
// and cases that must not (the rules must not make everything equal).
#include <gtest/gtest.h>

#include "grading/grader.h"
#include "grading/latex_expr.h"
#include "grading/normalize.h"

using s1::grading::AnswerKind;
using s1::grading::canonical;
using s1::grading::compare;
using s1::grading::equivalent;

namespace {

void expect_equal(const char* a, const char* b, AnswerKind k = AnswerKind::Math) {
  EXPECT_TRUE(equivalent(a, b, k)) << "'" << a << "' should equal '" << b << "'";
  EXPECT_TRUE(equivalent(b, a, k)) << "'" << b << "' should equal '" << a << "' (symmetry)";
}

void expect_different(const char* a, const char* b, AnswerKind k = AnswerKind::Math) {
  EXPECT_FALSE(equivalent(a, b, k)) << "'" << a << "' should differ from '" << b << "'";
  EXPECT_FALSE(equivalent(b, a, k)) << "'" << b << "' should differ from '" << a << "' (symmetry)";
}

TEST(GradingEquivalence, ExactAndRationals) {
  expect_equal("1/2", "0.5");
  expect_equal("\\frac{1}{2}", "0.5");
  expect_equal("\\frac{6}{12}", "\\frac{1}{2}");
  expect_equal("2.50", "2.5");
  expect_equal("2.500", "\\frac{5}{2}");
  expect_equal("-\\frac{3}{4}", "\\frac{-3}{4}");
  expect_equal("-\\frac{3}{4}", "-0.75");
  expect_equal(".5", "0.5");
  expect_equal("10", "10.0");
  expect_different("0.5", "0.51");
  expect_different("1/3", "0.333");
  expect_different("1/3", "0.3333333");  // a rounded decimal is not the exact rational
  expect_different("6290000", "6287000");
  expect_different("6290000", "6290001");  // exact: no tolerance between rationals
  expect_different("3", "-3");
  expect_different("2", "\\frac{1}{2}");
}

TEST(GradingEquivalence, FracForms) {
  expect_equal("\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt3}2");
  expect_equal("\\dfrac12", "\\frac{1}{2}");
  expect_equal("\\tfrac{1}{2}", "\\frac12");
  expect_equal("\\dfrac{1}{9}", "\\frac{1}{9}");
  expect_equal("\\frac{1}{9}", "1/9");
  expect_equal("\\frac{a}{b}", "a/b");
  expect_different("\\frac{1}{2}", "\\frac{2}{1}");
  expect_different("\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt{2}}{2}");
}

TEST(GradingEquivalence, NumericEvaluation) {
  expect_equal("2\\sqrt{3}", "\\sqrt{12}");
  expect_equal("\\sqrt{8}", "2\\sqrt{2}");
  expect_equal("\\sqrt[3]{27}", "3");
  expect_equal("\\sqrt[3]{16}", "2\\sqrt[3]{2}");
  expect_equal("\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}");
  expect_equal("7\\pi", "\\pi \\cdot 7");
  expect_equal("2\\pi", "\\pi+\\pi");
  expect_equal("2^{10}", "1024");
  expect_equal("2^10", "1024");  // plain-text power
  expect_equal("3^{-1}", "\\frac{1}{3}");
  expect_equal("4^{1/2}", "2");
  expect_equal("5!", "120");
  expect_equal("\\binom{5}{2}", "10");
  expect_equal("\\dbinom{6}{3}", "20");
  expect_equal("2 \\times 3", "6");
  expect_equal("12 \\div 4", "3");
  expect_equal("(1+\\sqrt{5})/2", "\\frac{1+\\sqrt{5}}{2}");
  expect_equal("\\sqrt{2}\\sqrt{3}", "\\sqrt{6}");
  expect_equal("2\\sqrt{3}", "3.4641016151");  // decimal within 1e-6 relative of an irrational value
  expect_equal("|-3|", "3");
  expect_equal("\\lfloor 3.7 \\rfloor", "3");
  expect_different("\\pi", "3.14");
  expect_different("\\pi", "22/7");
  expect_different("2\\sqrt{3}", "3\\sqrt{2}");
  expect_different("\\sqrt{2}", "1.414");
  expect_different("\\sqrt[3]{2}", "\\sqrt{2}");
}

TEST(GradingEquivalence, MixedNumbers) {
  expect_equal("12\\frac{3}{5}", "\\frac{63}{5}");
  expect_equal("1\\frac{1}{10}", "1.1");
  expect_equal("1\\frac{1}{10}", "\\frac{11}{10}");
  expect_different("1\\frac{8}{91}", "1\\frac{1}{10}");
  expect_different("1\\frac{1}{9}", "1\\frac{1}{10}");
  expect_equal("-2\\frac{1}{2}", "-2.5");
}

TEST(GradingEquivalence, LatexSpacingAndDelimiters) {
  expect_equal("\\left( 1, 2 \\right)", "(1,2)");
  expect_equal("\\frac{1}{2}\\,", "\\frac{1}{2}");
  expect_equal("3\\!\\cdot\\!4", "12");
  expect_equal("1 \\quad", "1");
  expect_equal("$\\frac{1}{2}$", "\\frac{1}{2}");
  expect_equal("\\(5\\)", "5");
  expect_equal("\\displaystyle \\frac{1}{2}", "0.5");
  expect_equal("\\left\\{1,2\\right\\}", "\\{1,2\\}");
  expect_equal("\\lbrace 1, 2 \\rbrace", "\\{2, 1\\}");
}

TEST(GradingEquivalence, TextUnitsDegreesPercentDollars) {
  expect_equal("5 \\text{ cm}", "5");
  expect_equal("5\\text{cm}", "5");
  expect_equal("100\\text{ square units}", "100");
  expect_equal("30 \\text{ cm}^2", "30");
  expect_equal("20 \\mbox{ inches}", "20");
  expect_equal("48^\\circ", "48");
  expect_equal("48^{\\circ}", "48");
  expect_equal("120 degrees", "120");
  expect_equal("\\$6", "6");
  expect_equal("\\$6.00", "6");
  expect_equal("10\\%", "10");
  expect_equal("198\\%", "198");
  expect_equal("\\text{Evelyn}", "Evelyn");
  expect_equal("\\textbf{(C)}", "(C)");
  expect_equal("\\text{4:30 p.m.}", "4:30 \\text{ p.m.}");
  expect_different("4:30", "\\text{4:30 p.m.}");  // the time of day is part of the answer
  expect_different("5 \\text{ cm}", "6");
  expect_different("5m", "5");  // single letters are never dropped as units
  expect_different("2x", "2");
}

TEST(GradingEquivalence, PercentPolicy) {
  // "10\%" and "10" are the same answer (the % sign is notation); 0.1 is another number:
  // no Qwen-style "x, x/100, 100x" leniency, which accepts wrong answers.
  expect_equal("10\\%", "10");
  expect_different("10\\%", "0.1");
  expect_different("10", "0.1");
  expect_different("10", "1000");
}

TEST(GradingEquivalence, ThousandsSeparators) {
  expect_equal("1,000", "1000");
  expect_equal("1{,}000", "1000");
  expect_equal("1\\,000", "1000");
  expect_equal("12,345,678", "12345678");
  expect_equal("-1,000.5", "-1000.5");
  expect_different("1,000", "1");
  expect_different("1,00", "100");  // not a thousands group: a list of 1 and 0
}

TEST(GradingEquivalence, VariablePrefix) {
  expect_equal("x=5", "5");
  expect_equal("x = 5", "5");
  expect_equal("y = 2x + 3", "2x+3");
  expect_equal("k = \\frac{1}{2}", "0.5");
  expect_equal("x_1 = 4", "4");
  expect_equal("\\theta = \\frac{\\pi}{3}", "\\frac{\\pi}{3}");
  expect_equal("f(x) = x^2", "x^2");
  expect_equal("AB = 5", "5");
  expect_equal("x \\in [2, 5)", "[2,5)");
  expect_different("x = 5", "6");
  expect_different("x + y = 5", "5");  // not a variable on the left
  expect_equal("x = 1, x = 2", "1, 2");
}

TEST(GradingEquivalence, SymbolicByEvaluation) {
  expect_equal("4a-2", "4a-2");
  expect_equal("4a - 2", "-2 + 4a");
  expect_equal("2(a+1)", "2a+2");
  expect_equal("(x+1)^2", "x^2+2x+1");
  expect_equal("\\frac{x}{2}", "0.5x");
  expect_equal("4t", "t \\cdot 4");
  expect_equal("\\sin^2 x + \\cos^2 x", "1");
  expect_different("4t", "4");
  expect_different("x^2", "2x");
  expect_different("a+b", "a+c");  // different variables
  expect_different("(x+1)^2", "x^2+1");
}

TEST(GradingEquivalence, Tuples) {
  expect_equal("(1,2)", "(1, 2)");
  expect_equal("(1, \\frac{1}{2})", "(1, 0.5)");
  expect_equal("\\left(3, \\frac{\\pi}{2}\\right)", "(3,\\frac{\\pi}{2})");
  expect_equal("\\langle 1, 2 \\rangle", "(1, 2)");
  expect_different("(1,2)", "(2,1)");
  expect_different("(1,2)", "(1,2,3)");
  expect_different("(1,2)", "[1,2]");
}

TEST(GradingEquivalence, Intervals) {
  expect_equal("[2, 5)", "[2,5)");
  expect_equal("(-\\infty, 3]", "(-\\infty,3]");
  expect_equal("(-\\infty, 0) \\cup (1, \\infty)", "(1,\\infty)\\cup(-\\infty,0)");
  expect_equal("[\\frac{1}{2}, 1]", "[0.5, 1]");
  expect_different("[1,2)", "[1,2]");
  expect_different("(1,2]", "[1,2]");
  expect_different("(-\\infty, 3]", "(\\infty, 3]");
  expect_different("(-\\infty, 0) \\cup (1, \\infty)", "(-\\infty, 0) \\cup [1, \\infty)");
}

TEST(GradingEquivalence, SetsAndLists) {
  expect_equal("\\{1,2\\}", "\\{2,1\\}");
  expect_equal("\\{1, 2, 3\\}", "\\{3, 1, 2\\}");
  expect_equal("2, 3", "3, 2");
  expect_equal("2, 3", "\\{3, 2\\}");
  expect_equal("1, -2", "-2 \\text{ and } 1");
  expect_equal("x = 1 \\text{ or } x = -1", "-1, 1");
  expect_equal("\\pm 3", "3, -3");
  expect_equal("1 \\pm \\sqrt{2}", "1+\\sqrt{2}, 1-\\sqrt{2}");
  expect_different("\\{1,2\\}", "\\{1,2,3\\}");
  expect_different("2, 3", "2, 4");
  expect_different("1, 1", "1");
  expect_different("\\{1\\}", "\\{2\\}");
  // long lists: matched by canonical keys, not by a quadratic search that would run out of budget
  std::string up, down, changed;
  for (int i = 0; i < 200; ++i) {
    up += (i ? "," : "") + std::to_string(i);
    down += (i ? "," : "") + std::to_string(199 - i);
    changed += (i ? "," : "") + std::to_string(i == 150 ? 1000 : i);
  }
  EXPECT_TRUE(equivalent("\\{" + up + "\\}", "\\{" + down + "\\}", AnswerKind::Math));
  EXPECT_FALSE(equivalent("\\{" + up + "\\}", "\\{" + changed + "\\}", AnswerKind::Math));
  // tolerance-equal elements with different keys still pair up in short lists
  expect_equal("\\{2\\sqrt{3}, 1\\}", "\\{1, 3.4641016151\\}");
}

TEST(GradingEquivalence, Matrices) {
  expect_equal("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}");
  expect_equal("\\begin{pmatrix} \\frac{1}{2} \\\\ 3 \\end{pmatrix}", "\\begin{bmatrix} 0.5 \\\\ 3 \\end{bmatrix}");
  expect_equal("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "(1, 2)");
  expect_different("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{pmatrix}1&3\\\\2&4\\end{pmatrix}");
  expect_different("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 1 & 2 \\end{pmatrix}");
}

TEST(GradingEquivalence, MoreNotation) {
  expect_equal("\\frac 1 2", "0.5");
  expect_equal("\\$1,000", "1000");
  expect_equal("1,000 dollars", "1000");
  expect_equal("\\frac{\\pi}{2} \\text{ radians}", "\\frac{\\pi}{2}");
  expect_equal("5\\sqrt{2}", "\\sqrt{50}");
  expect_equal("y = -\\frac{1}{2}x + 3", "-\\frac{x}{2}+3");
  expect_equal("x^2+7x+10", "(x+2)(x+5)");
  expect_equal("30\u00b0", "30");
  expect_equal("\u03c0/2", "\\frac{\\pi}{2}");
  expect_equal("\\infty", "\\infty");
  expect_equal("10^{-3}", "0.001");
  expect_equal("3+4i", "4i+3");
  expect_different("x^2+7x+10", "(x+2)(x+6)");
  expect_different("\\frac{1}{4}", "25\\%");  // percent policy: the sign is dropped, not divided by 100
}

TEST(GradingEquivalence, TextAnswers) {
  expect_equal("\\text{Monday}", "monday");
  expect_equal("\\text{(C)}", "(C)");
  expect_different("\\text{Monday}", "\\text{Tuesday}");
  expect_different("\\text{yes}", "\\text{no}");
}

TEST(GradingEquivalence, IntegerKind) {
  expect_equal("042", "42", AnswerKind::Integer);
  expect_equal("007", "7", AnswerKind::Integer);
  expect_equal("0", "000", AnswerKind::Integer);
  expect_equal("42.0", "42", AnswerKind::Integer);  // not a plain integer: the general checker decides
  expect_equal("\\text{042}", "42", AnswerKind::Integer);
  expect_different("042", "420", AnswerKind::Integer);
  expect_different("41", "42", AnswerKind::Integer);
  EXPECT_EQ(compare("042", "42", AnswerKind::Integer).method, "integer");
  // big integers stay exact
  expect_equal("123456789012345678901234567890123456789012", "123456789012345678901234567890123456789012",
               AnswerKind::Integer);
  expect_different("123456789012345678901234567890123456789012", "123456789012345678901234567890123456789013",
                   AnswerKind::Integer);
}

TEST(GradingEquivalence, MultipleChoiceKind) {
  expect_equal("B", "B", AnswerKind::MultipleChoice);
  expect_equal("(B)", "B", AnswerKind::MultipleChoice);
  expect_equal("b", "B", AnswerKind::MultipleChoice);
  expect_equal("\\text{C}", "C", AnswerKind::MultipleChoice);
  expect_different("A", "B", AnswerKind::MultipleChoice);
  expect_different("Because", "B", AnswerKind::MultipleChoice);
}

TEST(GradingEquivalence, Methods) {
  EXPECT_EQ(compare("5", "5", AnswerKind::Math).method, "exact");
  EXPECT_EQ(compare("\\dfrac{1}{2}", "\\frac{1}{2}", AnswerKind::Math).method, "normalised");
  EXPECT_EQ(compare("0.5", "\\frac{1}{2}", AnswerKind::Math).method, "rational");
  EXPECT_EQ(compare("2\\sqrt{3}", "\\sqrt{12}", AnswerKind::Math).method, "numeric");
  EXPECT_EQ(compare("2a+2", "2(a+1)", AnswerKind::Math).method, "symbolic");
  EXPECT_EQ(compare("\\{1,2\\}", "\\{2,1\\}", AnswerKind::Math).method, "structure");
  EXPECT_EQ(compare("3", "4", AnswerKind::Math).method, "mismatch");
  EXPECT_FALSE(compare("3", "4", AnswerKind::Math).equal);
  EXPECT_FALSE(compare("", "4", AnswerKind::Math).equal);
}

TEST(GradingCanonical, EquivalentAnswersShareAKey) {
  const char* groups[][4] = {
      {"\\frac{1}{2}", "0.5", "\\dfrac12", "1/2"},
      {"2\\sqrt{3}", "\\sqrt{12}", "\\sqrt{3}\\cdot 2", "2 \\sqrt 3"},
      {"\\{1,2\\}", "\\{2,1\\}", "2, 1", "1,2"},
      {"x = 5", "5", "5.0", "\\text{5}"},
      {"1,000", "1000", "1000.00", "10^3"},
      {"2a+2", "2(a+1)", "2 + 2a", "a \\cdot 2 + 2"},
  };
  for (auto& g : groups)
    for (int i = 1; i < 4; ++i) EXPECT_EQ(canonical(g[0], AnswerKind::Math), canonical(g[i], AnswerKind::Math)) << g[i];
  EXPECT_NE(canonical("(1,2)", AnswerKind::Math), canonical("(2,1)", AnswerKind::Math));
  EXPECT_NE(canonical("[1,2)", AnswerKind::Math), canonical("[1,2]", AnswerKind::Math));
  EXPECT_NE(canonical("0.5", AnswerKind::Math), canonical("0.51", AnswerKind::Math));
  EXPECT_EQ(canonical("042", AnswerKind::Integer), "42");
  EXPECT_EQ(canonical("(b)", AnswerKind::MultipleChoice), "B");
  EXPECT_EQ(canonical("0.5", AnswerKind::Math), "1/2");
}

TEST(GradingNormalize, Rules) {
  using s1::grading::normalize;
  EXPECT_EQ(normalize("\\left( 1, 2 \\right)"), "( 1, 2 )");
  EXPECT_EQ(normalize("\\dfrac{1}{2}"), "\\frac{1}{2}");
  EXPECT_EQ(normalize("5 \\text{ cm}"), "5");
  EXPECT_EQ(normalize("1,000"), "1000");
  EXPECT_EQ(normalize("90^\\circ"), "90");
  EXPECT_EQ(normalize("x \\text{ or } y"), "x or y");
  EXPECT_EQ(s1::grading::strip_variable_prefix("x = 3"), "3");
  EXPECT_EQ(s1::grading::strip_variable_prefix("x + y = 3"), "x + y = 3");
  EXPECT_EQ(s1::grading::compact("\\pi r^2"), "\\pi r^2");
}

TEST(GradingEvaluator, BoundsAndFailures) {
  using s1::grading::evaluate;
  EXPECT_FALSE(evaluate("1/0"));
  EXPECT_FALSE(evaluate("\\sqrt{-4}"));
  EXPECT_FALSE(evaluate("2^{100000}"));          // too large: no inf, no hang
  EXPECT_FALSE(evaluate("1000!"));               // factorial bound
  EXPECT_FALSE(evaluate(std::string(5000, '(')));  // deep nesting / long input rejected
  EXPECT_FALSE(evaluate(std::string(1000, '(') + "1" + std::string(1000, ')')));  // depth bound
  auto deep = evaluate(std::string(30, '(') + "1" + std::string(30, ')'));
  ASSERT_TRUE(deep);
  EXPECT_EQ(deep->value.exact->str(), "1");
  auto big = evaluate("2^{200}");  // beyond __int128: a double, still finite
  ASSERT_TRUE(big);
  EXPECT_FALSE(big->value.exact);
  EXPECT_NEAR(big->value.approx / 1.606938044258990e60, 1.0, 1e-12);
  EXPECT_FALSE(evaluate("1 2"));  // ambiguous juxtaposition of numbers
  EXPECT_FALSE(evaluate("x = 3"));
  EXPECT_FALSE(evaluate("1010_2"));
}

}  // namespace
