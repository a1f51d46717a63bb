// The evaluator (statements, expressions, macros, loops) and Program.
#include "chat/jinja_eval.h"

#include <cmath>

#include "chat/jinja_builtins.h"
#include "chat/jinja_parser.h"
#include "core/error.h"

namespace s1::jinja {

namespace {

[[noreturn]] void undefined_error(const Value& v) {
  if (v.str().empty()) fail("value is undefined");
  fail("'", v.str(), "' is undefined");
}

[[noreturn]] void operand_error(const std::string& op, const Value& a, const Value& b) {
  if (a.is_undefined()) undefined_error(a);
  if (b.is_undefined()) undefined_error(b);
  fail("unsupported operand type(s) for ", op, ": '", a.type_name(), "' and '", b.type_name(), "'");
}

int64_t int_of(const Value& v) { return v.is_bool() ? (v.as_bool() ? 1 : 0) : v.as_int(); }
bool is_intlike(const Value& v) { return v.is_int() || v.is_bool(); }

int64_t add_checked(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) fail("integer overflow");
  return r;
}
int64_t sub_checked(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) fail("integer overflow");
  return r;
}
int64_t mul_checked(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) fail("integer overflow");
  return r;
}

Value repeat(const Value& seq, int64_t times, const Evaluator& ev) {
  if (times <= 0) return seq.is_string() ? Value::string("") : Value::list({}, seq.is_tuple());
  if (seq.is_string()) {
    const std::string& s = seq.str();
    if (!s.empty() && static_cast<uint64_t>(times) > ev.limits().max_output_bytes / s.size()) {
      fail("string repetition exceeds the limit of ", ev.limits().max_output_bytes, " bytes");
    }
    ev.check_string(s.size() * static_cast<size_t>(times));
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(times));
    for (int64_t i = 0; i < times; ++i) out += s;
    return Value::string(std::move(out));
  }
  const auto& items = seq.items();
  if (!items.empty() && static_cast<uint64_t>(times) > ev.limits().max_items / items.size()) {
    fail("list repetition exceeds the limit of ", ev.limits().max_items, " items");
  }
  ev.check_items(items.size() * static_cast<size_t>(times));
  std::vector<Value> out;
  out.reserve(items.size() * static_cast<size_t>(times));
  for (int64_t i = 0; i < times; ++i) out.insert(out.end(), items.begin(), items.end());
  return Value::list(std::move(out), seq.is_tuple());
}

std::vector<Value> format_args(const Value& b) {
  if (b.is_tuple()) return b.items();
  return {b};
}

}  // namespace

std::string py_percent_format(Evaluator& ev, std::string_view fmt, const std::vector<Value>& args);

