// Helpers shared by filters, tests and methods: argument binding, iteration, Python
// string operations and %-formatting.
#include "chat/jinja_builtins.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "chat/jinja_eval.h"
#include "core/error.h"

namespace s1::jinja {

Params::Params(const char* fn, CallArgs& args, std::initializer_list<const char*> names)
    : fn_(fn), bound_(names.size(), nullptr) {
  if (args.pos.size() > names.size()) {
    fail(fn, "() takes at most ", names.size(), " argument(s), ", args.pos.size(), " given");
  }
  for (size_t i = 0; i < args.pos.size(); ++i) bound_[i] = &args.pos[i];
  for (const auto& [k, v] : args.kw) {
    size_t i = 0;
    for (const char* n : names) {
      if (k == n) break;
      ++i;
    }
    if (i == names.size()) fail(fn, "() got an unexpected keyword argument '", k, "'");
    if (bound_[i]) fail(fn, "() got multiple values for argument '", k, "'");
    bound_[i] = &v;
  }
}

std::string Params::str(size_t i, const std::string& dflt) const {
  if (!has(i) || get(i)->is_none()) return dflt;
  return get(i)->to_string();
}

int64_t Params::integer(size_t i, int64_t dflt) const {
  if (!has(i) || get(i)->is_none()) return dflt;
  const Value& v = *get(i);
  if (v.is_int()) return v.as_int();
  if (v.is_bool()) return v.as_bool() ? 1 : 0;
  fail(fn_, "(): argument ", i + 1, " must be an integer, not ", v.type_name());
}

std::vector<Value> iterate(const Value& v) {
  switch (v.kind()) {
    case Kind::List: return v.items();
    case Kind::Dict: {
      std::vector<Value> keys;
      keys.reserve(v.dict().size());
      for (const auto& kv : v.dict().items()) keys.push_back(kv.first);
      return keys;
    }
    case Kind::String: {
      const std::string& s = v.str();
      auto offs = utf8_offsets(s);
      std::vector<Value> chars;
      chars.reserve(offs.size() - 1);
      for (size_t i = 0; i + 1 < offs.size(); ++i) chars.push_back(Value::string(s.substr(offs[i], offs[i + 1] - offs[i])));
      return chars;
    }
    case Kind::Undefined: return {};
    default: fail("'", v.type_name(), "' object is not iterable");
  }
}

bool is_py_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == '\x1c' || c == '\x1d' ||
         c == '\x1e' || c == '\x1f';
}

namespace {
std::string_view trim_ws(std::string_view s) {
  while (!s.empty() && is_py_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_py_space(s.back())) s.remove_suffix(1);
  return s;
}
int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}
}  // namespace

bool parse_int(std::string_view s, int base, int64_t& out) {
  s = trim_ws(s);
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.size() > 2 && s[0] == '0') {
    char p = static_cast<char>(s[1] | 0x20);
    if ((p == 'x' && base == 16) || (p == 'o' && base == 8) || (p == 'b' && base == 2)) s.remove_prefix(2);
  }
  if (s.empty() || base < 2 || base > 36) return false;
  int64_t v = 0;
  bool prev_digit = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_' && prev_digit && i + 1 < s.size()) {
      prev_digit = false;
      continue;
    }
    int d = digit_value(s[i]);
    if (d >= base) return false;
    if (__builtin_mul_overflow(v, int64_t{base}, &v) || __builtin_add_overflow(v, int64_t{d}, &v)) return false;
    prev_digit = true;
  }
  if (!prev_digit) return false;
  out = neg ? -v : v;
  return true;
}

bool parse_float(std::string_view s, double& out) {
  s = trim_ws(s);
  if (s.empty() || s.size() > 400) return false;
  std::string t;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == 'x' || c == 'X') return false;  // no hex floats in Python's float()
    if (c == '_') {
      if (i == 0 || i + 1 == s.size() || !std::isdigit(static_cast<unsigned char>(s[i - 1])) ||
          !std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
        return false;
      }
      continue;
    }
    t += c;
  }
  char* end = nullptr;
  double d = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return false;
  out = d;
  return true;
}

std::string ascii_lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string ascii_upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

