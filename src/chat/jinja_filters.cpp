// Filters ({{ x|name(args) }}), with Jinja2's semantics; tojson is transformers'
// override (json.dumps with ensure_ascii=False). To add one: write a function
// Value f(Evaluator&, const Value& input, CallArgs&) and list it in kFilters.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_map>

#include "chat/jinja_builtins.h"
#include "chat/jinja_eval.h"
#include "core/error.h"

namespace s1::jinja {

std::string py_percent_format(Evaluator& ev, std::string_view fmt, const std::vector<Value>& args);

namespace {

// Stable merge sort with bounded loops (std::sort may run out of range when the
// comparison is inconsistent, e.g. with NaN).
template <typename T, typename Less>
void merge_sort(std::vector<T>& v, Less less) {
  std::vector<T> tmp(v.size());
  for (size_t width = 1; width < v.size(); width *= 2) {
    for (size_t lo = 0; lo < v.size(); lo += 2 * width) {
      size_t mid = std::min(lo + width, v.size()), hi = std::min(lo + 2 * width, v.size());
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = less(v[j], v[i]) ? std::move(v[j++]) : std::move(v[i++]);
      while (i < mid) tmp[k++] = std::move(v[i++]);
      while (j < hi) tmp[k++] = std::move(v[j++]);
    }
    v.swap(tmp);
  }
}

Value sort_key(Evaluator& ev, const Value& x, const std::string& attribute, bool case_sensitive) {
  Value k = attribute.empty() ? x : attr_path(ev, x, attribute);
  if (!case_sensitive && k.is_string()) return Value::string(ascii_lower(k.str()));
  return k;
}

std::vector<Value> require_iterable(const Value& v, const char* filter) {
  if (v.is_list() || v.is_dict() || v.is_string() || v.is_undefined()) return iterate(v);
  fail(filter, ": '", v.type_name(), "' object is not iterable");
}

Value f_length(Evaluator&, const Value& v, CallArgs& a) {
  Params p("length", a, {});
  switch (v.kind()) {
    case Kind::String: return Value::integer(static_cast<int64_t>(utf8_length(v.str())));
    case Kind::List: return Value::integer(static_cast<int64_t>(v.items().size()));
    case Kind::Dict: return Value::integer(static_cast<int64_t>(v.dict().size()));
    case Kind::Undefined: return Value::integer(0);
    default: fail("object of type '", v.type_name(), "' has no len()");
  }
}

Value f_string(Evaluator& ev, const Value& v, CallArgs& a) {
  Params p("string", a, {});
  std::string s = v.to_string();
  ev.check_string(s.size());
  return Value::string(std::move(s));
}

Value f_trim(Evaluator&, const Value& v, CallArgs& a) {
  Params p("trim", a, {"chars"});
  return Value::string(py_strip(v.to_string(), p.get(0), true, true));
}

Value f_upper(Evaluator&, const Value& v, CallArgs& a) {
  Params p("upper", a, {});
  return Value::string(ascii_upper(v.to_string()));
}

Value f_lower(Evaluator&, const Value& v, CallArgs& a) {
  Params p("lower", a, {});
  return Value::string(ascii_lower(v.to_string()));
}

// Jinja's title: words start after -, whitespace, (, {, [ or <.
Value f_title(Evaluator&, const Value& v, CallArgs& a) {
  Params p("title", a, {});
  std::string s = v.to_string();
  bool start = true;
  for (char& c : s) {
    bool sep = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || is_py_space(c);
    if (sep) {
      start = true;
    } else if (start) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      start = false;
    } else if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return Value::string(std::move(s));
}

Value f_capitalize(Evaluator&, const Value& v, CallArgs& a) {
  Params p("capitalize", a, {});
  return Value::string(py_capitalize(v.to_string()));
}

Value f_replace(Evaluator& ev, const Value& v, CallArgs& a) {
  Params p("replace", a, {"old", "new", "count"});
  if (!p.has(0) || !p.has(1)) fail("replace() takes at least 2 arguments");
  return Value::string(py_replace(ev, v.to_string(), p.get(0)->to_string(), p.get(1)->to_string(), p.integer(2, -1)));
}

Value f_join(Evaluator& ev, const Value& v, CallArgs& a) {
  Params p("join", a, {"d", "attribute"});
  std::string sep = p.str(0, "");
  std::string attribute = p.str(1, "");
  std::string out;
  bool first = true;
  for (const auto& x : require_iterable(v, "join")) {
    if (!first) out += sep;
    first = false;
    out += (attribute.empty() ? x : attr_path(ev, x, attribute)).to_string();
    ev.check_string(out.size());
  }
  return Value::string(std::move(out));
}

Value f_first(Evaluator&, const Value& v, CallArgs& a) {
  Params p("first", a, {});
  if (v.is_list()) return v.items().empty() ? Value::undefined() : v.items().front();
  auto items = require_iterable(v, "first");
  return items.empty() ? Value::undefined() : items.front();
}

Value f_last(Evaluator&, const Value& v, CallArgs& a) {
  Params p("last", a, {});
  if (v.is_list()) return v.items().empty() ? Value::undefined() : v.items().back();
  auto items = require_iterable(v, "last");
  return items.empty() ? Value::undefined() : items.back();
}

Value f_list(Evaluator& ev, const Value& v, CallArgs& a) {
  Params p("list", a, {});
  if (v.is_list() && !v.is_tuple()) return v;
  auto items = require_iterable(v, "list");
  ev.check_items(items.size());
  return Value::list(std::move(items));
}

Value f_reverse(Evaluator& ev, const Value& v, CallArgs& a) {
  Params p("reverse", a, {});
  if (v.is_string()) {
    auto offs = utf8_offsets(v.str());
    std::string out;
    out.reserve(v.str().size());
    for (size_t i = offs.size() - 1; i > 0; --i) out += v.str().substr(offs[i - 1], offs[i] - offs[i - 1]);
    return Value::string(std::move(out));
  }
  auto items = require_iterable(v, "reverse");
  ev.check_items(items.size());
  std::reverse(items.begin(), items.end());
  return Value::list(std::move(items));
}

Value f_default(Evaluator&, const Value& v, CallArgs& a) {
  Params p("default", a, {"default_value", "boolean"});
  bool boolean = p.flag(1, false);
  if (v.is_undefined() || (boolean && !v.truthy())) return p.has(0) ? *p.get(0) : Value::string("");
  return v;
}

Value f_items(Evaluator& ev, const Value& v, CallArgs& a) {
  Params p("items", a, {});
  if (v.is_undefined()) return Value::list({});
  if (!v.is_dict()) fail("items: can only get item pairs from a mapping, not ", v.type_name());
  ev.check_items(v.dict().size());
  std::vector<Value> out;
  for (const auto& [k, x] : v.dict().items()) out.push_back(Value::list({k, x}, true));
  return Value::list(std::move(out));
}

Value f_dictsort(Evaluator& ev, const Value& v, CallArgs& a) {
  Params p("dictsort", a, {"case_sensitive", "by", "reverse"});
  if (!v.is_dict()) fail("dictsort: a mapping is required, not ", v.type_name());
  bool cs = p.flag(0, false);
  std::string by = p.str(1, "key");
  if (by != "key" && by != "value") fail("dictsort: 'by' must be 'key' or 'value'");
  bool rev = p.flag(2, false);
  std::vector<Value> pairs;
  for (const auto& [k, x] : v.dict().items()) pairs.push_back(Value::list({k, x}, true));
  size_t idx = by == "key" ? 0 : 1;
  merge_sort(pairs, [&](const Value& l, const Value& r) {
    int c = compare(sort_key(ev, l.items()[idx], "", cs), sort_key(ev, r.items()[idx], "", cs));
    return rev ? c > 0 : c < 0;
  });
  return Value::list(std::move(pairs));
}

Value f_sort(Evaluator& ev, const Value& v, CallArgs& a) {
  Params p("sort", a, {"reverse", "case_sensitive", "attribute"});
  bool rev = p.flag(0, false), cs = p.flag(1, false);
  std::string attribute = p.str(2, "");
  auto items = require_iterable(v, "sort");
  ev.check_items(items.size());
  std::vector<std::pair<Value, Value>> keyed;
  keyed.reserve(items.size());
  for (auto& x : items) keyed.emplace_back(sort_key(ev, x, attribute, cs), std::move(x));
  merge_sort(keyed, [&](const auto& l, const auto& r) {
    int c = compare(l.first, r.first);
    return rev ? c > 0 : c < 0;
  });
  std::vector<Value> out;
  out.reserve(keyed.size());
  for (auto& kv : keyed) out.push_back(std::move(kv.second));
  return Value::list(std::move(out));
}

std::string unique_key(const Value& k) {
  std::string key(1, k.is_number() ? 'n' : 'v');
  key += k.is_number() ? float_repr(k.to_double()) : k.repr();
  return key;
}

Value f_unique(Evaluator& ev, const Value& v, CallArgs& a) {
  Params p("unique", a, {"case_sensitive", "attribute"});
  bool cs = p.flag(0, false);
  std::string attribute = p.str(1, "");
  std::unordered_map<std::string, bool> seen;
  std::vector<Value> out;
  for (const auto& x : require_iterable(v, "unique")) {
    if (seen.emplace(unique_key(sort_key(ev, x, attribute, cs)), true).second) out.push_back(x);
  }
  return Value::list(std::move(out));
}

Value minmax(Evaluator& ev, const Value& v, CallArgs& a, bool want_max) {
  Params p(want_max ? "max" : "min", a, {"case_sensitive", "attribute"});
  bool cs = p.flag(0, false);
  std::string attribute = p.str(1, "");
  auto items = require_iterable(v, want_max ? "max" : "min");
  if (items.empty()) return Value::undefined();
  size_t best = 0;
  Value best_key = sort_key(ev, items[0], attribute, cs);
  for (size_t i = 1; i < items.size(); ++i) {
    Value k = sort_key(ev, items[i], attribute, cs);
    int c = compare(k, best_key);
    if (want_max ? c > 0 : c < 0) {
      best = i;
      best_key = k;
    }
  }
  return items[best];
}
Value f_min(Evaluator& ev, const Value& v, CallArgs& a) { return minmax(ev, v, a, false); }
Value f_max(Evaluator& ev, const Value& v, CallArgs& a) { return minmax(ev, v, a, true); }

Value f_sum(Evaluator& ev, const Value& v, CallArgs& a) {
  Params p("sum", a, {"attribute", "start"});
  std::string attribute = p.str(0, "");
  Value total = p.has(1) ? *p.get(1) : Value::integer(0);
  for (const auto& x : require_iterable(v, "sum")) {
    total = binary_op("+", total, attribute.empty() ? x : attr_path(ev, x, attribute), ev);
  }
  return total;
}

// select / reject / selectattr / rejectattr: (attr,) test name, test args...
Value select_impl(Evaluator& ev, const Value& v, CallArgs& a, bool by_attr, bool keep, const char* fn) {
  if (!a.kw.empty()) fail(fn, "() takes no keyword arguments");
  size_t i = 0;
  std::string attribute;
  if (by_attr) {
    if (a.pos.empty()) fail(fn, "() missing the attribute name");
    attribute = a.pos[i++].to_string();
  }
  std::string test;
  if (i < a.pos.size()) test = a.pos[i++].to_string();
  if (!test.empty() && !find_test(test)) fail("unknown test '", test, "'");
  CallArgs targs;
  targs.pos.assign(a.pos.begin() + static_cast<std::ptrdiff_t>(i), a.pos.end());
  std::vector<Value> out;
  for (const auto& x : require_iterable(v, fn)) {
    Value probe = by_attr ? attr_path(ev, x, attribute) : x;
    bool ok;
    if (test.empty()) {
      ok = probe.truthy();
    } else {
      CallArgs copy = targs;
      ok = ev.apply_test(test, probe, copy);
    }
    if (ok == keep) out.push_back(x);
  }
  return Value::list(std::move(out));
}
Value f_select(Evaluator& ev, const Value& v, CallArgs& a) { return select_impl(ev, v, a, false, true, "select"); }
Value f_reject(Evaluator& ev, const Value& v, CallArgs& a) { return select_impl(ev, v, a, false, false, "reject"); }
Value f_selectattr(Evaluator& ev, const Value& v, CallArgs& a) {
  return select_impl(ev, v, a, true, true, "selectattr");
}
Value f_rejectattr(Evaluator& ev, const Value& v, CallArgs& a) {
  return select_impl(ev, v, a, true, false, "rejectattr");
}

Value f_map(Evaluator& ev, const Value& v, CallArgs& a) {
  std::string attribute;
  const Value* dflt = nullptr;
  for (const auto& [k, x] : a.kw) {
    if (k == "attribute") attribute = x.to_string();
    else if (k == "default") dflt = &x;
  }
  auto items = require_iterable(v, "map");
  std::vector<Value> out;
  out.reserve(items.size());
  if (!attribute.empty()) {
    if (!a.pos.empty()) fail("map(): give either a filter name or attribute=");
    for (const auto& x : items) {
      Value r = attr_path(ev, x, attribute);
      out.push_back(r.is_undefined() && dflt ? *dflt : r);
    }
    return Value::list(std::move(out));
  }
  if (a.pos.empty()) fail("map(): a filter name or attribute= is required");
  std::string filter = a.pos[0].to_string();
  if (!find_filter(filter)) fail("unknown filter '", filter, "'");
  CallArgs fargs;
  fargs.pos.assign(a.pos.begin() + 1, a.pos.end());
  fargs.kw = a.kw;
  for (const auto& x : items) {
    CallArgs copy = fargs;
    out.push_back(ev.apply_filter(filter, x, copy));
  }
  return Value::list(std::move(out));
}

Value f_tojson(Evaluator& ev, const Value& v, CallArgs& a) {
  // transformers: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
  Params p("tojson", a, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonStyle st;
  st.ensure_ascii = p.flag(0, false);
  if (p.has(1) && !p.get(1)->is_none()) {
    const Value& ind = *p.get(1);
    if (ind.is_string()) {
      st.indent_str = ind.str();
      st.indent = 0;
      if (st.indent_str.size() > 1024) fail("tojson: indent too long");
    } else if (ind.is_int() || ind.is_bool()) {
      int64_t n = ind.is_bool() ? ind.as_bool() : ind.as_int();
      if (n > 1024) fail("tojson: indent too large");
      st.indent = static_cast<int>(std::max<int64_t>(n, 0));
    } else {
      fail("tojson: indent must be an int or a str");
    }
  }
  if (p.has(2) && !p.get(2)->is_none()) {
    const Value& sep = *p.get(2);
    if (!sep.is_list() || sep.items().size() != 2 || !sep.items()[0].is_string() || !sep.items()[1].is_string()) {
      fail("tojson: separators must be a (item_separator, key_separator) pair of strings");
    }
    st.has_separators = true;
    st.item_sep = sep.items()[0].str();
    st.key_sep = sep.items()[1].str();
  }
  st.sort_keys = p.flag(3, false);
  return Value::string(to_json(v, st, ev.limits().max_output_bytes));
}

Value f_int(Evaluator&, const Value& v, CallArgs& a) {
  Params p("int", a, {"default", "base"});
  Value dflt = p.has(0) ? *p.get(0) : Value::integer(0);
  int64_t base = p.integer(1, 10);
  switch (v.kind()) {
    case Kind::Int: return v;
    case Kind::Bool: return Value::integer(v.as_bool() ? 1 : 0);
    case Kind::Float: {
      double d = std::trunc(v.as_float());
      if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return dflt;
      return Value::integer(static_cast<int64_t>(d));
    }
    case Kind::String: {
      int64_t i;
      if (parse_int(v.str(), static_cast<int>(base), i)) return Value::integer(i);
      double d;
      if (base == 10 && parse_float(v.str(), d) && std::isfinite(d) && std::fabs(d) < 9.2e18) {
        return Value::integer(static_cast<int64_t>(std::trunc(d)));
      }
      return dflt;
    }
    default: return dflt;
  }
}

Value f_float(Evaluator&, const Value& v, CallArgs& a) {
  Params p("float", a, {"default"});
  Value dflt = p.has(0) ? *p.get(0) : Value::number(0.0);
  if (v.is_number()) return Value::number(v.to_double());
  double d;
  if (v.is_string() && parse_float(v.str(), d)) return Value::number(d);
  return dflt;
}

Value f_abs(Evaluator&, const Value& v, CallArgs& a) {
  Params p("abs", a, {});
  if (v.is_float()) return Value::number(std::fabs(v.as_float()));
  if (v.is_int()) {
    if (v.as_int() == INT64_MIN) fail("integer overflow");
    return Value::integer(v.as_int() < 0 ? -v.as_int() : v.as_int());
  }
  if (v.is_bool()) return Value::integer(v.as_bool() ? 1 : 0);
  fail("bad operand type for abs(): '", v.type_name(), "'");
}

// Python's round(x, n): correctly rounded, ties to even (via the decimal expansion).
double py_round(double x, int64_t ndigits) {
  if (!std::isfinite(x)) return x;
  if (ndigits > 300) return x;
  if (ndigits < -308) return 0.0 * x;
  if (ndigits >= 0) {
    char buf[1024];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(ndigits), x);
    return std::strtod(buf, nullptr);
  }
  double pow10 = std::pow(10.0, static_cast<double>(-ndigits));
  double y = x / pow10;
  double r = std::nearbyint(y);
  return r * pow10;
}

Value f_round(Evaluator&, const Value& v, CallArgs& a) {
  Params p("round", a, {"precision", "method"});
  int64_t prec = p.integer(0, 0);
  std::string method = p.str(1, "common");
  if (method != "common" && method != "ceil" && method != "floor") fail("round: method must be common, ceil or floor");
  if (!v.is_number()) fail("round: a number is required, not ", v.type_name());
  if (method == "common") {
    if (!v.is_float()) {
      int64_t i = v.is_bool() ? v.as_bool() : v.as_int();
      if (prec >= 0) return Value::integer(i);
      return Value::integer(static_cast<int64_t>(py_round(static_cast<double>(i), prec)));
    }
    return Value::number(py_round(v.as_float(), prec));
  }
  double scale = std::pow(10.0, static_cast<double>(std::clamp<int64_t>(prec, -308, 308)));
  double x = v.to_double() * scale;
  return Value::number((method == "ceil" ? std::ceil(x) : std::floor(x)) / scale);
}

Value f_indent(Evaluator& ev, const Value& v, CallArgs& a) {
  Params p("indent", a, {"width", "first", "blank"});
  std::string pad;
  if (p.has(0) && p.get(0)->is_string()) {
    pad = p.get(0)->str();
  } else {
    int64_t w = p.integer(0, 4);
    if (w > 4096) fail("indent: width too large");
    pad = std::string(static_cast<size_t>(std::max<int64_t>(w, 0)), ' ');
  }
  bool first = p.flag(1, false), blank = p.flag(2, false);
  std::string s = v.to_string() + "\n";
  std::vector<std::string> lines;
  for (size_t i = 0; i < s.size();) {  // str.splitlines()
    size_t j = i;
    while (j < s.size() && s[j] != '\n' && s[j] != '\r') ++j;
    lines.push_back(s.substr(i, j - i));
    i = (j < s.size() && s[j] == '\r' && j + 1 < s.size() && s[j + 1] == '\n') ? j + 2 : j + 1;
  }
  ev.check_string(s.size() + lines.size() * pad.size());
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      out += '\n';
      if (blank || !lines[i].empty()) out += pad;
    }
    out += lines[i];
  }
  if (first) out = pad + out;
  return Value::string(std::move(out));
}

