// Value construction, Python-style printing (str/repr), equality/ordering and json.dumps.
#include "chat/jinja_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "chat/jinja_meter.h"
#include "core/error.h"

namespace s1::jinja {

struct Value::Obj {
  virtual ~Obj() = default;
  int depth = 0;
  bool has_ref = false;
};

namespace {

struct StrObj : Value::Obj {
  std::string s;
};
struct ListObj : Value::Obj {
  std::vector<Value> items;
};
struct DictObj : Value::Obj {
  Dict d;
};
struct FnObj : Value::Obj {
  std::string name;
  NativeFn fn;
};

const std::string kEmpty;
const std::vector<Value> kNoItems;
const Dict kNoDict;
const NativeFn kNoFn;

// A string builder that refuses to grow past max_bytes and charges the work meter.
struct Writer {
  std::string out;
  size_t max_bytes;
  void check() {
    if (out.size() > max_bytes) fail("template output exceeds the limit of ", max_bytes, " bytes");
  }
  void put(std::string_view s) {
    if (out.size() + s.size() > max_bytes) fail("template output exceeds the limit of ", max_bytes, " bytes");
    out.append(s);
  }
  void put(char c) {
    if (out.size() + 1 > max_bytes) fail("template output exceeds the limit of ", max_bytes, " bytes");
    out.push_back(c);
  }
};

void repr_into(const Value& v, Writer& w, int depth);

void str_into(const Value& v, Writer& w, int depth) {
  switch (v.kind()) {
    case Kind::Undefined: return;
    case Kind::String: w.put(v.str()); return;
    case Kind::None: w.put("None"); return;
    case Kind::Bool: w.put(v.as_bool() ? "True" : "False"); return;
    case Kind::Int: w.put(std::to_string(v.as_int())); return;
    case Kind::Float: w.put(float_repr(v.as_float())); return;
    default: repr_into(v, w, depth); return;
  }
}

void repr_into(const Value& v, Writer& w, int depth) {
  if (depth > 2 * kMaxValueDepth) fail("value nested too deeply to print");
  meter_charge(1);
  switch (v.kind()) {
    case Kind::Undefined: w.put("Undefined"); return;
    case Kind::String: w.put(string_repr(v.str())); return;
    case Kind::List: {
      const auto& items = v.items();
      w.put(v.is_tuple() ? '(' : '[');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) w.put(", ");
        repr_into(items[i], w, depth + 1);
      }
      if (v.is_tuple() && items.size() == 1) w.put(',');
      w.put(v.is_tuple() ? ')' : ']');
      return;
    }
    case Kind::Dict:
    case Kind::Namespace: {
      if (v.is_namespace()) w.put("<Namespace ");
      w.put('{');
      bool first = true;
      for (const auto& [k, x] : v.dict().items()) {
        if (!first) w.put(", ");
        first = false;
        repr_into(k, w, depth + 1);
        w.put(": ");
        repr_into(x, w, depth + 1);
      }
      w.put('}');
      if (v.is_namespace()) w.put('>');
      return;
    }
    case Kind::Callable: w.put("<function " + v.callable_name() + ">"); return;
    default: str_into(v, w, depth); return;
  }
}

void put_hex4(Writer& w, unsigned u) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\u%04x", u & 0xffff);
  w.put(buf);
}

void json_string(std::string_view s, Writer& w, bool ensure_ascii) {
  w.put('"');
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': w.put("\\\""); ++i; continue;
      case '\\': w.put("\\\\"); ++i; continue;
      case '\n': w.put("\\n"); ++i; continue;
      case '\r': w.put("\\r"); ++i; continue;
      case '\t': w.put("\\t"); ++i; continue;
      case '\b': w.put("\\b"); ++i; continue;
      case '\f': w.put("\\f"); ++i; continue;
      default: break;
    }
    if (c < 0x20) {
      put_hex4(w, c);
      ++i;
      continue;
    }
    if (c < 0x80 || !ensure_ascii) {
      w.put(static_cast<char>(c));
      ++i;
      continue;
    }
    // ensure_ascii: decode one code point and write \uXXXX (surrogate pair above the BMP)
    int len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    uint32_t cp = len == 4 ? c & 0x07 : len == 3 ? c & 0x0f : len == 2 ? c & 0x1f : c;
    bool ok = len > 1 && i + len <= s.size();
    for (int k = 1; ok && k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (!ok) {
      put_hex4(w, c);
      ++i;
      continue;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      put_hex4(w, 0xd800 + (cp >> 10));
      put_hex4(w, 0xdc00 + (cp & 0x3ff));
    } else {
      put_hex4(w, cp);
    }
    i += len;
  }
  w.put('"');
}