Value binary_op(const std::string& op, const Value& a, const Value& b, const Evaluator& ev) {
  const bool nums = a.is_number() && b.is_number();
  const bool ints = is_intlike(a) && is_intlike(b);
  if (op == "+") {
    if (ints) return Value::integer(add_checked(int_of(a), int_of(b)));
    if (nums) return Value::number(a.to_double() + b.to_double());
    if (a.is_string() && b.is_string()) {
      ev.check_string(a.str().size() + b.str().size());
      return Value::string(a.str() + b.str());
    }
    if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
      ev.check_items(a.items().size() + b.items().size());
      std::vector<Value> out = a.items();
      out.insert(out.end(), b.items().begin(), b.items().end());
      return Value::list(std::move(out), a.is_tuple());
    }
    operand_error(op, a, b);
  }
  if (op == "-") {
    if (ints) return Value::integer(sub_checked(int_of(a), int_of(b)));
    if (nums) return Value::number(a.to_double() - b.to_double());
    operand_error(op, a, b);
  }
  if (op == "*") {
    if (ints) return Value::integer(mul_checked(int_of(a), int_of(b)));
    if (nums) return Value::number(a.to_double() * b.to_double());
    if ((a.is_string() || a.is_list()) && is_intlike(b)) return repeat(a, int_of(b), ev);
    if ((b.is_string() || b.is_list()) && is_intlike(a)) return repeat(b, int_of(a), ev);
    operand_error(op, a, b);
  }
  if (op == "/") {
    if (!nums) operand_error(op, a, b);
    if (b.to_double() == 0) fail("division by zero");
    return Value::number(a.to_double() / b.to_double());
  }
  if (op == "//" || op == "%") {
    if (op == "%" && a.is_string()) {
      return Value::string(py_percent_format(const_cast<Evaluator&>(ev), a.str(), format_args(b)));
    }
    if (!nums) operand_error(op, a, b);
    if (ints) {
      int64_t x = int_of(a), y = int_of(b);
      if (y == 0) fail("integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) {
        if (op == "%") return Value::integer(0);
        fail("integer overflow");
      }
      int64_t q = x / y, r = x % y;
      if (r != 0 && ((r < 0) != (y < 0))) {
        --q;
        r += y;
      }
      return Value::integer(op == "//" ? q : r);
    }
    double x = a.to_double(), y = b.to_double();
    if (y == 0) fail("float division or modulo by zero");
    if (op == "//") return Value::number(std::floor(x / y));
    double r = std::fmod(x, y);
    if (r != 0 && ((r < 0) != (y < 0))) r += y;
    return Value::number(r);
  }
  if (op == "**") {
    if (!nums) operand_error(op, a, b);
    if (ints && int_of(b) >= 0) {
      int64_t base = int_of(a), e = int_of(b), r = 1;
      while (e > 0) {
        if (e & 1) r = mul_checked(r, base);
        e >>= 1;
        if (e > 0) base = mul_checked(base, base);
      }
      return Value::integer(r);
    }
    double x = a.to_double(), y = b.to_double();
    if (x == 0 && y < 0) fail("0.0 cannot be raised to a negative power");
    return Value::number(std::pow(x, y));
  }
  if (op == "~") {
    std::string s = a.to_string();
    std::string t = b.to_string();
    ev.check_string(s.size() + t.size());
    return Value::string(s + t);
  }
  fail("unknown operator ", op);
}

// ---- Evaluator ----

Evaluator::Evaluator(const Limits& limits) : limits_(limits) { meter_.max_steps = limits.max_steps; }

Evaluator::Depth::Depth(Evaluator& e) : ev(e) {
  if (ev.depth_ >= ev.limits_.max_depth) fail("template nested too deeply (limit ", ev.limits_.max_depth, ")");
  ++ev.depth_;
}

void Evaluator::check_string(size_t bytes) const {
  if (bytes > limits_.max_output_bytes) fail("string of ", bytes, " bytes exceeds the limit of ", limits_.max_output_bytes);
  meter_charge(bytes / 64);
}

void Evaluator::check_items(size_t n) const {
  if (n > limits_.max_items) fail("list of ", n, " items exceeds the limit of ", limits_.max_items);
  meter_charge(n);
}

void Evaluator::emit(std::string& out, std::string_view s) const {
  if (out.size() + s.size() > limits_.max_output_bytes) {
    fail("template output exceeds the limit of ", limits_.max_output_bytes, " bytes");
  }
  out.append(s);
  meter_charge(s.size() / 64);
}

std::string Evaluator::render(const Body& body, const ScopePtr& globals) {
  MeterScope installed(&meter_);
  std::string out;
  exec(body, globals, out);
  return out;
}

Evaluator::Flow Evaluator::exec(const Body& body, const ScopePtr& scope, std::string& out) {
  for (const auto& s : body) {
    Flow f = exec_stmt(*s, scope, out);
    if (f != Flow::Normal) return f;
  }
  return Flow::Normal;
}

