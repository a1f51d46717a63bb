#include "grading/rational.h"

#include <cmath>

namespace s1::grading {

namespace {

i128 abs128(i128 v) { return v < 0 ? -v : v; }

i128 gcd128(i128 a, i128 b) {
  a = abs128(a);
  b = abs128(b);
  while (b != 0) {
    i128 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

// The most negative value cannot be negated; keep every magnitude below it.
constexpr i128 kMax = (i128(1) << 126);

bool in_range(i128 v) { return v < kMax && v > -kMax; }

}  // namespace

std::optional<Rational> Rational::make(i128 n, i128 d) {
  if (d == 0 || !in_range(n) || !in_range(d)) return std::nullopt;
  if (d < 0) {
    n = -n;
    d = -d;
  }
  i128 g = gcd128(n, d);
  if (g > 1) {
    n /= g;
    d /= g;
  }
  return Rational{n, d};
}

std::string i128_str(i128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  // magnitudes stay below 2^126, so negation is safe
  i128 m = neg ? -v : v;
  std::string s;
  while (m > 0) {
    s.push_back(char('0' + int(m % 10)));
    m /= 10;
  }
  if (neg) s.push_back('-');
  return std::string(s.rbegin(), s.rend());
}

std::string Rational::str() const { return den == 1 ? i128_str(num) : i128_str(num) + "/" + i128_str(den); }

std::optional<Rational> add(const Rational& a, const Rational& b) {
  i128 x, y, n, d;
  if (__builtin_mul_overflow(a.num, b.den, &x) || __builtin_mul_overflow(b.num, a.den, &y) ||
      __builtin_add_overflow(x, y, &n) || __builtin_mul_overflow(a.den, b.den, &d))
    return std::nullopt;
  return Rational::make(n, d);
}

std::optional<Rational> sub(const Rational& a, const Rational& b) { return add(a, Rational{-b.num, b.den}); }

std::optional<Rational> mul(const Rational& a, const Rational& b) {
  // cross-reduce first so products of reduced fractions overflow as late as possible
  i128 g1 = gcd128(a.num, b.den), g2 = gcd128(b.num, a.den);
  if (g1 == 0) g1 = 1;
  if (g2 == 0) g2 = 1;
  i128 n, d;
  if (__builtin_mul_overflow(a.num / g1, b.num / g2, &n) || __builtin_mul_overflow(a.den / g2, b.den / g1, &d))
    return std::nullopt;
  return Rational::make(n, d);
}

std::optional<Rational> div(const Rational& a, const Rational& b) {
  if (b.num == 0) return std::nullopt;
  const Rational inverse = b.num < 0 ? Rational{-b.den, -b.num} : Rational{b.den, b.num};
  return mul(a, inverse);
}

std::optional<Rational> pow_int(const Rational& a, int64_t e) {
  if (e > 1024 || e < -1024) return std::nullopt;
  if (e < 0) {
    if (a.num == 0) return std::nullopt;
    auto p = pow_int(a, -e);
    if (!p) return std::nullopt;
    return div(Rational::integer(1), *p);
  }
  Rational result = Rational::integer(1), base = a;
  while (e > 0) {
    if (e & 1) {
      auto r = mul(result, base);
      if (!r) return std::nullopt;
      result = *r;
    }
    e >>= 1;
    if (e > 0) {
      auto b = mul(base, base);
      if (!b) return std::nullopt;
      base = *b;
    }
  }
  return result;
}

namespace {

// The integer n-th root of v >= 0 when it is exact.
std::optional<i128> iroot(i128 v, int n) {
  if (v < 0) return std::nullopt;
  if (v < 2) return v;
  double guess = std::pow(double(v), 1.0 / n);
  i128 g = i128(std::llround(guess));
  for (i128 c = (g > 2 ? g - 2 : 0); c <= g + 2; ++c) {
    i128 p = 1;
    bool over = false;
    for (int k = 0; k < n && !over; ++k) over = __builtin_mul_overflow(p, c, &p);
    if (!over && p == v) return c;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Rational> exact_root(const Rational& a, int n) {
  if (n < 1 || n > 64) return std::nullopt;
  if (n == 1) return a;
  bool neg = a.num < 0;
  if (neg && n % 2 == 0) return std::nullopt;
  // values this large lose precision in the double guess; give up exactness instead
  if (abs128(a.num) > (i128(1) << 100) || a.den > (i128(1) << 100)) return std::nullopt;
  auto rn = iroot(neg ? -a.num : a.num, n);
  auto rd = iroot(a.den, n);
  if (!rn || !rd) return std::nullopt;
  return Rational::make(neg ? -*rn : *rn, *rd);
}

}  // namespace s1::grading