std::string json_key(const Value& k) {
  switch (k.kind()) {
    case Kind::String: return k.str();
    case Kind::Int: return std::to_string(k.as_int());
    case Kind::Float: return float_repr(k.as_float());
    case Kind::Bool: return k.as_bool() ? "true" : "false";
    case Kind::None: return "null";
    default: fail("tojson: keys must be str, int, float, bool or None, not ", k.type_name());
  }
}

void json_into(const Value& v, Writer& w, const JsonStyle& st, int level) {
  if (level > 2 * kMaxValueDepth) fail("tojson: value nested too deeply");
  meter_charge(1);
  const bool pretty = st.indent >= 0 || !st.indent_str.empty();
  const std::string item_sep = st.has_separators ? st.item_sep : pretty ? "," : ", ";
  const std::string key_sep = st.has_separators ? st.key_sep : ": ";
  auto newline = [&](int lvl) {
    w.put('\n');
    for (int i = 0; i < lvl; ++i) {
      if (!st.indent_str.empty()) w.put(st.indent_str);
      else w.put(std::string(static_cast<size_t>(st.indent), ' '));
    }
  };
  switch (v.kind()) {
    case Kind::None: w.put("null"); return;
    case Kind::Bool: w.put(v.as_bool() ? "true" : "false"); return;
    case Kind::Int: w.put(std::to_string(v.as_int())); return;
    case Kind::Float: {
      double d = v.as_float();
      if (std::isnan(d)) w.put("NaN");
      else if (std::isinf(d)) w.put(d > 0 ? "Infinity" : "-Infinity");
      else w.put(float_repr(d));
      return;
    }
    case Kind::String: json_string(v.str(), w, st.ensure_ascii); return;
    case Kind::List: {
      const auto& items = v.items();
      if (items.empty()) {
        w.put("[]");
        return;
      }
      w.put('[');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) w.put(item_sep);
        if (pretty) newline(level + 1);
        json_into(items[i], w, st, level + 1);
      }
      if (pretty) newline(level);
      w.put(']');
      return;
    }
    case Kind::Dict: {
      const auto& items = v.dict().items();
      if (items.empty()) {
        w.put("{}");
        return;
      }
      std::vector<std::pair<std::string, const Value*>> kv;
      kv.reserve(items.size());
      for (const auto& [k, x] : items) kv.emplace_back(json_key(k), &x);
      if (st.sort_keys) {
        std::stable_sort(kv.begin(), kv.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      }
      w.put('{');
      for (size_t i = 0; i < kv.size(); ++i) {
        if (i) w.put(item_sep);
        if (pretty) newline(level + 1);
        json_string(kv[i].first, w, st.ensure_ascii);
        w.put(key_sep);
        json_into(*kv[i].second, w, st, level + 1);
      }
      if (pretty) newline(level);
      w.put('}');
      return;
    }
    default: fail("tojson: object of type ", v.type_name(), " is not JSON serializable");
  }
}

template <typename J>
Value json_to_value(const J& j, int depth) {
  if (depth > kMaxValueDepth) fail("JSON input nested deeper than ", kMaxValueDepth, " levels");
  switch (j.type()) {
    case nlohmann::json::value_t::null: return Value::none();
    case nlohmann::json::value_t::boolean: return Value::boolean(j.template get<bool>());
    case nlohmann::json::value_t::number_integer: return Value::integer(j.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      uint64_t u = j.template get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value::number(static_cast<double>(u));
      return Value::integer(static_cast<int64_t>(u));
    }
    case nlohmann::json::value_t::number_float: return Value::number(j.template get<double>());
    case nlohmann::json::value_t::string: return Value::string(j.template get<std::string>());
    case nlohmann::json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& x : j) items.push_back(json_to_value(x, depth + 1));
      return Value::list(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      Dict d;
      d.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it) d.append_new(Value::string(it.key()), json_to_value(it.value(), depth + 1));
      return Value::dict(std::move(d));
    }
    default: return Value::none();  // binary / discarded
  }
}

}  // namespace

