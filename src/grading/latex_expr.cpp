#include "grading/latex_expr.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <vector>

namespace s1::grading {

namespace {

constexpr size_t kMaxLength = 4000;  // longer "answers" are not evaluated
constexpr int kMaxDepth = 500;  // parser frames (about 5 per bracket level): bounds recursion
constexpr size_t kMaxTokens = 2000;

struct Fail {};  // internal: the text is not an expression we can evaluate

enum class Kind { Num, Var, Cmd, Sym, End };

struct Token {
  Kind kind;
  std::string text;  // Num: digits[.digits]; Var: the letter; Cmd: name without '\'; Sym: the char
};

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::vector<Token> lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
    } else if (is_digit(c) || (c == '.' && i + 1 < s.size() && is_digit(s[i + 1]))) {
      size_t b = i;
      while (i < s.size() && is_digit(s[i])) ++i;
      if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && is_digit(s[i])) ++i;
      }
      out.push_back({Kind::Num, std::string(s.substr(b, i - b))});
    } else if (is_letter(c)) {
      out.push_back({Kind::Var, std::string(1, c)});
      ++i;
    } else if (c == '\\') {
      size_t b = ++i;
      while (i < s.size() && is_letter(s[i])) ++i;
      if (i == b) {
        if (i >= s.size()) throw Fail{};
        ++i;  // a one-character command: \{ \, \\ ...
      }
      out.push_back({Kind::Cmd, std::string(s.substr(b, i - b))});
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      throw Fail{};  // non-ASCII: not something we evaluate
    } else {
      out.push_back({Kind::Sym, std::string(1, c)});
      ++i;
    }
    if (out.size() > kMaxTokens) throw Fail{};
  }
  out.push_back({Kind::End, ""});
  return out;
}

bool is_greek(const std::string& n) {
  static const char* names[] = {"alpha", "beta",    "gamma", "delta", "epsilon", "varepsilon", "zeta",  "eta",
                                "theta", "vartheta", "iota", "kappa", "lambda",  "mu",         "nu",    "xi",
                                "rho",   "sigma",   "tau",   "upsilon", "phi",   "varphi",     "chi",   "psi",
                                "omega", "Gamma",   "Delta", "Theta", "Lambda",  "Xi",         "Sigma", "Phi",
                                "Psi",   "Omega"};
  for (const char* g : names)
    if (n == g) return true;
  return false;
}

bool is_function(const std::string& n) {
  static const char* names[] = {"sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan",
                                "sinh", "cosh", "tanh", "ln", "log", "exp"};
  for (const char* f : names)
    if (n == f) return true;
  return false;
}

Value inexact(double d) {
  if (!std::isfinite(d)) throw Fail{};
  return Value{std::nullopt, d};
}

Value exact(const Rational& q) { return Value{q, q.to_double()}; }

bool is_inf(const Value& v) { return std::isinf(v.approx); }

void no_inf(const Value& a, const Value& b) {
  if (is_inf(a) || is_inf(b)) throw Fail{};
}

Value add(const Value& a, const Value& b) {
  no_inf(a, b);
  if (a.exact && b.exact)
    if (auto q = grading::add(*a.exact, *b.exact)) return exact(*q);
  return inexact(a.approx + b.approx);
}

Value negate(const Value& a) {
  if (a.exact) return exact(Rational{-a.exact->num, a.exact->den});
  return Value{std::nullopt, -a.approx};
}

Value mul(const Value& a, const Value& b) {
  no_inf(a, b);
  if (a.exact && b.exact)
    if (auto q = grading::mul(*a.exact, *b.exact)) return exact(*q);
  return inexact(a.approx * b.approx);
}

Value div(const Value& a, const Value& b) {
  no_inf(a, b);
  if (b.exact ? b.exact->num == 0 : b.approx == 0) throw Fail{};
  if (a.exact && b.exact)
    if (auto q = grading::div(*a.exact, *b.exact)) return exact(*q);
  return inexact(a.approx / b.approx);
}

Value power(const Value& base, const Value& e) {
  no_inf(base, e);
  if (base.exact && e.exact && e.exact->den <= 64 && e.exact->num >= -1024 && e.exact->num <= 1024) {
    if (auto root = exact_root(*base.exact, int(e.exact->den)))
      if (auto q = pow_int(*root, int64_t(e.exact->num))) return exact(*q);
  }
  if (base.approx == 0 && e.approx <= 0) throw Fail{};
  if (base.approx < 0 && !(e.exact && e.exact->den == 1)) throw Fail{};
  if (std::fabs(e.approx) > 1e4) throw Fail{};
  return inexact(std::pow(base.approx, e.approx));
}

