#include "grading/structure.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "grading/latex_expr.h"
#include "grading/normalize.h"

namespace s1::grading {

namespace {

constexpr int kMaxNesting = 8;
constexpr size_t kMaxLength = 20000;
constexpr size_t kMaxItems = 200;

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

size_t open_len(std::string_view s, size_t i) {
  if (s[i] == '(' || s[i] == '[' || s[i] == '{') return 1;
  if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '{') return 2;
  return 0;
}

size_t close_len(std::string_view s, size_t i) {
  if (s[i] == ')' || s[i] == ']' || s[i] == '}') return 1;
  if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '}') return 2;
  return 0;
}

// Splits on a separator outside every bracket ("\cup", "\\", "&").
std::vector<std::string> split_top(std::string_view s, std::string_view sep, bool command) {
  std::vector<std::string> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (depth == 0 && s.compare(i, sep.size(), sep) == 0 &&
        !(command && i + sep.size() < s.size() && is_letter(s[i + sep.size()]))) {
      parts.push_back(trim(s.substr(start, i - start)));
      start = i + sep.size();
      i = start - 1;
      continue;
    }
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '\\') {  // a row separator is not a brace
      ++i;
      continue;
    }
    if (size_t n = open_len(s, i)) {
      ++depth;
      i += n - 1;
    } else if (size_t m = close_len(s, i)) {
      --depth;
      i += m - 1;
    }
  }
  parts.push_back(trim(s.substr(start)));
  return parts;
}

// Whether the bracket opening s closes exactly at its end: "(1, 2)" yes, "(1)(2)" no.
bool enclosed(std::string_view s, size_t* open, size_t* close) {
  if (s.empty()) return false;
  size_t ol = open_len(s, 0);
  if (ol == 0 || s[0] == '{') return false;  // a bare {...} is a TeX group, not a set
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '\\') {
      ++i;
      continue;
    }
    if (size_t n = open_len(s, i)) {
      ++depth;
      i += n - 1;
    } else if (size_t m = close_len(s, i)) {
      --depth;
      if (depth == 0) {
        if (i + m != s.size()) return false;
        *open = ol;
        *close = m;
        return true;
      }
      i += m - 1;
    }
  }
  return false;
}

Shape scalar(std::string text) {
  Shape s;
  s.type = Shape::Type::Scalar;
  s.text = std::move(text);
  return s;
}

Shape parse(std::string_view text, int depth);

Shape list_of(Shape::Type type, const std::vector<std::string>& parts, int depth) {
  Shape s;
  s.type = type;
  for (const auto& p : parts) s.items.push_back(parse(p, depth + 1));
  return s;
}

bool parse_matrix(std::string_view t, int depth, Shape* out) {
  if (t.rfind("\\begin{", 0) != 0) return false;
  size_t name_end = t.find('}');
  if (name_end == std::string_view::npos) return false;
  std::string env(t.substr(7, name_end - 7));
  if (env.find("matrix") == std::string::npos) return false;
  std::string end_tag = "\\end{" + env + "}";
  if (t.size() < name_end + 1 + end_tag.size() || t.substr(t.size() - end_tag.size()) != end_tag) return false;
  std::string_view body = t.substr(name_end + 1, t.size() - end_tag.size() - name_end - 1);
  auto rows = split_top(body, "\\\\", false);
  while (!rows.empty() && rows.back().empty()) rows.pop_back();
  if (rows.empty()) return false;
  Shape m;
  m.type = Shape::Type::Matrix;
  m.rows = rows.size();
  for (const auto& r : rows) {
    auto cells = split_top(r, "&", false);
    if (m.cols == 0) m.cols = cells.size();
    if (cells.size() != m.cols) return false;
    for (const auto& c : cells) m.items.push_back(parse(c, depth + 1));
    if (m.items.size() > kMaxItems) return false;
  }
  *out = std::move(m);
  return true;
}