// ---- Dict ----

const Value* Dict::find(std::string_view key) const {
  if (items_.size() < kIndexFrom) {
    for (const auto& [k, v] : items_) {
      if (k.is_string() && k.str() == key) return &v;
    }
    return nullptr;
  }
  auto it = str_index_.find(std::string(key));
  return it == str_index_.end() ? nullptr : &items_[it->second].second;
}

const Value* Dict::find(const Value& key) const {
  if (key.is_string()) return find(std::string_view(key.str()));
  for (const auto& [k, v] : items_) {
    if (!k.is_string() && equals(k, key)) return &v;
  }
  return nullptr;
}

void Dict::append_new(const Value& key, Value v) {
  if (!key.is_string() || items_.size() + 1 >= kIndexFrom) {
    set(key, std::move(v));
    return;
  }
  items_.emplace_back(key, std::move(v));
}

void Dict::set(const Value& key, Value v) {
  if (key.is_string()) {
    if (const Value* old = find(std::string_view(key.str()))) {
      const_cast<Value&>(*old) = std::move(v);
      return;
    }
    items_.emplace_back(key, std::move(v));
    if (items_.size() == kIndexFrom) {
      for (size_t i = 0; i < items_.size(); ++i) {
        if (items_[i].first.is_string()) str_index_.emplace(items_[i].first.str(), i);
      }
    } else if (items_.size() > kIndexFrom) {
      str_index_.emplace(key.str(), items_.size() - 1);
    }
    return;
  }
  for (auto& [k, x] : items_) {
    if (!k.is_string() && equals(k, key)) {
      x = std::move(v);
      return;
    }
  }
  items_.emplace_back(key, std::move(v));
}

// ---- Value ----

Value Value::undefined(std::string hint) {
  Value v;
  if (!hint.empty()) {
    auto o = std::make_shared<StrObj>();
    o->s = std::move(hint);
    v.obj_ = std::move(o);
  }
  return v;
}

Value Value::none() {
  Value v;
  v.kind_ = Kind::None;
  return v;
}

Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::Bool;
  v.num_.i = 0;
  v.num_.b = b;
  return v;
}

Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::Int;
  v.num_.i = i;
  return v;
}

Value Value::number(double f) {
  Value v;
  v.kind_ = Kind::Float;
  v.num_.f = f;
  return v;
}

Value Value::string(std::string s) {
  Value v;
  v.kind_ = Kind::String;
  auto o = std::make_shared<StrObj>();
  o->s = std::move(s);
  v.obj_ = std::move(o);
  return v;
}

Value Value::list(std::vector<Value> items, bool tuple) {
  Value v;
  v.kind_ = Kind::List;
  v.tuple_ = tuple;
  auto o = std::make_shared<ListObj>();
  int depth = 0;
  bool ref = false;
  for (const auto& x : items) {
    depth = std::max(depth, x.depth());
    ref = ref || x.holds_reference();
  }
  if (depth + 1 > kMaxValueDepth) fail("list nested deeper than ", kMaxValueDepth, " levels");
  o->depth = depth + 1;
  o->has_ref = ref;
  o->items = std::move(items);
  v.obj_ = std::move(o);
  return v;
}

Value Value::dict(Dict d) {
  Value v;
  v.kind_ = Kind::Dict;
  auto o = std::make_shared<DictObj>();
  int depth = 0;
  bool ref = false;
  for (const auto& [k, x] : d.items()) {
    depth = std::max({depth, k.depth(), x.depth()});
    ref = ref || x.holds_reference() || k.holds_reference();
  }
  if (depth + 1 > kMaxValueDepth) fail("dict nested deeper than ", kMaxValueDepth, " levels");
  o->depth = depth + 1;
  o->has_ref = ref;
  o->d = std::move(d);
  v.obj_ = std::move(o);
  return v;
}

