// A small recursive-descent evaluator for the LaTeX of one math answer: numbers, + - * /,
// \cdot \times \div, powers, \frac, \sqrt[n], \pi, \binom, n!, |x|, \lfloor, functions
// (\sin, \ln, ...), implicit multiplication (2\sqrt{3}, 4a) and MATH's mixed numbers
// (12\frac{3}{5} = 63/5). Values are exact rationals while every step allows it, else
// doubles. Letters and Greek letters are variables: an expression is evaluated at a fixed
// point per `point` index, so two expressions with the same variables can be compared at
// several points (a probabilistic identity test). Bounded: input length, nesting depth,
// exponent sizes — no input can make it crash or hang.
#pragma once
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "grading/rational.h"

namespace s1::grading {

struct Value {
  std::optional<Rational> exact;  // set while the value is a known rational
  double approx = 0;              // always set; +-inf only for \infty
};

struct Evaluation {
  Value value;
  std::set<std::string> variables;  // e.g. {"a", "x_1", "\\theta"}
};

// nullopt when the text is not a single expression this evaluator understands (relations,
// words, lists...) or when evaluating it fails (division by zero, sqrt of a negative).
std::optional<Evaluation> evaluate(std::string_view expr, int point = 0);

// The value a variable takes at evaluation point `point` (deterministic, in [0.6, 2.4]).
double variable_value(std::string_view name, int point);

}  // namespace s1::grading