Shape parse(std::string_view text, int depth) {
  std::string t = trim(text);
  if (depth > kMaxNesting || t.size() > kMaxLength) return scalar(t);
  t = strip_variable_prefix(t);
  Shape m;
  if (parse_matrix(t, depth, &m)) return m;
  auto unions = split_top(t, "\\cup", true);
  if (unions.size() > 1 && unions.size() <= kMaxItems) return list_of(Shape::Type::Union, unions, depth);
  size_t ol, cl;
  if (enclosed(t, &ol, &cl)) {
    std::string_view inner = std::string_view(t).substr(ol, t.size() - ol - cl);
    auto parts = split_top_level_list(inner);
    if (parts.size() > kMaxItems) return scalar(t);
    if (ol == 2) return list_of(Shape::Type::Set, parts, depth);  // \{ ... \}
    if (parts.size() >= 2) {
      Shape tuple = list_of(Shape::Type::Tuple, parts, depth);
      tuple.open = t.substr(0, ol);
      tuple.close = t.substr(t.size() - cl);
      return tuple;
    }
    return scalar(t);
  }
  auto parts = split_top_level_list(t);
  if (parts.size() > 1 && parts.size() <= kMaxItems) return list_of(Shape::Type::List, parts, depth);
  // a \pm answer is the list of its two values
  auto pm = split_top(t, "\\pm", true);
  if (pm.size() == 2) {
    std::string left = pm[0].empty() ? "" : pm[0];
    return list_of(Shape::Type::List, {left + "+" + pm[1], left + "-" + pm[1]}, depth);
  }
  return scalar(t);
}

bool close_enough(double a, double b) {
  if (std::isinf(a) || std::isinf(b)) return a == b;
  const double diff = std::fabs(a - b);
  return diff <= 1e-12 || diff <= 1e-6 * std::max(std::fabs(a), std::fabs(b));
}

bool alpha_text(std::string_view s) {
  return s.size() >= 3 && std::all_of(s.begin(), s.end(), [](char c) { return is_letter(c) || c == ' '; });
}

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// Element comparisons left for the current top-level comparison: nested sets of sets can
// otherwise ask for a quadratic number of comparisons at every level.
thread_local long comparisons_left = 0;

Match compare_rec(const Shape& a, const Shape& g);

bool unordered_equal(const std::vector<Shape>& a, const std::vector<Shape>& g) {
  if (a.size() != g.size()) return false;
  // Same multiset of canonical keys: equal, in n log n (the common case for long lists).
  std::vector<std::string> ka, kg;
  for (const auto& x : a) ka.push_back(canonical_shape(x));
  for (const auto& x : g) kg.push_back(canonical_shape(x));
  std::sort(ka.begin(), ka.end());
  std::sort(kg.begin(), kg.end());
  if (ka == kg) return true;
  // Otherwise pair elements one by one (tolerance-equal values can have different keys);
  // quadratic, so only for lists of a realistic size.
  if (a.size() > 64) return false;
  std::vector<bool> used(a.size(), false);
  for (const auto& gi : g) {
    bool found = false;
    for (size_t j = 0; j < a.size() && !found; ++j) {
      if (used[j]) continue;
      if (compare_rec(a[j], gi).equal) {
        used[j] = true;
        found = true;
      }
    }
    if (!found) return false;
  }
  return true;
}

bool ordered_equal(const std::vector<Shape>& a, const std::vector<Shape>& g) {
  if (a.size() != g.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!compare_rec(a[i], g[i]).equal) return false;
  return true;
}

bool is_vector(const Shape& m) { return m.type == Shape::Type::Matrix && (m.rows == 1 || m.cols == 1); }
bool is_paren_tuple(const Shape& t) { return t.type == Shape::Type::Tuple && t.open == "(" && t.close == ")"; }

std::string format_double(double d) {
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  if (d == 0) d = 0;  // no "-0"
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", d);
  return buf;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string o;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) o += sep;
    o += v[i];
  }
  return o;
}

}  // namespace