Evaluator::Flow Evaluator::exec_stmt(const Stmt& s, const ScopePtr& scope, std::string& out) {
  Depth guard(*this);
  meter_.charge(1);
  line_ = s.line;
  switch (s.kind) {
    case StmtKind::Text: emit(out, s.text); return Flow::Normal;
    case StmtKind::Output: {
      Value v = eval(*s.expr, scope);
      if (v.is_string()) emit(out, v.str());
      else emit(out, v.to_string());
      return Flow::Normal;
    }
    case StmtKind::If:
      for (const auto& [cond, body] : s.branches) {
        if (eval(*cond, scope).truthy()) return exec(body, scope, out);
      }
      return exec(s.else_body, scope, out);
    case StmtKind::For: return exec_for(s, scope, out);
    case StmtKind::Set: assign(s.targets, eval(*s.expr, scope), scope); return Flow::Normal;
    case StmtKind::SetBlock: {
      std::string text;
      exec(s.body, scope, text);
      Value v = Value::string(std::move(text));
      if (s.expr) v = eval_filter(*s.expr, scope, &v);
      assign(s.targets, v, scope);
      return Flow::Normal;
    }
    case StmtKind::Macro: scope->set(s.name, make_macro(s, scope, s.name, false)); return Flow::Normal;
    case StmtKind::CallBlock: {
      Value callee = eval(*s.expr->a, scope);
      CallArgs args = eval_args(*s.expr, scope);
      args.kw.emplace_back("caller", make_macro(s, scope, "caller", true));
      line_ = s.line;
      Value v = call(callee, args);
      emit(out, v.to_string());
      return Flow::Normal;
    }
    case StmtKind::FilterBlock: {
      std::string text;
      exec(s.body, scope, text);
      Value input = Value::string(std::move(text));
      emit(out, eval_filter(*s.expr, scope, &input).to_string());
      return Flow::Normal;
    }
    case StmtKind::With: {
      auto inner = std::make_shared<Scope>(scope);
      for (const auto& [name, e] : s.assigns) inner->set(name, eval(*e, scope));
      return exec(s.body, inner, out);
    }
    case StmtKind::Scope: return exec(s.body, scope, out);
    case StmtKind::Break: return Flow::Break;
    case StmtKind::Continue: return Flow::Continue;
  }
  return Flow::Normal;
}

void Evaluator::assign(const std::vector<AssignTarget>& targets, const Value& v, const ScopePtr& scope) {
  auto one = [&](const AssignTarget& t, const Value& x) {
    if (t.attr.empty()) {
      scope->set(t.name, x);
      return;
    }
    const Value* ns = scope->lookup(t.name);
    if (!ns || !ns->is_namespace()) fail("cannot assign attribute '", t.attr, "' on non-namespace object '", t.name, "'");
    if (x.holds_reference()) fail("a namespace attribute cannot hold a namespace or a function");
    ns->namespace_dict().set(Value::string(t.attr), x);
  };
  if (targets.size() == 1) {
    one(targets[0], v);
    return;
  }
  std::vector<Value> parts = iterate(v);
  if (parts.size() != targets.size()) {
    fail("cannot unpack ", parts.size(), " values into ", targets.size(), " names");
  }
  for (size_t i = 0; i < targets.size(); ++i) one(targets[i], parts[i]);
}

