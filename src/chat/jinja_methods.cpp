// Attribute and item access, slicing, and the Python methods of str, dict and list
// that chat templates call (s.startswith(...), d.items(), ...).
#include <algorithm>
#include <cctype>

#include "chat/jinja_builtins.h"
#include "chat/jinja_eval.h"
#include "core/error.h"

namespace s1::jinja {

namespace {

using Method = Value (*)(Evaluator&, const Value& self, CallArgs& args);

// ---- str methods ----

bool match_affix(const Value& self, CallArgs& a, const char* fn, bool prefix) {
  Params p(fn, a, {"prefix", "start", "end"});
  if (!p.has(0)) fail(fn, "() takes at least 1 argument");
  std::string_view s = self.str();
  // start/end are code point positions
  if (p.has(1) || p.has(2)) {
    auto offs = utf8_offsets(s);
    auto n = static_cast<int64_t>(offs.size() - 1);
    auto clamp = [&](int64_t i) {
      if (i < 0) i += n;
      return std::clamp<int64_t>(i, 0, n);
    };
    int64_t b = clamp(p.integer(1, 0)), e = clamp(p.integer(2, n));
    if (e < b) return false;
    s = s.substr(offs[static_cast<size_t>(b)], offs[static_cast<size_t>(e)] - offs[static_cast<size_t>(b)]);
  }
  auto test = [&](const Value& x) {
    if (!x.is_string()) fail(fn, "() argument must be str or a tuple of str, not ", x.type_name());
    const std::string& t = x.str();
    if (t.size() > s.size()) return false;
    return prefix ? s.compare(0, t.size(), t) == 0 : s.compare(s.size() - t.size(), t.size(), t) == 0;
  };
  const Value& arg = *p.get(0);
  if (arg.is_tuple()) {
    for (const auto& x : arg.items()) {
      if (test(x)) return true;
    }
    return false;
  }
  return test(arg);
}

Value str_startswith(Evaluator&, const Value& self, CallArgs& a) {
  return Value::boolean(match_affix(self, a, "startswith", true));
}
Value str_endswith(Evaluator&, const Value& self, CallArgs& a) {
  return Value::boolean(match_affix(self, a, "endswith", false));
}
Value str_strip(Evaluator&, const Value& self, CallArgs& a) {
  Params p("strip", a, {"chars"});
  return Value::string(py_strip(self.str(), p.get(0), true, true));
}
Value str_lstrip(Evaluator&, const Value& self, CallArgs& a) {
  Params p("lstrip", a, {"chars"});
  return Value::string(py_strip(self.str(), p.get(0), true, false));
}
Value str_rstrip(Evaluator&, const Value& self, CallArgs& a) {
  Params p("rstrip", a, {"chars"});
  return Value::string(py_strip(self.str(), p.get(0), false, true));
}
Value split_impl(Evaluator& ev, const Value& self, CallArgs& a, bool right) {
  Params p(right ? "rsplit" : "split", a, {"sep", "maxsplit"});
  auto parts = py_split(self.str(), p.get(0), p.integer(1, -1), right);
  ev.check_items(parts.size());
  std::vector<Value> out;
  out.reserve(parts.size());
  for (auto& s : parts) out.push_back(Value::string(std::move(s)));
  return Value::list(std::move(out));
}
Value str_split(Evaluator& ev, const Value& self, CallArgs& a) { return split_impl(ev, self, a, false); }
Value str_rsplit(Evaluator& ev, const Value& self, CallArgs& a) { return split_impl(ev, self, a, true); }
Value str_splitlines(Evaluator& ev, const Value& self, CallArgs& a) {
  Params p("splitlines", a, {"keepends"});
  bool keep = p.flag(0, false);
  const std::string& s = self.str();
  std::vector<Value> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && s[j] != '\n' && s[j] != '\r') ++j;
    size_t e = j;
    if (j < s.size()) e = (s[j] == '\r' && j + 1 < s.size() && s[j + 1] == '\n') ? j + 2 : j + 1;
    out.push_back(Value::string(s.substr(i, (keep ? e : j) - i)));
    i = e;
  }
  ev.check_items(out.size());
  return Value::list(std::move(out));
}
Value str_upper(Evaluator&, const Value& self, CallArgs& a) {
  Params p("upper", a, {});
  return Value::string(ascii_upper(self.str()));
}
Value str_lower(Evaluator&, const Value& self, CallArgs& a) {
  Params p("lower", a, {});
  return Value::string(ascii_lower(self.str()));
}
Value str_title(Evaluator&, const Value& self, CallArgs& a) {
  Params p("title", a, {});
  return Value::string(py_title(self.str()));
}
Value str_capitalize(Evaluator&, const Value& self, CallArgs& a) {
  Params p("capitalize", a, {});
  return Value::string(py_capitalize(self.str()));
}
Value str_replace(Evaluator& ev, const Value& self, CallArgs& a) {
  Params p("replace", a, {"old", "new", "count"});
  if (!p.has(0) || !p.has(1)) fail("replace() takes at least 2 arguments");
  if (!p.get(0)->is_string() || !p.get(1)->is_string()) fail("replace() arguments must be str");
  return Value::string(py_replace(ev, self.str(), p.get(0)->str(), p.get(1)->str(), p.integer(2, -1)));
}
int64_t find_impl(const Value& self, CallArgs& a, const char* fn, bool right) {
  Params p(fn, a, {"sub", "start", "end"});
  if (!p.has(0) || !p.get(0)->is_string()) fail(fn, "() needs a str argument");
  const std::string& s = self.str();
  const std::string& t = p.get(0)->str();
  auto offs = utf8_offsets(s);
  auto n = static_cast<int64_t>(offs.size() - 1);
  auto clamp = [&](int64_t i) {
    if (i < 0) i += n;
    return std::clamp<int64_t>(i, 0, n);
  };
  int64_t b = clamp(p.integer(1, 0)), e = clamp(p.integer(2, n));
  if (e < b) return -1;
  size_t lo = offs[static_cast<size_t>(b)], hi = offs[static_cast<size_t>(e)];
  std::string_view view = std::string_view(s).substr(lo, hi - lo);
  size_t at = right ? view.rfind(t) : view.find(t);
  if (at == std::string_view::npos) return -1;
  // byte offset -> code point index
  auto it = std::lower_bound(offs.begin(), offs.end(), lo + at);
  return static_cast<int64_t>(it - offs.begin());
}
Value str_find(Evaluator&, const Value& self, CallArgs& a) { return Value::integer(find_impl(self, a, "find", false)); }
Value str_rfind(Evaluator&, const Value& self, CallArgs& a) { return Value::integer(find_impl(self, a, "rfind", true)); }
Value str_index(Evaluator&, const Value& self, CallArgs& a) {
  int64_t i = find_impl(self, a, "index", false);
  if (i < 0) fail("substring not found");
  return Value::integer(i);
}
Value str_rindex(Evaluator&, const Value& self, CallArgs& a) {
  int64_t i = find_impl(self, a, "rindex", true);
  if (i < 0) fail("substring not found");
  return Value::integer(i);
}
Value str_count(Evaluator&, const Value& self, CallArgs& a) {
  Params p("count", a, {"sub"});
  if (!p.has(0) || !p.get(0)->is_string()) fail("count() needs a str argument");
  const std::string& s = self.str();
  const std::string& t = p.get(0)->str();
  if (t.empty()) return Value::integer(static_cast<int64_t>(utf8_length(s) + 1));
  int64_t n = 0;
  for (size_t i = s.find(t); i != std::string::npos; i = s.find(t, i + t.size())) ++n;
  return Value::integer(n);
}
Value str_join(Evaluator& ev, const Value& self, CallArgs& a) {
  Params p("join", a, {"iterable"});
  if (!p.has(0)) fail("join() takes exactly one argument");
  std::string out;
  bool first = true;
  for (const auto& x : iterate(*p.get(0))) {
    if (!x.is_string()) fail("sequence item: expected str instance, ", x.type_name(), " found");
    if (!first) out += self.str();
    first = false;
    out += x.str();
    ev.check_string(out.size());
  }
  return Value::string(std::move(out));
}
Value str_format(Evaluator& ev, const Value& self, CallArgs& a) {
  const std::string& f = self.str();
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    char c = f[i];
    if (c == '}') {
      if (i + 1 < f.size() && f[i + 1] == '}') ++i;
      else fail("format(): single '}' encountered in format string");
      out += '}';
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < f.size() && f[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    size_t e = f.find('}', i);
    if (e == std::string::npos) fail("format(): single '{' encountered in format string");
    std::string field = f.substr(i + 1, e - i - 1);
    i = e;
    if (field.find_first_of(":!.[") != std::string::npos) fail("format(): field '", field, "' is not supported");
    const Value* v = nullptr;
    if (field.empty()) {
      if (auto_index >= a.pos.size()) fail("format(): replacement index ", auto_index, " out of range");
      v = &a.pos[auto_index++];
    } else if (std::isdigit(static_cast<unsigned char>(field[0]))) {
      int64_t k = 0;
      if (!parse_int(field, 10, k) || k < 0 || static_cast<size_t>(k) >= a.pos.size()) {
        fail("format(): replacement index ", field, " out of range");
      }
      v = &a.pos[static_cast<size_t>(k)];
    } else {
      for (const auto& [name, x] : a.kw) {
        if (name == field) v = &x;
      }
      if (!v) fail("format(): missing keyword argument '", field, "'");
    }
    out += v->to_string();
    ev.check_string(out.size());
  }
  return Value::string(std::move(out));
}
template <int (*Pred)(int)>
Value str_is(const Value& self, CallArgs& a, const char* fn) {
  Params p(fn, a, {});
  const std::string& s = self.str();
  if (s.empty()) return Value::boolean(false);
  for (char c : s) {
    if (!Pred(static_cast<unsigned char>(c))) return Value::boolean(false);
  }
  return Value::boolean(true);
}
Value str_isdigit(Evaluator&, const Value& self, CallArgs& a) { return str_is<std::isdigit>(self, a, "isdigit"); }
Value str_isalpha(Evaluator&, const Value& self, CallArgs& a) { return str_is<std::isalpha>(self, a, "isalpha"); }
Value str_isalnum(Evaluator&, const Value& self, CallArgs& a) { return str_is<std::isalnum>(self, a, "isalnum"); }
Value str_isspace(Evaluator&, const Value& self, CallArgs& a) { return str_is<std::isspace>(self, a, "isspace"); }
Value str_islower(Evaluator&, const Value& self, CallArgs& a) {
  Params p("islower", a, {});
  const std::string& s = self.str();
  bool cased = std::any_of(s.begin(), s.end(), [](char c) { return std::islower(static_cast<unsigned char>(c)); });
  bool upper = std::any_of(s.begin(), s.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); });
  return Value::boolean(cased && !upper);
}
Value str_isupper(Evaluator&, const Value& self, CallArgs& a) {
  Params p("isupper", a, {});
  const std::string& s = self.str();
  bool cased = std::any_of(s.begin(), s.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); });
  bool lower = std::any_of(s.begin(), s.end(), [](char c) { return std::islower(static_cast<unsigned char>(c)); });
  return Value::boolean(cased && !lower);
}
Value str_removeprefix(Evaluator&, const Value& self, CallArgs& a) {
  Params p("removeprefix", a, {"prefix"});
  std::string t = p.str(0, "");
  const std::string& s = self.str();
  return Value::string(s.compare(0, t.size(), t) == 0 && t.size() <= s.size() ? s.substr(t.size()) : s);
}
Value str_removesuffix(Evaluator&, const Value& self, CallArgs& a) {
  Params p("removesuffix", a, {"suffix"});
  std::string t = p.str(0, "");
  const std::string& s = self.str();
  if (!t.empty() && t.size() <= s.size() && s.compare(s.size() - t.size(), t.size(), t) == 0) {
    return Value::string(s.substr(0, s.size() - t.size()));
  }
  return self;
}
Value pad_impl(Evaluator& ev, const Value& self, CallArgs& a, const char* fn, int where) {
  Params p(fn, a, {"width", "fillchar"});
  int64_t width = p.integer(0, 0);
  std::string fill = p.str(1, " ");
  if (utf8_length(fill) != 1) fail(fn, "(): the fill character must be exactly one character long");
  const std::string& s = self.str();
  auto len = static_cast<int64_t>(utf8_length(s));
  if (width <= len) return self;
  auto pad = static_cast<size_t>(width - len);
  ev.check_string(s.size() + pad * fill.size());
  size_t left = where < 0 ? 0 : where > 0 ? pad : pad / 2 + (pad & static_cast<size_t>(width) & 1);
  std::string out;
  for (size_t i = 0; i < left; ++i) out += fill;
  out += s;
  for (size_t i = left; i < pad; ++i) out += fill;
  return Value::string(std::move(out));
}
Value str_center(Evaluator& ev, const Value& self, CallArgs& a) { return pad_impl(ev, self, a, "center", 0); }
Value str_ljust(Evaluator& ev, const Value& self, CallArgs& a) { return pad_impl(ev, self, a, "ljust", -1); }
Value str_rjust(Evaluator& ev, const Value& self, CallArgs& a) { return pad_impl(ev, self, a, "rjust", 1); }
Value partition_impl(const Value& self, CallArgs& a, bool right) {
  Params p(right ? "rpartition" : "partition", a, {"sep"});
  if (!p.has(0) || !p.get(0)->is_string() || p.get(0)->str().empty()) fail("partition() needs a non-empty str separator");
  const std::string& s = self.str();
  const std::string& d = p.get(0)->str();
  size_t i = right ? s.rfind(d) : s.find(d);
  if (i == std::string::npos) {
    if (right) return Value::list({Value::string(""), Value::string(""), self}, true);
    return Value::list({self, Value::string(""), Value::string("")}, true);
  }
  return Value::list({Value::string(s.substr(0, i)), Value::string(d), Value::string(s.substr(i + d.size()))}, true);
}
Value str_partition(Evaluator&, const Value& self, CallArgs& a) { return partition_impl(self, a, false); }
Value str_rpartition(Evaluator&, const Value& self, CallArgs& a) { return partition_impl(self, a, true); }