Value root(const Value& v, const Value& n) {
  if (!n.exact || !n.exact->is_integer() || n.exact->num < 1 || n.exact->num > 64) throw Fail{};
  const int k = int(n.exact->num);
  no_inf(v, v);
  if (v.exact)
    if (auto q = exact_root(*v.exact, k)) return exact(*q);
  if (v.approx < 0) {
    if (k % 2 == 0) throw Fail{};
    return inexact(-std::pow(-v.approx, 1.0 / k));
  }
  return inexact(std::pow(v.approx, 1.0 / k));
}

std::optional<int64_t> small_int(const Value& v, int64_t lo, int64_t hi) {
  if (!v.exact || !v.exact->is_integer() || v.exact->num < lo || v.exact->num > hi) return std::nullopt;
  return int64_t(v.exact->num);
}

Value factorial(const Value& v) {
  auto n = small_int(v, 0, 170);
  if (!n) throw Fail{};
  Rational r = Rational::integer(1);
  double d = 1;
  bool is_exact = true;
  for (int64_t k = 2; k <= *n; ++k) {
    d *= double(k);
    if (is_exact) {
      auto next = grading::mul(r, Rational::integer(k));
      if (next)
        r = *next;
      else
        is_exact = false;
    }
  }
  return is_exact ? exact(r) : inexact(d);
}

Value binomial(const Value& nv, const Value& kv) {
  auto n = small_int(nv, 0, 100000), k = small_int(kv, 0, 100000);
  if (!n || !k) throw Fail{};
  if (*k > *n) return exact(Rational::integer(0));
  int64_t kk = std::min(*k, *n - *k);
  if (kk > 5000) throw Fail{};
  Rational r = Rational::integer(1);
  bool is_exact = true;
  double d = 1;
  for (int64_t i = 1; i <= kk; ++i) {
    d = d * double(*n - kk + i) / double(i);
    if (is_exact) {
      auto m = grading::mul(r, Rational::integer(*n - kk + i));
      auto q = m ? grading::div(*m, Rational::integer(i)) : std::nullopt;
      if (q)
        r = *q;
      else
        is_exact = false;
    }
  }
  return is_exact ? exact(r) : inexact(d);
}

Value apply_function(const std::string& f, const Value& x) {
  no_inf(x, x);
  const double a = x.approx;
  double r;
  if (f == "sin") r = std::sin(a);
  else if (f == "cos") r = std::cos(a);
  else if (f == "tan") r = std::tan(a);
  else if (f == "sec") r = 1 / std::cos(a);
  else if (f == "csc") r = 1 / std::sin(a);
  else if (f == "cot") r = 1 / std::tan(a);
  else if (f == "arcsin") r = std::asin(a);
  else if (f == "arccos") r = std::acos(a);
  else if (f == "arctan") r = std::atan(a);
  else if (f == "sinh") r = std::sinh(a);
  else if (f == "cosh") r = std::cosh(a);
  else if (f == "tanh") r = std::tanh(a);
  else if (f == "exp") r = std::exp(a);
  else {  // ln, log: natural logarithm (a base, if any, is applied by the caller)
    if (a <= 0) throw Fail{};
    r = std::log(a);
  }
  return inexact(r);
}

// Parses a decimal literal exactly ("2.50" -> 5/2); very long literals become doubles.
Value number(const std::string& text) {
  std::string digits;
  int64_t scale = 0;
  bool after_dot = false;
  for (char c : text) {
    if (c == '.') {
      after_dot = true;
      continue;
    }
    digits.push_back(c);
    if (after_dot) ++scale;
  }
  size_t first = digits.find_first_not_of('0');
  std::string_view significant = first == std::string::npos ? "0" : std::string_view(digits).substr(first);
  if (significant.size() <= 36 && scale <= 36) {
    i128 n = 0, d = 1;
    for (char c : significant) n = n * 10 + (c - '0');
    for (int64_t k = 0; k < scale; ++k) d *= 10;
    if (auto q = Rational::make(n, d)) return exact(*q);
  }
  return inexact(std::strtod(text.c_str(), nullptr));
}

class Parser {
 public:
  Parser(std::vector<Token> toks, int point) : t_(std::move(toks)), point_(point) {}

  Evaluation run() {
    Value v = expr();
    if (peek().kind != Kind::End) throw Fail{};
    return Evaluation{v, std::move(vars_)};
  }

 private:
  std::vector<Token> t_;
  size_t pos_ = 0;
  int depth_ = 0;
  int point_;
  std::set<std::string> vars_;