namespace {

// The `loop` variable of iteration i.
Value loop_object(const std::vector<Value>& items, size_t i) {
  static const Value kIndex = Value::string("index"), kIndex0 = Value::string("index0"),
                     kRevindex = Value::string("revindex"), kRevindex0 = Value::string("revindex0"),
                     kFirst = Value::string("first"), kLast = Value::string("last"), kLength = Value::string("length"),
                     kDepth = Value::string("depth"), kDepth0 = Value::string("depth0"),
                     kPrevitem = Value::string("previtem"), kNextitem = Value::string("nextitem"),
                     kCycle = Value::string("cycle");
  const size_t n = items.size();
  const auto len = static_cast<int64_t>(n), idx = static_cast<int64_t>(i);
  Dict loop;
  loop.reserve(12);
  loop.append_new(kIndex, Value::integer(idx + 1));
  loop.append_new(kIndex0, Value::integer(idx));
  loop.append_new(kRevindex, Value::integer(len - idx));
  loop.append_new(kRevindex0, Value::integer(len - idx - 1));
  loop.append_new(kFirst, Value::boolean(i == 0));
  loop.append_new(kLast, Value::boolean(i + 1 == n));
  loop.append_new(kLength, Value::integer(len));
  loop.append_new(kDepth, Value::integer(1));
  loop.append_new(kDepth0, Value::integer(0));
  if (i > 0) loop.append_new(kPrevitem, items[i - 1]);
  if (i + 1 < n) loop.append_new(kNextitem, items[i + 1]);
  loop.append_new(kCycle, Value::callable("loop.cycle", [i](Evaluator&, CallArgs& a) -> Value {
             if (a.pos.empty()) fail("loop.cycle() needs at least one argument");
             return a.pos[i % a.pos.size()];
           }));
  return Value::dict(std::move(loop));
}

}  // namespace

Evaluator::Flow Evaluator::exec_for(const Stmt& s, const ScopePtr& scope, std::string& out) {
  Value seq = eval(*s.expr, scope);
  std::vector<Value> items = iterate(seq);
  meter_.charge(items.size());
  if (s.cond) {
    std::vector<Value> kept;
    for (auto& x : items) {
      auto probe = std::make_shared<Scope>(scope);
      assign(s.targets, x, probe);
      if (eval(*s.cond, probe).truthy()) kept.push_back(std::move(x));
    }
    items = std::move(kept);
  }
  const size_t n = items.size();
  for (size_t i = 0; i < n; ++i) {
    if (++iterations_ > limits_.max_loop_iterations) {
      fail("template exceeded its limit of ", limits_.max_loop_iterations, " loop iterations");
    }
    auto inner = std::make_shared<Scope>(scope);
    assign(s.targets, items[i], inner);
    inner->set("loop", loop_object(items, i));
    Flow f = exec(s.body, inner, out);
    if (f == Flow::Break) break;
  }
  if (n == 0) exec(s.else_body, std::make_shared<Scope>(scope), out);
  return Flow::Normal;
}

Value Evaluator::make_macro(const Stmt& s, const ScopePtr& scope, const std::string& name, bool is_caller) {
  // The macro sees its defining scope (weakly: scopes hold macros, so a strong
  // reference would be a cycle). A macro can only reach code running inside that scope.
  std::weak_ptr<Scope> weak = scope;
  const Stmt* def = &s;
  return Value::callable(name, [def, weak, is_caller, name](Evaluator& ev, CallArgs& args) -> Value {
    ScopePtr parent = weak.lock();
    if (!parent) fail("macro '", name, "' called after its scope ended");
    auto local = std::make_shared<Scope>(parent);
    const auto& params = def->params;
    std::vector<bool> bound(params.size(), false);
    std::vector<Value> varargs;
    for (size_t i = 0; i < args.pos.size(); ++i) {
      if (i < params.size()) {
        local->set(params[i].name, args.pos[i]);
        bound[i] = true;
      } else {
        varargs.push_back(args.pos[i]);
      }
    }
    Dict kwargs;
    for (auto& [k, v] : args.kw) {
      size_t i = 0;
      while (i < params.size() && params[i].name != k) ++i;
      if (i < params.size()) {
        if (bound[i]) fail("macro '", name, "' got multiple values for argument '", k, "'");
        local->set(k, v);
        bound[i] = true;
      } else if (k == "caller" && !is_caller) {
        local->set("caller", v);
      } else {
        kwargs.set(Value::string(k), v);
      }
    }
    for (size_t i = 0; i < params.size(); ++i) {
      if (bound[i]) continue;
      if (params[i].default_value) local->set(params[i].name, ev.eval(*params[i].default_value, local));
      else local->set(params[i].name, Value::undefined(params[i].name));
    }
    local->set("varargs", Value::list(std::move(varargs), true));
    local->set("kwargs", Value::dict(std::move(kwargs)));
    std::string out;
    ev.exec(def->body, local, out);
    return Value::string(std::move(out));
  });
}