Value Value::make_namespace(Dict d) {
  for (const auto& [k, x] : d.items()) {
    if (x.holds_reference()) fail("a namespace cannot hold a namespace or a function");
  }
  Value v = dict(std::move(d));
  v.kind_ = Kind::Namespace;
  v.obj_->has_ref = true;
  return v;
}

Value Value::callable(std::string name, NativeFn fn) {
  Value v;
  v.kind_ = Kind::Callable;
  auto o = std::make_shared<FnObj>();
  o->name = std::move(name);
  o->fn = std::move(fn);
  o->has_ref = true;
  v.obj_ = std::move(o);
  return v;
}

Value Value::from_json(const nlohmann::json& j) { return json_to_value(j, 0); }
Value Value::from_json(const nlohmann::ordered_json& j) { return json_to_value(j, 0); }

double Value::to_double() const {
  switch (kind_) {
    case Kind::Bool: return num_.b ? 1.0 : 0.0;
    case Kind::Int: return static_cast<double>(num_.i);
    case Kind::Float: return num_.f;
    default: return 0.0;
  }
}

const std::string& Value::str() const {
  if ((kind_ == Kind::String || kind_ == Kind::Undefined) && obj_) return static_cast<const StrObj&>(*obj_).s;
  return kEmpty;
}

const std::vector<Value>& Value::items() const {
  if (kind_ == Kind::List) return static_cast<const ListObj&>(*obj_).items;
  return kNoItems;
}

const Dict& Value::dict() const {
  if (kind_ == Kind::Dict || kind_ == Kind::Namespace) return static_cast<const DictObj&>(*obj_).d;
  return kNoDict;
}

Dict& Value::namespace_dict() const {
  if (kind_ != Kind::Namespace) fail("not a namespace");
  return static_cast<DictObj&>(*obj_).d;
}

const std::string& Value::callable_name() const {
  if (kind_ == Kind::Callable) return static_cast<const FnObj&>(*obj_).name;
  return kEmpty;
}

const NativeFn& Value::callable_fn() const {
  if (kind_ == Kind::Callable) return static_cast<const FnObj&>(*obj_).fn;
  return kNoFn;
}

int Value::depth() const {
  if (kind_ == Kind::List || kind_ == Kind::Dict || kind_ == Kind::Namespace) return obj_->depth;
  return 0;
}

bool Value::holds_reference() const {
  if (kind_ == Kind::List || kind_ == Kind::Dict || kind_ == Kind::Namespace || kind_ == Kind::Callable) {
    return obj_->has_ref;
  }
  return false;
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::Undefined:
    case Kind::None: return false;
    case Kind::Bool: return num_.b;
    case Kind::Int: return num_.i != 0;
    case Kind::Float: return num_.f != 0.0;
    case Kind::String: return !str().empty();
    case Kind::List: return !items().empty();
    case Kind::Dict: return dict().size() != 0;
    case Kind::Namespace:
    case Kind::Callable: return true;
  }
  return false;
}

std::string Value::to_string() const {
  if (kind_ == Kind::String) return str();
  Writer w{{}, kMaxPrintBytes};
  str_into(*this, w, 0);
  return std::move(w.out);
}

std::string Value::repr() const {
  Writer w{{}, kMaxPrintBytes};
  repr_into(*this, w, 0);
  return std::move(w.out);
}

const char* Value::type_name() const {
  switch (kind_) {
    case Kind::Undefined: return "Undefined";
    case Kind::None: return "NoneType";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::List: return tuple_ ? "tuple" : "list";
    case Kind::Dict: return "dict";
    case Kind::Namespace: return "Namespace";
    case Kind::Callable: return "function";
  }
  return "?";
}

// ---- comparison ----

