// Values of the Jinja interpreter, with Python semantics (chat templates are written
// against Jinja2 running on Python): none/undefined, bool, int, float, str, list/tuple,
// dict (insertion-ordered), namespace, callable. Strings, lists and dicts are
// immutable once built and shared by pointer (transformers renders in an
// ImmutableSandboxedEnvironment); only a namespace is mutable.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace s1::jinja {

class Evaluator;
class Value;

enum class Kind : uint8_t { Undefined, None, Bool, Int, Float, String, List, Dict, Namespace, Callable };

// Nesting bound of values (lists/dicts inside each other): every recursive walk over a
// value (repr, tojson, ==, destruction) is bounded by it.
inline constexpr int kMaxValueDepth = 256;

struct CallArgs;
class Dict;
using NativeFn = std::function<Value(Evaluator&, CallArgs&)>;

class Value {
 public:
  Value() = default;  // undefined
  static Value undefined(std::string hint = "");  // hint: the name that was undefined
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value number(double f);
  static Value string(std::string s);
  static Value list(std::vector<Value> items, bool tuple = false);  // throws when nested too deep
  static Value dict(Dict d);
  static Value make_namespace(Dict d);
  static Value callable(std::string name, NativeFn fn);
  static Value from_json(const nlohmann::json& j);
  static Value from_json(const nlohmann::ordered_json& j);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::Undefined; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_int() const { return kind_ == Kind::Int; }
  bool is_float() const { return kind_ == Kind::Float; }
  bool is_number() const { return kind_ == Kind::Int || kind_ == Kind::Float || kind_ == Kind::Bool; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_list() const { return kind_ == Kind::List; }
  bool is_tuple() const { return kind_ == Kind::List && tuple_; }
  bool is_dict() const { return kind_ == Kind::Dict; }
  bool is_namespace() const { return kind_ == Kind::Namespace; }
  bool is_callable() const { return kind_ == Kind::Callable; }

  bool as_bool() const { return num_.b; }
  int64_t as_int() const { return num_.i; }
  double as_float() const { return num_.f; }
  double to_double() const;  // bool/int/float as double
  const std::string& str() const;                // String (or the hint of Undefined)
  const std::vector<Value>& items() const;       // List
  const Dict& dict() const;                      // Dict or Namespace
  Dict& namespace_dict() const;                  // Namespace (the one mutable object)
  const std::string& callable_name() const;
  const NativeFn& callable_fn() const;
  int depth() const;              // 0 for scalars, 1 + deepest child for containers
  bool holds_reference() const;   // contains a namespace or callable (may not go into a namespace)

  bool truthy() const;                  // Python truthiness; undefined is false
  std::string to_string() const;        // str(): what {{ x }} prints
  std::string repr() const;             // Python repr()
  const char* type_name() const;        // Python type name for messages

  struct Obj;  // heap part of strings, lists, dicts, namespaces, callables (jinja_value.cpp)

 private:
  Kind kind_ = Kind::Undefined;
  bool tuple_ = false;
  union Num {
    bool b;
    int64_t i;
    double f;
  } num_{.i = 0};
  std::shared_ptr<Obj> obj_;
};

struct CallArgs {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
};

class Dict {
 public:
  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  void set(const Value& key, Value v);  // replaces in place, or appends
  // Appends a string key the caller knows is not there yet (no duplicate check).
  void append_new(const Value& key, Value v);
  void reserve(size_t n) { items_.reserve(n); }
  const std::vector<std::pair<Value, Value>>& items() const { return items_; }
  size_t size() const { return items_.size(); }

 private:
  static constexpr size_t kIndexFrom = 16;  // smaller dicts are searched linearly
  std::vector<std::pair<Value, Value>> items_;
  std::unordered_map<std::string, size_t> str_index_;  // string key -> position, once large
};

bool equals(const Value& a, const Value& b);
// Python ordering (<); throws s1::Error for incomparable kinds.
int compare(const Value& a, const Value& b);

// Python json.dumps(x, ensure_ascii, indent, separators, sort_keys), as transformers'
// tojson filter. indent < 0 means None; item_sep/key_sep default per Python.
struct JsonStyle {
  bool ensure_ascii = false;
  int indent = -1;
  std::string indent_str;  // used when not empty (indent given as a string)
  bool has_separators = false;
  std::string item_sep, key_sep;
  bool sort_keys = false;
};
std::string to_json(const Value& v, const JsonStyle& style, size_t max_bytes);

// Python float repr ("1.0", "0.1", "1e+16").
std::string float_repr(double d);
// Python str repr ('abc', "it's").
std::string string_repr(std::string_view s);

// UTF-8 helpers: code point boundaries (invalid bytes count as one unit each).
std::vector<size_t> utf8_offsets(std::string_view s);  // starts of code points, plus s.size()
size_t utf8_length(std::string_view s);

}  // namespace s1::jinja