CallArgs Evaluator::eval_args(const Expr& e, const ScopePtr& scope) {
  CallArgs args;
  args.pos.reserve(e.args.size());
  for (const auto& a : e.args) args.pos.push_back(eval(*a, scope));
  for (const auto& [k, a] : e.kwargs) args.kw.emplace_back(k, eval(*a, scope));
  return args;
}

Value Evaluator::call(const Value& fn, CallArgs& args) {
  Depth guard(*this);
  if (fn.is_callable()) return fn.callable_fn()(*this, args);
  if (fn.is_undefined()) {
    if (fn.str().empty()) fail("call of an undefined value");
    fail("'", fn.str(), "' is undefined (unknown function or method)");
  }
  fail("'", fn.type_name(), "' object is not callable");
}

Value Evaluator::apply_filter(const std::string& name, const Value& input, CallArgs& args) {
  FilterFn f = find_filter(name);
  if (!f) fail("unknown filter '", name, "'");
  return f(*this, input, args);
}

bool Evaluator::apply_test(const std::string& name, const Value& input, CallArgs& args) {
  TestFn t = find_test(name);
  if (!t) fail("unknown test '", name, "'");
  return t(*this, input, args);
}

Value Evaluator::eval_filter(const Expr& e, const ScopePtr& scope, const Value* block_input) {
  Value input;
  if (!e.a) {
    if (block_input) input = *block_input;
  } else if (block_input && e.a->kind == ExprKind::Filter) {
    input = eval_filter(*e.a, scope, block_input);
  } else {
    input = eval(*e.a, scope);
  }
  CallArgs args = eval_args(e, scope);
  line_ = e.line;
  return apply_filter(e.name, input, args);
}

namespace {

bool contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Kind::String:
      if (!item.is_string()) fail("'in <string>' requires string as left operand, not ", item.type_name());
      meter_charge(container.str().size() / 64);
      return container.str().find(item.str()) != std::string::npos;
    case Kind::List:
      for (const auto& x : container.items()) {
        if (equals(x, item)) return true;
      }
      return false;
    case Kind::Dict: return container.dict().find(item) != nullptr;
    case Kind::Undefined: return false;
    default: fail("argument of type '", container.type_name(), "' is not iterable");
  }
}

}  // namespace

Value Evaluator::eval_compare(const Expr& e, const ScopePtr& scope) {
  Value left = eval(*e.items[0], scope);
  for (size_t i = 0; i < e.ops.size(); ++i) {
    Value right = eval(*e.items[i + 1], scope);
    const std::string& op = e.ops[i];
    bool r;
    if (op == "==") r = equals(left, right);
    else if (op == "!=") r = !equals(left, right);
    else if (op == "in") r = contains(right, left);
    else if (op == "not in") r = !contains(right, left);
    else {
      if (left.is_undefined()) undefined_error(left);
      if (right.is_undefined()) undefined_error(right);
      int c = compare(left, right);
      r = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
    }
    if (!r) return Value::boolean(false);
    left = std::move(right);
  }
  return Value::boolean(true);
}

Value Evaluator::eval_binary(const Expr& e, const ScopePtr& scope) {
  Value a = eval(*e.a, scope);
  Value b = eval(*e.b, scope);
  line_ = e.line;
  return binary_op(e.name, a, b, *this);
}

