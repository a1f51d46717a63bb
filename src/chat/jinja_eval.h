// Evaluator: walks the syntax tree, with Jinja2's scoping (a for-loop iteration, a
// macro call, a with block and a call block each get a fresh scope; if does not) and
// the limits of jinja.h.
#pragma once
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "chat/jinja.h"
#include "chat/jinja_ast.h"
#include "chat/jinja_meter.h"
#include "chat/jinja_value.h"

namespace s1::jinja {

class Scope {
 public:
  explicit Scope(std::shared_ptr<Scope> parent) : parent_(std::move(parent)) {}
  const Value* lookup(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent_.get()) {
      if (const Value* v = s->find(name)) return v;
    }
    return nullptr;
  }
  void set(const std::string& name, Value v) {
    if (const Value* old = find(name)) {
      const_cast<Value&>(*old) = std::move(v);
      return;
    }
    vars_.emplace_back(name, std::move(v));
    if (vars_.size() > kIndexFrom) {
      if (index_.empty()) {
        for (size_t i = 0; i < vars_.size(); ++i) index_.emplace(vars_[i].first, i);
      } else {
        index_.emplace(name, vars_.size() - 1);
      }
    }
  }

 private:
  static constexpr size_t kIndexFrom = 16;  // most scopes hold a few names: search them linearly
  const Value* find(const std::string& name) const {
    if (index_.empty()) {
      for (const auto& [k, v] : vars_) {
        if (k == name) return &v;
      }
      return nullptr;
    }
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &vars_[it->second].second;
  }
  std::shared_ptr<Scope> parent_;
  std::vector<std::pair<std::string, Value>> vars_;
  std::unordered_map<std::string, size_t> index_;
};
using ScopePtr = std::shared_ptr<Scope>;

class Evaluator {
 public:
  explicit Evaluator(const Limits& limits);
  std::string render(const Body& body, const ScopePtr& globals);

  Value eval(const Expr& e, const ScopePtr& scope);
  Value call(const Value& fn, CallArgs& args);
  Value apply_filter(const std::string& name, const Value& input, CallArgs& args);
  bool apply_test(const std::string& name, const Value& input, CallArgs& args);

  const Limits& limits() const { return limits_; }
  void check_string(size_t bytes) const;  // a string about to be built
  void check_items(size_t n) const;       // a list about to be built
  int line() const { return line_; }

 private:
  enum class Flow { Normal, Break, Continue };
  struct Depth {
    Evaluator& ev;
    explicit Depth(Evaluator& e);
    ~Depth() { --ev.depth_; }
  };

  Flow exec(const Body& body, const ScopePtr& scope, std::string& out);
  Flow exec_stmt(const Stmt& s, const ScopePtr& scope, std::string& out);
  Flow exec_for(const Stmt& s, const ScopePtr& scope, std::string& out);
  void assign(const std::vector<AssignTarget>& targets, const Value& v, const ScopePtr& scope);
  Value make_macro(const Stmt& s, const ScopePtr& scope, const std::string& name, bool is_caller);
  Value eval_binary(const Expr& e, const ScopePtr& scope);
  Value eval_compare(const Expr& e, const ScopePtr& scope);
  Value eval_filter(const Expr& e, const ScopePtr& scope, const Value* block_input);
  CallArgs eval_args(const Expr& e, const ScopePtr& scope);
  void emit(std::string& out, std::string_view s) const;

  Limits limits_;
  Meter meter_;
  uint64_t iterations_ = 0;
  int depth_ = 0;
  int line_ = 0;
};

// Python binary operators on values (+ - * / // % ** ~), used by the evaluator and
// by filters such as sum.
Value binary_op(const std::string& op, const Value& a, const Value& b, const Evaluator& ev);

}  // namespace s1::jinja