Value f_batch(Evaluator& ev, const Value& v, CallArgs& a) {
  Params p("batch", a, {"linecount", "fill_with"});
  int64_t n = p.integer(0, 0);
  if (n <= 0) fail("batch: linecount must be positive");
  auto items = require_iterable(v, "batch");
  ev.check_items(items.size());
  std::vector<Value> out, cur;
  for (auto& x : items) {
    cur.push_back(std::move(x));
    if (static_cast<int64_t>(cur.size()) == n) out.push_back(Value::list(std::exchange(cur, {})));
  }
  if (!cur.empty()) {
    if (p.has(1)) {
      while (static_cast<int64_t>(cur.size()) < n) cur.push_back(*p.get(1));
    }
    out.push_back(Value::list(std::move(cur)));
  }
  return Value::list(std::move(out));
}

Value f_safe(Evaluator&, const Value& v, CallArgs& a) {
  Params p("safe", a, {});
  return v;
}

Value f_escape(Evaluator& ev, const Value& v, CallArgs& a) {
  Params p("escape", a, {});
  std::string out;
  for (char c : v.to_string()) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  ev.check_string(out.size());
  return Value::string(std::move(out));
}

Value f_attr(Evaluator& ev, const Value& v, CallArgs& a) {
  Params p("attr", a, {"name"});
  if (!p.has(0)) fail("attr() takes exactly one argument");
  return get_attr(ev, v, p.get(0)->to_string());
}

