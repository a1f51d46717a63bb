// Syntax tree of a parsed template. Nodes carry their source line for run-time errors.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_value.h"

namespace s1::jinja {

// Bound on the depth of any syntax tree (nested brackets, blocks, chains such as
// a.b.c... or x|f|g...): recursive evaluation and destruction stay within the stack.
inline constexpr int kMaxTreeDepth = 200;

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind : uint8_t {
  Const,     // value
  Name,      // name
  List,      // items
  Tuple,     // items
  Dict,      // items: key, value, key, value, ...
  GetAttr,   // a.name
  GetItem,   // a[b]
  Slice,     // a[items[0]:items[1]:items[2]] (null items are omitted bounds)
  Unary,     // name: "not", "-", "+"; operand a
  Binary,    // name: + - * / // % ** ~ ; operands a, b
  And,       // a and b
  Or,        // a or b
  Compare,   // items[0] ops[0] items[1] ops[1] items[2] ... (chained)
  Cond,      // a if b else c (c may be null)
  Filter,    // a|name(args, kwargs); a is null inside {% filter %} blocks
  Test,      // a is [not] name(args, kwargs)
  Call,      // a(args, kwargs)
};

struct Expr {
  ExprKind kind = ExprKind::Const;
  int line = 0, col = 0;
  int depth = 1;  // height of this subtree
  bool negated = false;  // Test: "is not"
  Value value;
  std::string name;
  ExprPtr a, b, c;
  std::vector<ExprPtr> items;
  std::vector<std::string> ops;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class StmtKind : uint8_t {
  Text,        // text
  Output,      // {{ expr }}
  If,          // branches (cond, body)...; else_body
  For,         // for targets in expr [if cond]: body; else_body
  Set,         // set targets = expr
  SetBlock,    // {% set targets %}body{% endset %}; expr = optional filter chain
  Macro,       // macro name(params): body
  CallBlock,   // {% call(params) expr %}body{% endcall %}
  FilterBlock, // {% filter expr %}body{% endfilter %} (expr is a Filter chain with null input)
  With,        // {% with assigns %}body{% endwith %}
  Scope,       // body rendered as is ({% generation %})
  Break,
  Continue,
};

struct AssignTarget {
  std::string name;
  std::string attr;  // set ns.attr = ...
};

struct Param {
  std::string name;
  ExprPtr default_value;  // may be null
};

struct Stmt {
  StmtKind kind = StmtKind::Text;
  int line = 0, col = 0;
  std::string text;
  ExprPtr expr, cond;
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body, else_body;
  std::vector<AssignTarget> targets;
  std::string name;
  std::vector<Param> params;
  std::vector<std::pair<std::string, ExprPtr>> assigns;  // With
};

}  // namespace s1::jinja