  struct Depth {
    explicit Depth(int& d) : d_(d) {
      if (++d_ > kMaxDepth) throw Fail{};
    }
    ~Depth() { --d_; }
    int& d_;
  };

  const Token& peek(size_t k = 0) const { return t_[std::min(pos_ + k, t_.size() - 1)]; }
  bool sym(char c, size_t k = 0) const { return peek(k).kind == Kind::Sym && peek(k).text[0] == c; }
  bool cmd(const char* name, size_t k = 0) const { return peek(k).kind == Kind::Cmd && peek(k).text == name; }
  void expect_sym(char c) {
    if (!sym(c)) throw Fail{};
    ++pos_;
  }
  void expect_cmd(const char* name) {
    if (!cmd(name)) throw Fail{};
    ++pos_;
  }

  Value expr() {
    Depth d(depth_);
    Value v = signed_term();
    for (;;) {
      if (sym('+')) {
        ++pos_;
        v = add(v, signed_term());
      } else if (sym('-')) {
        ++pos_;
        v = add(v, negate(signed_term()));
      } else {
        return v;
      }
    }
  }

  // a term that may start with signs: -x, +x, --x
  Value signed_term() {
    Depth d(depth_);
    if (sym('-')) {
      ++pos_;
      return negate(signed_term());
    }
    if (sym('+')) {
      ++pos_;
      return signed_term();
    }
    return term();
  }

  bool starts_factor() const {
    const Token& k = peek();
    if (k.kind == Kind::Num || k.kind == Kind::Var) return true;
    if (k.kind == Kind::Sym) return k.text[0] == '(' || k.text[0] == '{' || k.text[0] == '[';
    if (k.kind == Kind::Cmd)
      return k.text == "frac" || k.text == "sqrt" || k.text == "pi" || k.text == "binom" || k.text == "lfloor" ||
             k.text == "lceil" || k.text == "infty" || is_greek(k.text) || is_function(k.text);
    return false;
  }

  Value term() {
    Depth d(depth_);
    Value v = power_expr();
    for (;;) {
      if (sym('*') || cmd("cdot") || cmd("times")) {
        ++pos_;
        v = mul(v, signed_factor());
      } else if (sym('/') || cmd("div")) {
        ++pos_;
        v = div(v, signed_factor());
      } else if (starts_factor()) {
        if (peek().kind == Kind::Num && prev_is_number()) throw Fail{};
        v = mul(v, power_expr());  // implicit: 2\sqrt{3}, 4a, (1+x)(2-x)
      } else {
        return v;
      }
    }
  }

  // "2 3" is ambiguous (a product? a thousands separator?): refuse it
  bool prev_is_number() const { return pos_ > 0 && t_[pos_ - 1].kind == Kind::Num; }

  Value signed_factor() {
    Depth d(depth_);
    if (sym('-')) {
      ++pos_;
      return negate(signed_factor());
    }
    if (sym('+')) {
      ++pos_;
      return signed_factor();
    }
    return power_expr();
  }

  Value power_expr() {
    Depth d(depth_);
    Value v = postfix();
    while (sym('^')) {
      ++pos_;
      v = power(v, exponent());
    }
    return v;
  }

  Value exponent() {
    Depth d(depth_);
    if (sym('{')) return group('{', '}');
    if (sym('-')) {
      ++pos_;
      return negate(exponent());
    }
    if (peek().kind == Kind::Num) return number(t_[pos_++].text);  // plain-text 2^10 means 1024
    return primary();
  }

  Value postfix() {
    Value v = primary();
    while (sym('!')) {
      ++pos_;
      v = factorial(v);
    }
    return v;
  }

  Value group(char open, char close) {
    expect_sym(open);
    Value v = expr();
    expect_sym(close);
    return v;
  }

  // A LaTeX macro argument: {expr} or one token (\frac12: the digit 1, then 2).
  Value argument() {
    Depth d(depth_);
    if (sym('{')) return group('{', '}');
    Token& k = t_[std::min(pos_, t_.size() - 1)];
    if (k.kind == Kind::Num) {
      if (k.text.size() > 1 && is_digit(k.text[0]) && is_digit(k.text[1])) {
        std::string first(1, k.text[0]);
        k.text.erase(0, 1);
        return number(first);
      }
      ++pos_;
      return number(k.text);
    }
    if (k.kind == Kind::Var || k.kind == Kind::Cmd) return primary();
    throw Fail{};
  }

