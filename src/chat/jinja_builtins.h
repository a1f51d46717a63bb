// Built-ins of the interpreter: filters (jinja_filters.cpp), tests (jinja_tests.cpp),
// methods of str/dict/list values and attribute/item access (jinja_methods.cpp), global
// functions (jinja_globals.cpp), and the helpers they share (jinja_builtins.cpp).
#pragma once
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/jinja_value.h"

namespace s1::jinja {

class Evaluator;

using FilterFn = Value (*)(Evaluator&, const Value& input, CallArgs& args);
using TestFn = bool (*)(Evaluator&, const Value& input, CallArgs& args);

FilterFn find_filter(std::string_view name);  // null when unknown
TestFn find_test(std::string_view name);      // null when unknown

// obj.name: Jinja tries the Python attribute first (so d.items is dict.items), then the
// item; a missing one is undefined. Methods come back as bound callables.
Value get_attr(Evaluator& ev, const Value& obj, const std::string& name);
// obj[key]: the item first, then the attribute (so d['items'] is the key). Missing:
// undefined.
Value get_item(Evaluator& ev, const Value& obj, const Value& key);
// obj[start:stop:step] for str, list and tuple (null bounds are omitted ones).
Value get_slice(Evaluator& ev, const Value& obj, const Value* start, const Value* stop, const Value* step);

// range, namespace, dict, raise_exception, strftime_now.
std::vector<std::pair<std::string, Value>> global_functions();

// ---- helpers shared by the built-ins ----

// Binds Python-style arguments: names[i] is the name of positional parameter i.
// Throws on too many positional arguments or an unknown keyword.
class Params {
 public:
  Params(const char* fn, CallArgs& args, std::initializer_list<const char*> names);
  const Value* get(size_t i) const { return i < bound_.size() ? bound_[i] : nullptr; }
  bool has(size_t i) const { return get(i) != nullptr; }
  const Value& get_or(size_t i, const Value& dflt) const { return has(i) ? *get(i) : dflt; }
  std::string str(size_t i, const std::string& dflt) const;
  int64_t integer(size_t i, int64_t dflt) const;
  bool flag(size_t i, bool dflt) const { return has(i) ? get(i)->truthy() : dflt; }

 private:
  const char* fn_;
  std::vector<const Value*> bound_;
};

// The elements a Python `for` over v yields: list items, dict keys, string characters.
// Undefined yields nothing; other kinds throw.
std::vector<Value> iterate(const Value& v);

// Python int()/float() conversion; false when not convertible.
bool parse_int(std::string_view s, int base, int64_t& out);
bool parse_float(std::string_view s, double& out);

std::string ascii_lower(std::string s);
std::string ascii_upper(std::string s);
bool is_py_space(char c);
std::string py_strip(std::string_view s, const Value* chars, bool left, bool right);
std::vector<std::string> py_split(std::string_view s, const Value* sep, int64_t maxsplit, bool from_right);
std::string py_replace(Evaluator& ev, std::string_view s, std::string_view old, std::string_view repl, int64_t count);
std::string py_title(std::string_view s);       // str.title()
std::string py_capitalize(std::string_view s);  // str.capitalize()

// Dotted attribute path lookup used by sort/map/selectattr(attribute="a.b").
Value attr_path(Evaluator& ev, const Value& v, const std::string& path);

}  // namespace s1::jinja