namespace {

bool equals_at(const Value& a, const Value& b, int depth) {
  if (depth > 2 * kMaxValueDepth) fail("value nested too deeply to compare");
  meter_charge(1);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.to_double() == b.to_double();
    int64_t x = a.is_bool() ? a.as_bool() : a.as_int();
    int64_t y = b.is_bool() ? b.as_bool() : b.as_int();
    return x == y;
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::Undefined:
    case Kind::None: return true;
    case Kind::String: return a.str() == b.str();
    case Kind::List: {
      if (a.is_tuple() != b.is_tuple()) return false;
      const auto &x = a.items(), &y = b.items();
      if (&x == &y) return true;
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!equals_at(x[i], y[i], depth + 1)) return false;
      }
      return true;
    }
    case Kind::Dict: {
      const auto &x = a.dict(), &y = b.dict();
      if (&x == &y) return true;
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x.items()) {
        const Value* o = y.find(k);
        if (!o || !equals_at(v, *o, depth + 1)) return false;
      }
      return true;
    }
    case Kind::Namespace: return &a.dict() == &b.dict();
    case Kind::Callable: return &a.callable_fn() == &b.callable_fn();
    default: return false;
  }
}

int compare_at(const Value& a, const Value& b, int depth) {
  if (depth > 2 * kMaxValueDepth) fail("value nested too deeply to compare");
  meter_charge(1);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) {
      double x = a.to_double(), y = b.to_double();
      return x < y ? -1 : y < x ? 1 : 0;
    }
    int64_t x = a.is_bool() ? a.as_bool() : a.as_int();
    int64_t y = b.is_bool() ? b.as_bool() : b.as_int();
    return x < y ? -1 : y < x ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    int c = a.str().compare(b.str());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
    const auto &x = a.items(), &y = b.items();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!equals_at(x[i], y[i], depth + 1)) return compare_at(x[i], y[i], depth + 1);
    }
    return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
  }
  fail("'<' not supported between instances of '", a.type_name(), "' and '", b.type_name(), "'");
}

}  // namespace

bool equals(const Value& a, const Value& b) { return equals_at(a, b, 0); }
int compare(const Value& a, const Value& b) { return compare_at(a, b, 0); }

std::string to_json(const Value& v, const JsonStyle& style, size_t max_bytes) {
  Writer w{{}, max_bytes};
  json_into(v, w, style, 0);
  return std::move(w.out);
}

// ---- printing helpers ----

std::string float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // shortest round-trip: "-1.2345e+17"
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  int exp = std::stoi(sci.substr(e + 1));
  int decpt = exp + 1;  // value = 0.digits * 10^decpt
  std::string out = neg ? "-" : "";
  if (decpt > -4 && decpt <= 16) {
    int n = static_cast<int>(digits.size());
    if (decpt <= 0) {
      out += "0." + std::string(static_cast<size_t>(-decpt), '0') + digits;
    } else if (decpt >= n) {
      out += digits + std::string(static_cast<size_t>(decpt - n), '0') + ".0";
    } else {
      out += digits.substr(0, static_cast<size_t>(decpt)) + "." + digits.substr(static_cast<size_t>(decpt));
    }
  } else {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    out += eb;
  }
  return out;
}

std::string string_repr(std::string_view s) {
  char quote = '\'';
  if (s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos) quote = '"';
  std::string out(1, quote);
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (ch == quote || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  out += quote;
  return out;
}

std::vector<size_t> utf8_offsets(std::string_view s) {
  std::vector<size_t> offs;
  offs.reserve(s.size() + 1);
  for (size_t i = 0; i < s.size();) {
    offs.push_back(i);
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c >= 0xf0 && c < 0xf8 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    if (c >= 0xf8) len = 1;
    if (i + len > s.size()) len = 1;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) {
        len = 1;
        break;
      }
    }
    i += len;
  }
  offs.push_back(s.size());
  return offs;
}

size_t utf8_length(std::string_view s) { return utf8_offsets(s).size() - 1; }

Meter*& current_meter() {
  thread_local Meter* m = nullptr;
  return m;
}

void Meter::exhausted() const {
  fail("template exceeded its work limit of ", max_steps, " steps (runaway loop?)");
}

}  // namespace s1::jinja
