// Exact rationals on __int128 with overflow detection: answers like 1/2, 0.5, 2.50 and
// \frac{6}{12} compare exactly; an operation that would overflow returns nullopt and the
// caller falls back to floating point (never a wrong exact result).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace s1::grading {

using i128 = __int128;

struct Rational {
  i128 num = 0;
  i128 den = 1;  // > 0, gcd(num, den) == 1

  static std::optional<Rational> make(i128 n, i128 d);
  static Rational integer(i128 n) { return Rational{n, 1}; }
  bool is_integer() const { return den == 1; }
  double to_double() const { return double(num) / double(den); }
  std::string str() const;  // "7", "-3/4"
};

std::optional<Rational> add(const Rational& a, const Rational& b);
std::optional<Rational> sub(const Rational& a, const Rational& b);
std::optional<Rational> mul(const Rational& a, const Rational& b);
std::optional<Rational> div(const Rational& a, const Rational& b);  // nullopt on b == 0
// a^e for an integer e with |e| <= 1024; nullopt on overflow or 0^-n.
std::optional<Rational> pow_int(const Rational& a, int64_t e);
// The exact n-th root when both numerator and denominator are perfect n-th powers.
std::optional<Rational> exact_root(const Rational& a, int n);
inline bool operator==(const Rational& a, const Rational& b) { return a.num == b.num && a.den == b.den; }

std::string i128_str(i128 v);

}  // namespace s1::grading
