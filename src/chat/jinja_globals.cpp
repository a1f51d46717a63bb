// Global functions: Jinja's range/namespace/dict and the two transformers adds,
// raise_exception and strftime_now.
#include <ctime>

#include "chat/jinja_builtins.h"
#include "chat/jinja_eval.h"
#include "core/error.h"

namespace s1::jinja {

namespace {

// Jinja's sandbox refuses ranges longer than this (jinja2.sandbox.MAX_RANGE).
constexpr int64_t kMaxRange = 100000;

Value g_range(Evaluator& ev, CallArgs& a) {
  if (!a.kw.empty()) fail("range() takes no keyword arguments");
  if (a.pos.empty() || a.pos.size() > 3) fail("range expected 1 to 3 arguments, got ", a.pos.size());
  int64_t v[3] = {0, 0, 0};
  for (size_t i = 0; i < a.pos.size(); ++i) {
    const Value& x = a.pos[i];
    if (x.is_int()) v[i] = x.as_int();
    else if (x.is_bool()) v[i] = x.as_bool() ? 1 : 0;
    else fail("range(): '", x.type_name(), "' object cannot be interpreted as an integer");
  }
  int64_t start = 0, stop, step = 1;
  if (a.pos.size() == 1) {
    stop = v[0];
  } else {
    start = v[0];
    stop = v[1];
    if (a.pos.size() == 3) step = v[2];
  }
  if (step == 0) fail("range() arg 3 must not be zero");
  // length without overflow
  __int128 len = 0;
  if (step > 0 && start < stop) len = ((__int128)stop - start + step - 1) / step;
  if (step < 0 && start > stop) len = ((__int128)start - stop - step - 1) / (-(__int128)step);
  if (len > kMaxRange) fail("range too big: the sandbox allows at most ", kMaxRange, " items");
  ev.check_items(static_cast<size_t>(len));
  std::vector<Value> out;
  out.reserve(static_cast<size_t>(len));
  for (__int128 i = 0; i < len; ++i) out.push_back(Value::integer(static_cast<int64_t>(start + i * step)));
  return Value::list(std::move(out));
}

Dict dict_from_args(CallArgs& a, const char* fn) {
  Dict d;
  if (a.pos.size() > 1) fail(fn, "() takes at most 1 positional argument");
  if (!a.pos.empty()) {
    const Value& src = a.pos[0];
    if (src.is_dict() || src.is_namespace()) {
      for (const auto& [k, v] : src.dict().items()) d.set(k, v);
    } else if (src.is_list()) {
      for (const auto& pair : src.items()) {
        if (!pair.is_list() || pair.items().size() != 2) fail(fn, "(): sequence elements must be pairs");
        d.set(pair.items()[0], pair.items()[1]);
      }
    } else if (!src.is_undefined() && !src.is_none()) {
      fail(fn, "(): cannot convert '", src.type_name(), "' to a dict");
    }
  }
  for (const auto& [k, v] : a.kw) d.set(Value::string(k), v);
  return d;
}

Value g_namespace(Evaluator&, CallArgs& a) { return Value::make_namespace(dict_from_args(a, "namespace")); }
Value g_dict(Evaluator&, CallArgs& a) { return Value::dict(dict_from_args(a, "dict")); }

Value g_raise_exception(Evaluator&, CallArgs& a) {
  std::string msg = a.pos.empty() ? std::string("raise_exception() called") : a.pos[0].to_string();
  fail(msg);
}

Value g_strftime_now(Evaluator& ev, CallArgs& a) {
  Params p("strftime_now", a, {"format"});
  std::string fmt = p.str(0, "");
  if (fmt.size() > 4096) fail("strftime_now: format too long");
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  if (fmt.empty()) return Value::string("");
  std::string buf(fmt.size() * 16 + 64, '\0');
  size_t n = std::strftime(buf.data(), buf.size(), fmt.c_str(), &tm);
  buf.resize(n);
  return Value::string(std::move(buf));
}

}  // namespace

std::vector<std::pair<std::string, Value>> global_functions() {
  return {
      {"range", Value::callable("range", g_range)},
      {"namespace", Value::callable("namespace", g_namespace)},
      {"dict", Value::callable("dict", g_dict)},
      {"raise_exception", Value::callable("raise_exception", g_raise_exception)},
      {"strftime_now", Value::callable("strftime_now", g_strftime_now)},
  };
}

}  // namespace s1::jinja