// ---- dict methods ----

Value dict_items(Evaluator& ev, const Value& self, CallArgs& a) {
  Params p("items", a, {});
  ev.check_items(self.dict().size());
  std::vector<Value> out;
  for (const auto& [k, v] : self.dict().items()) out.push_back(Value::list({k, v}, true));
  return Value::list(std::move(out));
}
Value dict_keys(Evaluator& ev, const Value& self, CallArgs& a) {
  Params p("keys", a, {});
  ev.check_items(self.dict().size());
  std::vector<Value> out;
  for (const auto& kv : self.dict().items()) out.push_back(kv.first);
  return Value::list(std::move(out));
}
Value dict_values(Evaluator& ev, const Value& self, CallArgs& a) {
  Params p("values", a, {});
  ev.check_items(self.dict().size());
  std::vector<Value> out;
  for (const auto& kv : self.dict().items()) out.push_back(kv.second);
  return Value::list(std::move(out));
}
Value dict_get(Evaluator&, const Value& self, CallArgs& a) {
  Params p("get", a, {"key", "default"});
  if (!p.has(0)) fail("get() takes at least 1 argument");
  if (const Value* v = self.dict().find(*p.get(0))) return *v;
  return p.has(1) ? *p.get(1) : Value::none();
}

// ---- list methods ----

