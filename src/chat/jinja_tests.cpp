// Tests ({% if x is name(args) %}), with Jinja2's semantics. To add one: write a
// function bool t(Evaluator&, const Value& input, CallArgs&) and list it in kTests.
#include <cctype>
#include <cmath>
#include <unordered_map>

#include "chat/jinja_builtins.h"
#include "chat/jinja_eval.h"
#include "core/error.h"

namespace s1::jinja {

namespace {

const Value& one_arg(CallArgs& a, const char* test) {
  if (a.pos.size() != 1 || !a.kw.empty()) fail("test '", test, "' takes exactly one argument");
  return a.pos[0];
}
void no_args(CallArgs& a, const char* test) {
  if (!a.pos.empty() || !a.kw.empty()) fail("test '", test, "' takes no arguments");
}

bool t_defined(Evaluator&, const Value& v, CallArgs& a) {
  no_args(a, "defined");
  return !v.is_undefined();
}
bool t_undefined(Evaluator&, const Value& v, CallArgs& a) {
  no_args(a, "undefined");
  return v.is_undefined();
}
bool t_none(Evaluator&, const Value& v, CallArgs& a) {
  no_args(a, "none");
  return v.is_none();
}
bool t_boolean(Evaluator&, const Value& v, CallArgs& a) {
  no_args(a, "boolean");
  return v.is_bool();
}
bool t_true(Evaluator&, const Value& v, CallArgs& a) {
  no_args(a, "true");
  return v.is_bool() && v.as_bool();
}
bool t_false(Evaluator&, const Value& v, CallArgs& a) {
  no_args(a, "false");
  return v.is_bool() && !v.as_bool();
}
bool t_integer(Evaluator&, const Value& v, CallArgs& a) {
  no_args(a, "integer");
  return v.is_int();
}
bool t_float(Evaluator&, const Value& v, CallArgs& a) {
  no_args(a, "float");
  return v.is_float();
}
bool t_number(Evaluator&, const Value& v, CallArgs& a) {
  no_args(a, "number");
  return v.is_number();  // bool is a Number in Python
}
bool t_string(Evaluator&, const Value& v, CallArgs& a) {
  no_args(a, "string");
  return v.is_string();
}
bool t_mapping(Evaluator&, const Value& v, CallArgs& a) {
  no_args(a, "mapping");
  return v.is_dict();
}
bool t_iterable(Evaluator&, const Value& v, CallArgs& a) {
  no_args(a, "iterable");
  return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
}
bool t_sequence(Evaluator&, const Value& v, CallArgs& a) {
  no_args(a, "sequence");
  return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
}
bool t_callable(Evaluator&, const Value& v, CallArgs& a) {
  no_args(a, "callable");
  return v.is_callable();
}
bool t_escaped(Evaluator&, const Value&, CallArgs& a) {
  no_args(a, "escaped");
  return false;
}
int64_t int_value(const Value& v, const char* test) {
  if (v.is_int()) return v.as_int();
  if (v.is_bool()) return v.as_bool() ? 1 : 0;
  if (v.is_float() && std::isfinite(v.as_float())) return static_cast<int64_t>(std::fmod(v.as_float(), 2.0));
  fail("test '", test, "' needs a number, not ", v.type_name());
}
bool t_odd(Evaluator&, const Value& v, CallArgs& a) {
  no_args(a, "odd");
  return int_value(v, "odd") % 2 != 0;
}
bool t_even(Evaluator&, const Value& v, CallArgs& a) {
  no_args(a, "even");
  return int_value(v, "even") % 2 == 0;
}
bool t_divisibleby(Evaluator&, const Value& v, CallArgs& a) {
  const Value& n = one_arg(a, "divisibleby");
  if (!v.is_number() || !n.is_number()) fail("test 'divisibleby' needs numbers");
  if (n.to_double() == 0) fail("integer division or modulo by zero");
  if ((v.is_int() || v.is_bool()) && (n.is_int() || n.is_bool())) {
    int64_t x = v.is_bool() ? v.as_bool() : v.as_int(), y = n.is_bool() ? n.as_bool() : n.as_int();
    if (y == -1) return true;
    return x % y == 0;
  }
  return std::fmod(v.to_double(), n.to_double()) == 0;
}
bool t_eq(Evaluator&, const Value& v, CallArgs& a) { return equals(v, one_arg(a, "eq")); }
bool t_ne(Evaluator&, const Value& v, CallArgs& a) { return !equals(v, one_arg(a, "ne")); }
bool t_lt(Evaluator&, const Value& v, CallArgs& a) { return compare(v, one_arg(a, "lt")) < 0; }
bool t_le(Evaluator&, const Value& v, CallArgs& a) { return compare(v, one_arg(a, "le")) <= 0; }
bool t_gt(Evaluator&, const Value& v, CallArgs& a) { return compare(v, one_arg(a, "gt")) > 0; }
bool t_ge(Evaluator&, const Value& v, CallArgs& a) { return compare(v, one_arg(a, "ge")) >= 0; }
bool t_sameas(Evaluator&, const Value& v, CallArgs& a) {
  const Value& o = one_arg(a, "sameas");
  if (v.kind() != o.kind()) return false;
  switch (v.kind()) {
    case Kind::None:
    case Kind::Undefined: return true;
    case Kind::Bool: return v.as_bool() == o.as_bool();
    case Kind::List: return &v.items() == &o.items();
    case Kind::Dict:
    case Kind::Namespace: return &v.dict() == &o.dict();
    case Kind::String: return &v.str() == &o.str();
    default: return equals(v, o);
  }
}
bool t_in(Evaluator&, const Value& v, CallArgs& a) {
  const Value& seq = one_arg(a, "in");
  if (seq.is_string()) return v.is_string() && seq.str().find(v.str()) != std::string::npos;
  if (seq.is_dict()) return seq.dict().find(v) != nullptr;
  for (const auto& x : iterate(seq)) {
    if (equals(x, v)) return true;
  }
  return false;
}
bool t_lower(Evaluator&, const Value& v, CallArgs& a) {
  no_args(a, "lower");
  if (!v.is_string()) return false;
  const std::string& s = v.str();
  for (char c : s) {
    if (std::isupper(static_cast<unsigned char>(c))) return false;
  }
  for (char c : s) {
    if (std::islower(static_cast<unsigned char>(c))) return true;
  }
  return false;
}
bool t_upper(Evaluator&, const Value& v, CallArgs& a) {
  no_args(a, "upper");
  if (!v.is_string()) return false;
  const std::string& s = v.str();
  for (char c : s) {
    if (std::islower(static_cast<unsigned char>(c))) return false;
  }
  for (char c : s) {
    if (std::isupper(static_cast<unsigned char>(c))) return true;
  }
  return false;
}
bool t_filter(Evaluator&, const Value& v, CallArgs& a) {
  no_args(a, "filter");
  return v.is_string() && find_filter(v.str()) != nullptr;
}
bool t_test(Evaluator&, const Value& v, CallArgs& a) {
  no_args(a, "test");
  return v.is_string() && find_test(v.str()) != nullptr;
}

const std::unordered_map<std::string_view, TestFn>& tests() {
  static const std::unordered_map<std::string_view, TestFn> table = {
      {"!=", t_ne},
      {"<", t_lt},
      {"<=", t_le},
      {"==", t_eq},
      {">", t_gt},
      {">=", t_ge},
      {"boolean", t_boolean},
      {"callable", t_callable},
      {"defined", t_defined},
      {"divisibleby", t_divisibleby},
      {"eq", t_eq},
      {"equalto", t_eq},
      {"escaped", t_escaped},
      {"even", t_even},
      {"false", t_false},
      {"filter", t_filter},
      {"float", t_float},
      {"ge", t_ge},
      {"greaterthan", t_gt},
      {"gt", t_gt},
      {"in", t_in},
      {"integer", t_integer},
      {"iterable", t_iterable},
      {"le", t_le},
      {"lessthan", t_lt},
      {"lower", t_lower},
      {"lt", t_lt},
      {"mapping", t_mapping},
      {"ne", t_ne},
      {"none", t_none},
      {"number", t_number},
      {"odd", t_odd},
      {"sameas", t_sameas},
      {"sequence", t_sequence},
      {"string", t_string},
      {"test", t_test},
      {"true", t_true},
      {"undefined", t_undefined},
      {"upper", t_upper},
  };
  return table;
}

}  // namespace

TestFn find_test(std::string_view name) {
  auto it = tests().find(name);
  return it == tests().end() ? nullptr : it->second;
}

}  // namespace s1::jinja