Value Evaluator::eval(const Expr& e, const ScopePtr& scope) {
  Depth guard(*this);
  meter_.charge(1);
  line_ = e.line;
  switch (e.kind) {
    case ExprKind::Const: return e.value;
    case ExprKind::Name: {
      if (const Value* v = scope->lookup(e.name)) return *v;
      return Value::undefined(e.name);
    }
    case ExprKind::List:
    case ExprKind::Tuple: {
      check_items(e.items.size());
      std::vector<Value> items;
      items.reserve(e.items.size());
      for (const auto& x : e.items) items.push_back(eval(*x, scope));
      return Value::list(std::move(items), e.kind == ExprKind::Tuple);
    }
    case ExprKind::Dict: {
      Dict d;
      for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
        Value k = eval(*e.items[i], scope);
        if (k.is_list() && !k.is_tuple()) fail("unhashable type: 'list'");
        if (k.is_dict() || k.is_namespace() || k.is_undefined()) fail("unhashable dict key of type '", k.type_name(), "'");
        d.set(k, eval(*e.items[i + 1], scope));
      }
      return Value::dict(std::move(d));
    }
    case ExprKind::GetAttr: {
      Value obj = eval(*e.a, scope);
      line_ = e.line;
      return get_attr(*this, obj, e.name);
    }
    case ExprKind::GetItem: {
      Value obj = eval(*e.a, scope);
      Value key = eval(*e.b, scope);
      line_ = e.line;
      return get_item(*this, obj, key);
    }
    case ExprKind::Slice: {
      Value obj = eval(*e.a, scope);
      Value parts[3];
      for (int i = 0; i < 3; ++i) {
        if (e.items[static_cast<size_t>(i)]) parts[i] = eval(*e.items[static_cast<size_t>(i)], scope);
      }
      line_ = e.line;
      return get_slice(*this, obj, e.items[0] ? &parts[0] : nullptr, e.items[1] ? &parts[1] : nullptr,
                       e.items[2] ? &parts[2] : nullptr);
    }
    case ExprKind::Unary: {
      Value v = eval(*e.a, scope);
      if (e.name == "not") return Value::boolean(!v.truthy());
      if (v.is_undefined()) undefined_error(v);
      if (!v.is_number()) fail("bad operand type for unary ", e.name, ": '", v.type_name(), "'");
      if (e.name == "+") return v.is_bool() ? Value::integer(v.as_bool()) : v;
      if (v.is_float()) return Value::number(-v.as_float());
      int64_t i = v.is_bool() ? v.as_bool() : v.as_int();
      if (i == INT64_MIN) fail("integer overflow");
      return Value::integer(-i);
    }
    case ExprKind::Binary: return eval_binary(e, scope);
    case ExprKind::And: {
      Value a = eval(*e.a, scope);
      if (!a.truthy()) return a;
      return eval(*e.b, scope);
    }
    case ExprKind::Or: {
      Value a = eval(*e.a, scope);
      if (a.truthy()) return a;
      return eval(*e.b, scope);
    }
    case ExprKind::Compare: return eval_compare(e, scope);
    case ExprKind::Cond: {
      if (eval(*e.b, scope).truthy()) return eval(*e.a, scope);
      if (e.c) return eval(*e.c, scope);
      return Value::undefined();
    }
    case ExprKind::Filter: return eval_filter(e, scope, nullptr);
    case ExprKind::Test: {
      Value input = eval(*e.a, scope);
      CallArgs args = eval_args(e, scope);
      line_ = e.line;
      return Value::boolean(apply_test(e.name, input, args) != e.negated);
    }
    case ExprKind::Call: {
      Value fn = eval(*e.a, scope);
      CallArgs args = eval_args(e, scope);
      line_ = e.line;
      return call(fn, args);
    }
  }
  return Value::undefined();
}

// ---- Program ----

Program::Program(std::string_view source) : body_(parse(source)) {}
Program::~Program() = default;

std::string Program::render(const Vars& vars, const Limits& limits) const {
  auto globals = std::make_shared<Scope>(nullptr);
  for (auto& [name, fn] : global_functions()) globals->set(name, std::move(fn));
  for (const auto& [name, v] : vars) globals->set(name, v);
  Evaluator ev(limits);
  try {
    return ev.render(body_, globals);
  } catch (const Error& e) {
    fail("chat template error at line ", ev.line(), ": ", e.what());
  }
}

}  // namespace s1::jinja