Value list_index(Evaluator&, const Value& self, CallArgs& a) {
  Params p("index", a, {"value"});
  if (!p.has(0)) fail("index() takes at least 1 argument");
  const auto& items = self.items();
  for (size_t i = 0; i < items.size(); ++i) {
    if (equals(items[i], *p.get(0))) return Value::integer(static_cast<int64_t>(i));
  }
  fail(p.get(0)->repr(), " is not in list");
}
Value list_count(Evaluator&, const Value& self, CallArgs& a) {
  Params p("count", a, {"value"});
  if (!p.has(0)) fail("count() takes exactly one argument");
  int64_t n = 0;
  for (const auto& x : self.items()) n += equals(x, *p.get(0)) ? 1 : 0;
  return Value::integer(n);
}

struct MethodEntry {
  const char* name;
  Method fn;
};

const MethodEntry kStrMethods[] = {
    {"startswith", str_startswith}, {"endswith", str_endswith}, {"strip", str_strip},
    {"lstrip", str_lstrip},         {"rstrip", str_rstrip},     {"split", str_split},
    {"rsplit", str_rsplit},         {"splitlines", str_splitlines}, {"upper", str_upper},
    {"lower", str_lower},           {"title", str_title},       {"capitalize", str_capitalize},
    {"replace", str_replace},       {"find", str_find},         {"rfind", str_rfind},
    {"index", str_index},           {"rindex", str_rindex},     {"count", str_count},
    {"join", str_join},             {"format", str_format},     {"isdigit", str_isdigit},
    {"isalpha", str_isalpha},       {"isalnum", str_isalnum},   {"isspace", str_isspace},
    {"islower", str_islower},       {"isupper", str_isupper},   {"removeprefix", str_removeprefix},
    {"removesuffix", str_removesuffix}, {"center", str_center}, {"ljust", str_ljust},
    {"rjust", str_rjust},           {"partition", str_partition}, {"rpartition", str_rpartition},
};
const MethodEntry kDictMethods[] = {
    {"items", dict_items}, {"keys", dict_keys}, {"values", dict_values}, {"get", dict_get}};
