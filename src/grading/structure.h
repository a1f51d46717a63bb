// The shape of a normalised answer: a scalar expression, a tuple or interval (its
// brackets matter: "[1, 2)" is not "[1, 2]"), a set or a list of solutions (order does
// not matter), a union of intervals, or a matrix. Compared element by element.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace s1::grading {

struct Shape {
  enum class Type { Scalar, Tuple, Set, List, Union, Matrix };
  Type type = Type::Scalar;
  std::string text;          // Scalar: the normalised expression
  std::string open, close;   // Tuple: "(" / "[" and ")" / "]"
  std::vector<Shape> items;  // elements; Matrix: rows * cols, row-major
  size_t rows = 0, cols = 0;
};

// Parses a normalised answer (see normalize()). Nesting is bounded; anything deeper is
// kept as scalar text.
Shape parse_shape(std::string_view normalised);

struct Match {
  bool equal = false;
  std::string method;  // "normalised", "rational", "numeric", "symbolic", "structure", "mismatch"
};

Match compare_shapes(const Shape& answer, const Shape& gold);

// A string equal for answers compare_shapes() finds equal (up to the tolerance of
// inexact values, rounded to 9 significant digits).
std::string canonical_shape(const Shape& s);

// Two scalar expressions: as text, then as exact rationals, then numerically (relative
// tolerance 1e-6), then with their variables at three points.
Match compare_scalars(std::string_view answer, std::string_view gold);

}  // namespace s1::grading