Value f_format(Evaluator& ev, const Value& v, CallArgs& a) {
  if (!a.kw.empty()) fail("format(): keyword arguments are not supported");
  return Value::string(py_percent_format(ev, v.to_string(), a.pos));
}

Value f_pprint(Evaluator&, const Value& v, CallArgs& a) {
  Params p("pprint", a, {});
  return Value::string(v.repr());
}

Value f_wordcount(Evaluator&, const Value& v, CallArgs& a) {
  Params p("wordcount", a, {});
  std::string s = v.to_string();
  int64_t n = 0;
  bool in_word = false;
  for (char c : s) {
    bool w = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value::integer(n);
}

Value f_center(Evaluator& ev, const Value& v, CallArgs& a) {
  Params p("center", a, {"width"});
  int64_t width = p.integer(0, 80);
  std::string s = v.to_string();
  auto len = static_cast<int64_t>(utf8_length(s));
  if (width <= len) return Value::string(std::move(s));
  auto pad = static_cast<size_t>(width - len);
  ev.check_string(s.size() + pad);
  size_t left = pad / 2 + (pad & static_cast<size_t>(width) & 1);
  return Value::string(std::string(left, ' ') + s + std::string(pad - left, ' '));
}

const std::unordered_map<std::string_view, FilterFn>& filters() {
  static const std::unordered_map<std::string_view, FilterFn> table = {
      {"abs", f_abs},
      {"attr", f_attr},
      {"batch", f_batch},
      {"capitalize", f_capitalize},
      {"center", f_center},
      {"count", f_length},
      {"d", f_default},
      {"default", f_default},
      {"dictsort", f_dictsort},
      {"e", f_escape},
      {"escape", f_escape},
      {"first", f_first},
      {"float", f_float},
      {"forceescape", f_escape},
      {"format", f_format},
      {"indent", f_indent},
      {"int", f_int},
      {"items", f_items},
      {"join", f_join},
      {"last", f_last},
      {"length", f_length},
      {"list", f_list},
      {"lower", f_lower},
      {"map", f_map},
      {"max", f_max},
      {"min", f_min},
      {"pprint", f_pprint},
      {"reject", f_reject},
      {"rejectattr", f_rejectattr},
      {"replace", f_replace},
      {"reverse", f_reverse},
      {"round", f_round},
      {"safe", f_safe},
      {"select", f_select},
      {"selectattr", f_selectattr},
      {"sort", f_sort},
      {"string", f_string},
      {"sum", f_sum},
      {"title", f_title},
      {"tojson", f_tojson},
      {"trim", f_trim},
      {"unique", f_unique},
      {"upper", f_upper},
      {"wordcount", f_wordcount},
  };
  return table;
}

}  // namespace

FilterFn find_filter(std::string_view name) {
  auto it = filters().find(name);
  return it == filters().end() ? nullptr : it->second;
}

}  // namespace s1::jinja