const MethodEntry kListMethods[] = {{"index", list_index}, {"count", list_count}};

// Methods that would modify a value: the sandbox transformers uses refuses them.
const char* const kMutators[] = {"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse",
                                 "update", "setdefault", "popitem", "add", "discard"};

template <size_t N>
Method lookup(const MethodEntry (&table)[N], const std::string& name) {
  for (const auto& m : table) {
    if (name == m.name) return m.fn;
  }
  return nullptr;
}

Value bind(const Value& self, const std::string& name, Method m) {
  return Value::callable(name, [self, m](Evaluator& ev, CallArgs& a) { return m(ev, self, a); });
}

Value method_of(const Value& obj, const std::string& name) {
  Method m = nullptr;
  if (obj.is_string()) m = lookup(kStrMethods, name);
  else if (obj.is_dict()) m = lookup(kDictMethods, name);
  else if (obj.is_list()) m = lookup(kListMethods, name);
  if (m) return bind(obj, name, m);
  if (obj.is_list() || obj.is_dict()) {
    for (const char* mut : kMutators) {
      if (name == mut) {
        std::string what = std::string(obj.type_name()) + "." + name;
        return Value::callable(what, [what](Evaluator&, CallArgs&) -> Value {
          fail(what, "() is not allowed: templates cannot modify values (transformers renders in an immutable sandbox)");
        });
      }
    }
  }
  return Value::undefined();
}