Shape parse_shape(std::string_view normalised) { return parse(normalised, 0); }

Match compare_scalars(std::string_view answer, std::string_view gold) {
  const std::string ca = compact(answer), cg = compact(gold);
  if (ca == cg) return {true, "normalised"};
  if (alpha_text(answer) && alpha_text(gold) && iequal(answer, gold)) return {true, "normalised"};
  auto ea = evaluate(answer, 0), eg = evaluate(gold, 0);
  if (!ea || !eg) return {false, "mismatch"};
  // Different variable sets are compared too: \sin^2 x + \cos^2 x is 1 at every point.
  if (ea->variables.empty() && eg->variables.empty()) {
    if (ea->value.exact && eg->value.exact) return {*ea->value.exact == *eg->value.exact, "rational"};
    return {close_enough(ea->value.approx, eg->value.approx), "numeric"};
  }
  for (int point = 0; point < 3; ++point) {
    auto pa = point == 0 ? ea : evaluate(answer, point);
    auto pg = point == 0 ? eg : evaluate(gold, point);
    if (!pa || !pg || !close_enough(pa->value.approx, pg->value.approx)) return {false, "symbolic"};
  }
  return {true, "symbolic"};
}

Match compare_shapes(const Shape& a, const Shape& g) {
  comparisons_left = 20000;
  return compare_rec(a, g);
}

namespace {

Match compare_rec(const Shape& a, const Shape& g) {
  using T = Shape::Type;
  if (--comparisons_left < 0) return {false, "mismatch"};
  if (a.type == T::Scalar && g.type == T::Scalar) return compare_scalars(a.text, g.text);
  bool eq = false;
  const bool a_coll = a.type == T::Set || a.type == T::List, g_coll = g.type == T::Set || g.type == T::List;
  if (a.type == T::Tuple && g.type == T::Tuple)
    eq = a.open == g.open && a.close == g.close && ordered_equal(a.items, g.items);
  else if (a_coll && g_coll)
    eq = unordered_equal(a.items, g.items);
  else if (a.type == T::Union && g.type == T::Union)
    eq = unordered_equal(a.items, g.items);
  else if (a.type == T::Matrix && g.type == T::Matrix)
    eq = a.rows == g.rows && a.cols == g.cols && ordered_equal(a.items, g.items);
  else if ((is_vector(a) && is_paren_tuple(g)) || (is_paren_tuple(a) && is_vector(g)))
    eq = ordered_equal(a.items, g.items);
  return {eq, eq ? "structure" : "mismatch"};
}

}  // namespace

std::string canonical_shape(const Shape& s) {
  using T = Shape::Type;
  std::vector<std::string> items;
  for (const auto& i : s.items) items.push_back(canonical_shape(i));
  switch (s.type) {
    case T::Scalar: {
      auto e = evaluate(s.text, 0);
      if (!e) return compact(s.text);
      if (e->variables.empty()) return e->value.exact ? e->value.exact->str() : format_double(e->value.approx);
      std::vector<std::string> vars(e->variables.begin(), e->variables.end()), values;
      for (int point = 0; point < 3; ++point) {
        auto p = point == 0 ? e : evaluate(s.text, point);
        values.push_back(p ? format_double(p->value.approx) : "?");
      }
      return "f(" + join(vars, ",") + ")=" + join(values, ";");
    }
    case T::Tuple:
      return s.open + join(items, ",") + s.close;
    case T::Set:
    case T::List:
      std::sort(items.begin(), items.end());
      return "{" + join(items, ",") + "}";
    case T::Union:
      std::sort(items.begin(), items.end());
      return join(items, "\\cup");
    case T::Matrix:
      if (s.rows == 1 || s.cols == 1) return "(" + join(items, ",") + ")";
      return "mat" + std::to_string(s.rows) + "x" + std::to_string(s.cols) + "[" + join(items, ",") + "]";
  }
  return compact(s.text);
}

}  // namespace s1::grading