  Value variable(const std::string& base) {
    std::string name = base;
    if (sym('_')) {  // x_1, a_{n}
      ++pos_;
      if (sym('{')) {
        ++pos_;
        name += "_{";
        while (!sym('}')) {
          if (peek().kind == Kind::End || peek().kind == Kind::Sym) throw Fail{};
          name += peek().text;
          ++pos_;
        }
        ++pos_;
        name += "}";
      } else if (peek().kind == Kind::Num || peek().kind == Kind::Var) {
        name += "_{" + peek().text + "}";
        ++pos_;
      } else {
        throw Fail{};
      }
    }
    vars_.insert(name);
    return Value{std::nullopt, variable_value(name, point_)};
  }

  bool is_mixed_fraction() const {
    // 12\frac{3}{5}: MATH writes mixed numbers this way (= 12 + 3/5)
    return cmd("frac") && sym('{', 1) && peek(2).kind == Kind::Num && sym('}', 3) && sym('{', 4) &&
           peek(5).kind == Kind::Num && sym('}', 6) && peek(2).text.find('.') == std::string::npos &&
           peek(5).text.find('.') == std::string::npos;
  }

  Value primary() {
    Depth d(depth_);
    const Token k = peek();
    switch (k.kind) {
      case Kind::End:
        throw Fail{};
      case Kind::Num: {
        ++pos_;
        Value v = number(k.text);
        if (k.text.find('.') == std::string::npos && is_mixed_fraction()) {
          Value n = number(peek(2).text), dd = number(peek(5).text);
          if (n.exact && dd.exact && dd.exact->num > 0 && n.exact->num < dd.exact->num) {
            pos_ += 7;
            return add(v, div(n, dd));
          }
        }
        if (sym('_')) throw Fail{};  // 1010_2: a number in another base
        return v;
      }
      case Kind::Var:
        ++pos_;
        return variable(k.text);
      case Kind::Sym: {
        char c = k.text[0];
        if (c == '(') return group('(', ')');
        if (c == '[') return group('[', ']');
        if (c == '{') return group('{', '}');
        if (c == '|') {
          ++pos_;
          Value v = expr();
          expect_sym('|');
          if (v.exact) return exact(Rational{v.exact->num < 0 ? -v.exact->num : v.exact->num, v.exact->den});
          return inexact(std::fabs(v.approx));
        }
        throw Fail{};
      }
      case Kind::Cmd:
        break;
    }
    ++pos_;
    const std::string& n = k.text;
    if (n == "frac") {
      Value a = argument();
      Value b = argument();
      return div(a, b);
    }
    if (n == "sqrt") {
      Value index = exact(Rational::integer(2));
      if (sym('[')) index = group('[', ']');
      return root(argument(), index);
    }
    if (n == "pi") return Value{std::nullopt, std::numbers::pi};
    if (n == "infty") return Value{std::nullopt, std::numeric_limits<double>::infinity()};
    if (n == "binom") {
      Value a = argument();
      Value b = argument();
      return binomial(a, b);
    }
    if (n == "lfloor" || n == "lceil") {
      Value v = expr();
      expect_cmd(n == "lfloor" ? "rfloor" : "rceil");
      no_inf(v, v);
      if (v.exact) {
        i128 q = v.exact->num / v.exact->den, r = v.exact->num % v.exact->den;
        if (r != 0 && (v.exact->num < 0) == (n == "lfloor")) q += (n == "lfloor") ? -1 : 1;
        return exact(Rational::integer(q));
      }
      return inexact(n == "lfloor" ? std::floor(v.approx) : std::ceil(v.approx));
    }
    if (is_greek(n)) return variable("\\" + n);
    if (is_function(n)) {
      std::optional<Value> base;
      if (n == "log" && sym('_')) {
        ++pos_;
        base = argument();
      }
      std::optional<Value> exponent_of_result;
      if (sym('^')) {  // \sin^2 x
        ++pos_;
        exponent_of_result = exponent();
      }
      Value arg = (sym('(') || sym('{') || sym('[')) ? primary() : power_expr();
      Value v = apply_function(n, arg);
      if (base) v = div(v, apply_function("ln", *base));
      if (exponent_of_result) v = power(v, *exponent_of_result);
      return v;
    }
    throw Fail{};
  }
};

}  // namespace

double variable_value(std::string_view name, int point) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a: the same value on every platform
  for (char c : name) h = (h ^ uint8_t(c)) * 1099511628211ull;
  h = (h ^ uint64_t(point + 1)) * 1099511628211ull;
  h ^= h >> 29;
  return 0.6 + 1.8 * double(h % 1000003) / 1000003.0;
}

std::optional<Evaluation> evaluate(std::string_view expr, int point) {
  if (expr.size() > kMaxLength) return std::nullopt;
  try {
    Parser p(lex(expr), point);
    return p.run();
  } catch (const Fail&) {
    return std::nullopt;
  }
}

}  // namespace s1::grading