std::string hint_for(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) return obj.str().empty() ? name : obj.str() + "." + name;
  return std::string(obj.type_name()) + "." + name;
}

}  // namespace

Value get_attr(Evaluator& ev, const Value& obj, const std::string& name) {
  meter_charge(1);
  switch (obj.kind()) {
    case Kind::String:
    case Kind::List: {
      Value m = method_of(obj, name);
      if (!m.is_undefined()) return m;
      return Value::undefined(hint_for(obj, name));
    }
    case Kind::Dict: {
      Value m = method_of(obj, name);
      if (!m.is_undefined()) return m;
      if (const Value* v = obj.dict().find(std::string_view(name))) return *v;
      return Value::undefined(hint_for(obj, name));
    }
    case Kind::Namespace:
      if (const Value* v = obj.dict().find(std::string_view(name))) return *v;
      return Value::undefined(hint_for(obj, name));
    default: return Value::undefined(hint_for(obj, name));
  }
}

Value get_item(Evaluator& ev, const Value& obj, const Value& key) {
  meter_charge(1);
  switch (obj.kind()) {
    case Kind::List:
    case Kind::String: {
      if (key.is_int() || key.is_bool()) {
        int64_t i = key.is_bool() ? key.as_bool() : key.as_int();
        if (obj.is_list()) {
          auto n = static_cast<int64_t>(obj.items().size());
          if (i < 0) i += n;
          if (i < 0 || i >= n) return Value::undefined();
          return obj.items()[static_cast<size_t>(i)];
        }
        auto offs = utf8_offsets(obj.str());
        auto n = static_cast<int64_t>(offs.size() - 1);
        if (i < 0) i += n;
        if (i < 0 || i >= n) return Value::undefined();
        auto k = static_cast<size_t>(i);
        return Value::string(obj.str().substr(offs[k], offs[k + 1] - offs[k]));
      }
      if (key.is_string()) return get_attr(ev, obj, key.str());
      return Value::undefined();
    }
    case Kind::Dict: {
      if (!(key.is_list() && !key.is_tuple()) && !key.is_dict()) {
        if (const Value* v = obj.dict().find(key)) return *v;
      }
      if (key.is_string()) {
        Value m = method_of(obj, key.str());
        if (!m.is_undefined()) return m;
        return Value::undefined(hint_for(obj, key.str()));
      }
      return Value::undefined();
    }
    case Kind::Namespace:
      if (key.is_string()) return get_attr(ev, obj, key.str());
      return Value::undefined();
    case Kind::Undefined:
      return Value::undefined(key.is_string() ? hint_for(obj, key.str()) : obj.str());
    default: return Value::undefined();
  }
}