std::string py_strip(std::string_view s, const Value* chars, bool left, bool right) {
  if (!chars || chars->is_none() || chars->is_undefined()) {
    size_t b = 0, e = s.size();
    if (left) {
      while (b < e && is_py_space(s[b])) ++b;
    }
    if (right) {
      while (e > b && is_py_space(s[e - 1])) --e;
    }
    return std::string(s.substr(b, e - b));
  }
  if (!chars->is_string()) fail("strip arg must be None or str, not ", chars->type_name());
  // strip whole code points that occur in chars
  auto set_offs = utf8_offsets(chars->str());
  std::vector<std::string_view> set;
  for (size_t i = 0; i + 1 < set_offs.size(); ++i) {
    set.push_back(std::string_view(chars->str()).substr(set_offs[i], set_offs[i + 1] - set_offs[i]));
  }
  auto in_set = [&](std::string_view cp) {
    for (auto c : set) {
      if (c == cp) return true;
    }
    return false;
  };
  auto offs = utf8_offsets(s);
  size_t b = 0, e = offs.size() - 1;  // code point indices
  if (left) {
    while (b < e && in_set(s.substr(offs[b], offs[b + 1] - offs[b]))) ++b;
  }
  if (right) {
    while (e > b && in_set(s.substr(offs[e - 1], offs[e] - offs[e - 1]))) --e;
  }
  return std::string(s.substr(offs[b], offs[e] - offs[b]));
}

std::vector<std::string> py_split(std::string_view s, const Value* sep, int64_t maxsplit, bool from_right) {
  std::vector<std::string> out;
  if (maxsplit < 0) maxsplit = INT64_MAX;
  if (!sep || sep->is_none() || sep->is_undefined()) {
    // runs of whitespace; no empty strings
    if (!from_right) {
      size_t i = 0;
      while (true) {
        while (i < s.size() && is_py_space(s[i])) ++i;
        if (i >= s.size()) break;
        if (static_cast<int64_t>(out.size()) >= maxsplit) {
          out.emplace_back(s.substr(i));  // the rest keeps its trailing whitespace
          break;
        }
        size_t j = i;
        while (j < s.size() && !is_py_space(s[j])) ++j;
        out.emplace_back(s.substr(i, j - i));
        i = j;
      }
    } else {
      size_t i = s.size();
      while (true) {
        while (i > 0 && is_py_space(s[i - 1])) --i;
        if (i == 0) break;
        if (static_cast<int64_t>(out.size()) >= maxsplit) {
          out.emplace_back(s.substr(0, i));  // the rest keeps its leading whitespace
          break;
        }
        size_t j = i;
        while (j > 0 && !is_py_space(s[j - 1])) --j;
        out.emplace_back(s.substr(j, i - j));
        i = j;
      }
      std::reverse(out.begin(), out.end());
    }
    return out;
  }
  if (!sep->is_string()) fail("must be str or None, not ", sep->type_name());
  const std::string& d = sep->str();
  if (d.empty()) fail("empty separator");
  if (!from_right) {
    size_t i = 0;
    int64_t n = 0;
    while (n < maxsplit) {
      size_t j = s.find(d, i);
      if (j == std::string_view::npos) break;
      out.emplace_back(s.substr(i, j - i));
      i = j + d.size();
      ++n;
    }
    out.emplace_back(s.substr(i));
  } else {
    size_t end = s.size();
    int64_t n = 0;
    while (n < maxsplit && end >= d.size()) {
      size_t j = s.rfind(d, end - d.size());
      if (j == std::string_view::npos) break;
      out.emplace_back(s.substr(j + d.size(), end - j - d.size()));
      end = j;
      ++n;
    }
    out.emplace_back(s.substr(0, end));
    std::reverse(out.begin(), out.end());
  }
  return out;
}

std::string py_replace(Evaluator& ev, std::string_view s, std::string_view old, std::string_view repl, int64_t count) {
  if (count < 0) count = INT64_MAX;
  std::string out;
  if (old.empty()) {
    auto offs = utf8_offsets(s);
    size_t slots = std::min<uint64_t>(offs.size(), static_cast<uint64_t>(count));
    ev.check_string(s.size() + slots * repl.size());
    int64_t n = 0;
    for (size_t i = 0; i + 1 < offs.size(); ++i) {
      if (n < count) {
        out += repl;
        ++n;
      }
      out += s.substr(offs[i], offs[i + 1] - offs[i]);
    }
    if (n < count) out += repl;
    return out;
  }
  size_t i = 0;
  int64_t n = 0;
  while (n < count) {
    size_t j = s.find(old, i);
    if (j == std::string_view::npos) break;
    out += s.substr(i, j - i);
    out += repl;
    ev.check_string(out.size());
    i = j + old.size();
    ++n;
  }
  out += s.substr(i);
  ev.check_string(out.size());
  return out;
}

namespace {
bool ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
}  // namespace

std::string py_title(std::string_view s) {
  std::string out(s);
  bool prev_cased = false;
  for (char& c : out) {
    if (ascii_alpha(c)) {
      c = prev_cased ? ascii_lower(std::string(1, c))[0] : ascii_upper(std::string(1, c))[0];
      prev_cased = true;
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      prev_cased = true;  // non-ASCII letters: kept as they are, counted as cased
    } else {
      prev_cased = false;
    }
  }
  return out;
}