Value get_slice(Evaluator& ev, const Value& obj, const Value* start, const Value* stop, const Value* step) {
  auto as_index = [](const Value* v, bool& given) -> int64_t {
    given = v && !v->is_none();
    if (!given) return 0;
    if (v->is_int()) return v->as_int();
    if (v->is_bool()) return v->as_bool() ? 1 : 0;
    fail("slice indices must be integers or None, not ", v->type_name());
  };
  bool has_start, has_stop, has_step;
  int64_t b = as_index(start, has_start), e = as_index(stop, has_stop), st = as_index(step, has_step);
  if (!has_step) st = 1;
  if (st == 0) fail("slice step cannot be zero");
  if (obj.is_undefined()) return Value::undefined();
  if (!obj.is_list() && !obj.is_string()) fail("'", obj.type_name(), "' object is not subscriptable");
  std::vector<size_t> offs;
  int64_t n;
  if (obj.is_string()) {
    offs = utf8_offsets(obj.str());
    n = static_cast<int64_t>(offs.size() - 1);
  } else {
    n = static_cast<int64_t>(obj.items().size());
  }
  // CPython's PySlice_AdjustIndices
  const int64_t lower = st < 0 ? -1 : 0, upper = st < 0 ? n - 1 : n;
  auto adjust = [&](int64_t v, bool given, int64_t dflt) {
    if (!given) return dflt;
    if (v < 0) {
      v += n;
      if (v < lower) v = lower;
    } else if (v > upper) {
      v = upper;
    }
    return v;
  };
  b = adjust(b, has_start, st < 0 ? upper : lower);
  e = adjust(e, has_stop, st < 0 ? lower : upper);
  std::vector<int64_t> idx;
  for (int64_t i = b; st > 0 ? i < e : i > e;) {
    idx.push_back(i);
    if (__builtin_add_overflow(i, st, &i)) break;
  }
  if (obj.is_string()) {
    const std::string& s = obj.str();
    ev.check_string(s.size());
    if (st == 1) {
      if (idx.empty()) return Value::string("");
      auto lo = static_cast<size_t>(idx.front()), hi = static_cast<size_t>(idx.back()) + 1;
      return Value::string(s.substr(offs[lo], offs[hi] - offs[lo]));
    }
    std::string out;
    for (int64_t i : idx) {
      auto k = static_cast<size_t>(i);
      out += s.substr(offs[k], offs[k + 1] - offs[k]);
    }
    return Value::string(std::move(out));
  }
  ev.check_items(idx.size());
  std::vector<Value> out;
  out.reserve(idx.size());
  for (int64_t i : idx) out.push_back(obj.items()[static_cast<size_t>(i)]);
  return Value::list(std::move(out), obj.is_tuple());
}

}  // namespace s1::jinja