std::string py_capitalize(std::string_view s) {
  std::string out = ascii_lower(std::string(s));
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

Value attr_path(Evaluator& ev, const Value& v, const std::string& path) {
  Value cur = v;
  size_t i = 0;
  while (true) {
    size_t j = path.find('.', i);
    std::string part = path.substr(i, j == std::string::npos ? std::string::npos : j - i);
    int64_t idx;
    bool digits = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
    if (digits && parse_int(part, 10, idx)) cur = get_item(ev, cur, Value::integer(idx));
    else cur = get_item(ev, cur, Value::string(part));
    if (j == std::string::npos) return cur;
    i = j + 1;
  }
}

// Python's printf-style formatting: "%s, %d, %.2f" % (a, b, c).
std::string py_percent_format(Evaluator& ev, std::string_view fmt, const std::vector<Value>& args) {
  std::string out;
  size_t next = 0;
  const size_t limit = ev.limits().max_output_bytes;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (++i >= fmt.size()) fail("incomplete format");
    if (fmt[i] == '%') {
      out += '%';
      continue;
    }
    std::string flags;
    while (i < fmt.size() && std::string_view("-+ #0").find(fmt[i]) != std::string_view::npos) flags += fmt[i++];
    int64_t width = -1, prec = -1;
    auto number = [&](int64_t& dst) {
      dst = 0;
      while (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i]))) {
        dst = dst * 10 + (fmt[i++] - '0');
        if (dst > static_cast<int64_t>(limit) || dst > 100000) fail("format width/precision too large");
      }
    };
    if (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i]))) number(width);
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      number(prec);
    }
    if (i >= fmt.size()) fail("incomplete format");
    const char conv = fmt[i];
    if (next >= args.size()) fail("not enough arguments for format string");
    const Value& a = args[next++];
    std::string piece;
    if (conv == 's' || conv == 'r' || conv == 'a') {
      piece = conv == 's' ? a.to_string() : a.repr();
      if (prec >= 0 && static_cast<size_t>(prec) < piece.size()) piece.resize(static_cast<size_t>(prec));
      if (width > static_cast<int64_t>(piece.size())) {
        std::string pad(static_cast<size_t>(width) - piece.size(), ' ');
        piece = flags.find('-') != std::string::npos ? piece + pad : pad + piece;
      }
    } else if (std::string_view("diouxXeEfFgGc").find(conv) != std::string_view::npos) {
      if (!a.is_number()) fail("%", conv, " format: a number is required, not ", a.type_name());
      std::string spec(1, '%');
      spec += flags;
      if (width >= 0) spec += std::to_string(width);
      if (prec >= 0) spec += std::string(1, '.') + std::to_string(prec);
      char buf[512];
      if (std::string_view("diouxXc").find(conv) != std::string_view::npos) {
        if (a.is_float() && !(std::fabs(a.as_float()) < 9.2e18)) fail("cannot convert float to integer");
        long long iv = a.is_float() ? static_cast<long long>(std::trunc(a.as_float())) : (a.is_bool() ? a.as_bool() : a.as_int());
        spec += "ll";
        spec += conv == 'i' || conv == 'u' ? 'd' : conv;
        if (width > 500 || prec > 300) fail("format width/precision too large");
        if (conv == 'c') {
          if (iv < 0 || iv > 0x10ffff) fail("%c arg not in range(0x110000)");
          piece.clear();
          // encode the code point as UTF-8
          auto u = static_cast<uint32_t>(iv);
          if (u < 0x80) piece += static_cast<char>(u);
          else if (u < 0x800) piece += {static_cast<char>(0xc0 | (u >> 6)), static_cast<char>(0x80 | (u & 0x3f))};
          else if (u < 0x10000) piece += {static_cast<char>(0xe0 | (u >> 12)), static_cast<char>(0x80 | ((u >> 6) & 0x3f)), static_cast<char>(0x80 | (u & 0x3f))};
          else piece += {static_cast<char>(0xf0 | (u >> 18)), static_cast<char>(0x80 | ((u >> 12) & 0x3f)), static_cast<char>(0x80 | ((u >> 6) & 0x3f)), static_cast<char>(0x80 | (u & 0x3f))};
          out += piece;
          ev.check_string(out.size());
          continue;
        }
        std::snprintf(buf, sizeof buf, spec.c_str(), iv);
        piece = buf;
      } else {
        if (width > 500 || prec > 300) fail("format width/precision too large");
        spec += conv;
        std::snprintf(buf, sizeof buf, spec.c_str(), a.to_double());
        piece = buf;
      }
    } else {
      fail("unsupported format character '", std::string(1, conv), "'");
    }
    out += piece;
    ev.check_string(out.size());
  }
  if (next < args.size()) fail("not all arguments converted during string formatting");
  return out;
}

}  // namespace s1::jinja
