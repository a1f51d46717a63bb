// Recursive-descent parser for the Jinja subset (see jinja_parser.h and README.md).
#include "chat/jinja_parser.h"

#include <algorithm>
#include <initializer_list>

#include "chat/jinja_builtins.h"
#include "chat/jinja_lexer.h"
#include "core/error.h"

namespace s1::jinja {
namespace {

std::string describe(const Token& t) {
  switch (t.type) {
    case Tok::Text: return "template text";
    case Tok::VarBegin: return "'{{'";
    case Tok::VarEnd: return "'}}'";
    case Tok::BlockBegin: return "'{%'";
    case Tok::BlockEnd: return "'%}'";
    case Tok::Name: return "'" + t.value + "'";
    case Tok::String: return "string literal";
    case Tok::Int:
    case Tok::Float: return "number " + t.value;
    case Tok::Op: return "'" + t.value + "'";
    case Tok::Eof: return "end of template";
  }
  return "token";
}

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : toks_(std::move(toks)) {}

  Body parse_template() {
    std::string found;
    Body body = parse_body({}, found);
    return body;
  }

 private:
  std::vector<Token> toks_;
  size_t pos_ = 0;
  int nest_ = 0;       // recursion depth of the parser itself
  int loop_depth_ = 0; // enclosing for loops (break/continue are legal inside)

  struct Nest {
    Parser& p;
    explicit Nest(Parser& parser) : p(parser) {
      if (++p.nest_ > 2 * kMaxTreeDepth) p.error("template nested too deeply");
    }
    ~Nest() { --p.nest_; }
  };

  const Token& cur() const { return toks_[pos_]; }
  const Token& peek(size_t k = 1) const { return toks_[std::min(pos_ + k, toks_.size() - 1)]; }
  void next() {
    if (pos_ + 1 < toks_.size()) ++pos_;
  }
  bool is_op(const char* op) const { return cur().type == Tok::Op && cur().value == op; }
  bool is_name(const char* name) const { return cur().type == Tok::Name && cur().value == name; }
  [[noreturn]] void error(const std::string& what) const { syntax_error(cur().line, cur().col, what); }
  [[noreturn]] void unexpected(const std::string& expected) const {
    error("unexpected " + describe(cur()) + (expected.empty() ? "" : ", expected " + expected));
  }
  void expect_op(const char* op) {
    if (!is_op(op)) unexpected(std::string("'") + op + "'");
    next();
  }
  std::string expect_name() {
    if (cur().type != Tok::Name) unexpected("a name");
    std::string n = cur().value;
    next();
    return n;
  }
  void expect_block_end() {
    if (cur().type != Tok::BlockEnd) unexpected("'%}'");
    next();
  }

  // ---- tree construction ----

  ExprPtr node(ExprKind kind, const Token& at) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = at.line;
    e->col = at.col;
    return e;
  }
  ExprPtr finish(ExprPtr e) {
    int d = 0;
    auto see = [&](const ExprPtr& c) {
      if (c) d = std::max(d, c->depth);
    };
    see(e->a);
    see(e->b);
    see(e->c);
    for (const auto& c : e->items) see(c);
    for (const auto& c : e->args) see(c);
    for (const auto& kv : e->kwargs) see(kv.second);
    e->depth = d + 1;
    if (e->depth > kMaxTreeDepth) syntax_error(e->line, e->col, "expression nested too deeply");
    return e;
  }
  ExprPtr binary(ExprKind kind, const Token& at, std::string op, ExprPtr a, ExprPtr b) {
    auto e = node(kind, at);
    e->name = std::move(op);
    e->a = std::move(a);
    e->b = std::move(b);
    return finish(std::move(e));
  }

  // ---- statements ----

  // Parses until a {% tag %} named in `ends` (left with the tag name consumed, so the
  // caller reads the rest of that tag) or the end of the template when `ends` is empty.
  Body parse_body(std::initializer_list<const char*> ends, std::string& found) {
    Nest guard(*this);
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.type == Tok::Eof) {
        if (ends.size() != 0) {
          std::string want;
          for (const char* e : ends) want += (want.empty() ? "'" : " or '") + std::string(e) + "'";
          error("unexpected end of template, expected " + want);
        }
        return body;
      }
      if (t.type == Tok::Text) {
        auto s = stmt(StmtKind::Text, t);
        s->text = t.value;
        body.push_back(std::move(s));
        next();
      } else if (t.type == Tok::VarBegin) {
        auto s = stmt(StmtKind::Output, t);
        next();
        s->expr = parse_tuple(true);
        if (cur().type != Tok::VarEnd) unexpected("'}}'");
        next();
        body.push_back(std::move(s));
      } else if (t.type == Tok::BlockBegin) {
        const Token& tag = peek();
        if (tag.type == Tok::Name) {
          for (const char* e : ends) {
            if (tag.value == e) {
              found = e;
              next();
              next();
              return body;
            }
          }
        }
        body.push_back(parse_statement());
      } else {
        unexpected("");
      }
    }
  }

  StmtPtr stmt(StmtKind kind, const Token& at) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->line = at.line;
    s->col = at.col;
    return s;
  }

  StmtPtr parse_statement() {
    next();  // {%
    const Token tag = cur();
    if (tag.type != Tok::Name) unexpected("a tag name");
    const std::string& n = tag.value;
    next();
    if (n == "if") return parse_if(tag);
    if (n == "for") return parse_for(tag);
    if (n == "set") return parse_set(tag);
    if (n == "macro") return parse_macro(tag);
    if (n == "call") return parse_call_block(tag);
    if (n == "filter") return parse_filter_block(tag);
    if (n == "with") return parse_with(tag);
    if (n == "generation") {
      // transformers' AssistantTracker: renders its body unchanged
      expect_block_end();
      auto s = stmt(StmtKind::Scope, tag);
      std::string found;
      s->body = parse_body({"endgeneration"}, found);
      expect_block_end();
      return s;
    }
    if (n == "break" || n == "continue") {
      if (loop_depth_ == 0) syntax_error(tag.line, tag.col, "'" + n + "' outside of a for loop");
      expect_block_end();
      return stmt(n == "break" ? StmtKind::Break : StmtKind::Continue, tag);
    }
    static const char* const kUnsupported[] = {"include", "extends", "block", "import", "from", "do",
                                               "autoescape", "trans", "pluralize"};
    for (const char* u : kUnsupported) {
      if (n == u) syntax_error(tag.line, tag.col, "unsupported tag '" + n + "'");
    }
    syntax_error(tag.line, tag.col, "unknown tag '" + n + "'");
  }

  StmtPtr parse_if(const Token& tag) {
    auto s = stmt(StmtKind::If, tag);
    ExprPtr cond = parse_tuple(true);
    expect_block_end();
    while (true) {
      std::string found;
      Body body = parse_body({"elif", "else", "endif"}, found);
      s->branches.emplace_back(std::move(cond), std::move(body));
      if (found == "elif") {
        cond = parse_tuple(true);
        expect_block_end();
        continue;
      }
      if (found == "else") {
        expect_block_end();
        s->else_body = parse_body({"endif"}, found);
      }
      expect_block_end();
      return s;
    }
  }

  // name | name.attr | a, b, ... (optionally parenthesised)
  std::vector<AssignTarget> parse_targets(bool allow_attr) {
    std::vector<AssignTarget> out;
    bool paren = false;
    if (is_op("(")) {
      paren = true;
      next();
    }
    while (true) {
      AssignTarget t;
      t.name = expect_name();
      if (allow_attr && is_op(".")) {
        next();
        t.attr = expect_name();
      }
      out.push_back(std::move(t));
      if (!is_op(",")) break;
      next();
      if (cur().type != Tok::Name) break;
    }
    if (paren) expect_op(")");
    for (const auto& t : out) {
      if (t.name == "true" || t.name == "false" || t.name == "none" || t.name == "True" || t.name == "False" ||
          t.name == "None") {
        error("cannot assign to '" + t.name + "'");
      }
    }
    return out;
  }

  StmtPtr parse_for(const Token& tag) {
    auto s = stmt(StmtKind::For, tag);
    s->targets = parse_targets(false);
    if (!is_name("in")) unexpected("'in'");
    next();
    s->expr = parse_tuple(false);
    if (is_name("if")) {
      next();
      s->cond = parse_expr(true);
    }
    if (is_name("recursive")) error("recursive for loops are not supported");
    expect_block_end();
    ++loop_depth_;
    std::string found;
    s->body = parse_body({"else", "endfor"}, found);
    --loop_depth_;
    if (found == "else") {
      expect_block_end();
      s->else_body = parse_body({"endfor"}, found);
    }
    expect_block_end();
    return s;
  }

  StmtPtr parse_set(const Token& tag) {
    auto targets = parse_targets(true);
    if (is_op("=")) {
      next();
      auto s = stmt(StmtKind::Set, tag);
      s->targets = std::move(targets);
      s->expr = parse_tuple(true);
      expect_block_end();
      return s;
    }
    if (targets.size() != 1 || !targets[0].attr.empty()) error("a block {% set %} assigns one plain name");
    auto s = stmt(StmtKind::SetBlock, tag);
    s->targets = std::move(targets);
    if (is_op("|")) s->expr = parse_filter_chain();
    expect_block_end();
    std::string found;
    s->body = parse_body({"endset"}, found);
    expect_block_end();
    return s;
  }

  std::vector<Param> parse_params() {
    std::vector<Param> params;
    expect_op("(");
    while (!is_op(")")) {
      if (!params.empty()) expect_op(",");
      if (is_op(")")) break;
      Param p;
      p.name = expect_name();
      if (is_op("=")) {
        next();
        p.default_value = parse_expr(true);
      }
      params.push_back(std::move(p));
    }
    next();
    return params;
  }

  StmtPtr parse_macro(const Token& tag) {
    auto s = stmt(StmtKind::Macro, tag);
    s->name = expect_name();
    s->params = parse_params();
    expect_block_end();
    int saved = loop_depth_;
    loop_depth_ = 0;
    std::string found;
    s->body = parse_body({"endmacro"}, found);
    loop_depth_ = saved;
    if (cur().type == Tok::Name && cur().value == s->name) next();
    expect_block_end();
    return s;
  }

  StmtPtr parse_call_block(const Token& tag) {
    auto s = stmt(StmtKind::CallBlock, tag);
    if (is_op("(")) s->params = parse_params();
    s->expr = parse_expr(true);
    if (s->expr->kind != ExprKind::Call) syntax_error(s->expr->line, s->expr->col, "{% call %} expects a call");
    expect_block_end();
    int saved = loop_depth_;
    loop_depth_ = 0;
    std::string found;
    s->body = parse_body({"endcall"}, found);
    loop_depth_ = saved;
    expect_block_end();
    return s;
  }

  // |f(args)|g ... with no input (the block's output is the input)
  ExprPtr parse_filter_chain() {
    ExprPtr chain;
    bool first = true;
    while (first || is_op("|")) {
      if (!first || is_op("|")) next();
      first = false;
      chain = parse_filter_tail(std::move(chain));
    }
    return chain;
  }

  StmtPtr parse_filter_block(const Token& tag) {
    auto s = stmt(StmtKind::FilterBlock, tag);
    s->expr = parse_filter_chain();
    expect_block_end();
    std::string found;
    s->body = parse_body({"endfilter"}, found);
    expect_block_end();
    return s;
  }

  StmtPtr parse_with(const Token& tag) {
    auto s = stmt(StmtKind::With, tag);
    while (cur().type != Tok::BlockEnd) {
      if (!s->assigns.empty()) expect_op(",");
      std::string name = expect_name();
      expect_op("=");
      s->assigns.emplace_back(std::move(name), parse_expr(true));
    }
    expect_block_end();
    std::string found;
    s->body = parse_body({"endwith"}, found);
    expect_block_end();
    return s;
  }

  // ---- expressions ----

  bool starts_expr() const {
    const Token& t = cur();
    switch (t.type) {
      case Tok::Name: return t.value != "in" && t.value != "if" && t.value != "else" && t.value != "recursive";
      case Tok::String:
      case Tok::Int:
      case Tok::Float: return true;
      case Tok::Op: return t.value == "(" || t.value == "[" || t.value == "{" || t.value == "-" || t.value == "+";
      default: return false;
    }
  }

  // expr [, expr ...] -> a tuple when there is a comma
  ExprPtr parse_tuple(bool with_condexpr) {
    const Token at = cur();
    ExprPtr first = parse_expr(with_condexpr);
    if (!is_op(",")) return first;
    auto t = node(ExprKind::Tuple, at);
    t->items.push_back(std::move(first));
    while (is_op(",")) {
      next();
      if (!starts_expr()) break;
      t->items.push_back(parse_expr(with_condexpr));
    }
    return finish(std::move(t));
  }

  ExprPtr parse_expr(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

  ExprPtr parse_condexpr() {
    Nest guard(*this);
    const Token at = cur();
    ExprPtr e = parse_or();
    while (is_name("if")) {
      next();
      auto c = node(ExprKind::Cond, at);
      c->b = parse_or();
      if (is_name("else")) {
        next();
        c->c = parse_condexpr();
      }
      c->a = std::move(e);
      e = finish(std::move(c));
    }
    return e;
  }

  ExprPtr parse_or() {
    const Token at = cur();
    ExprPtr e = parse_and();
    while (is_name("or")) {
      next();
      e = binary(ExprKind::Or, at, "or", std::move(e), parse_and());
    }
    return e;
  }

  ExprPtr parse_and() {
    const Token at = cur();
    ExprPtr e = parse_not();
    while (is_name("and")) {
      next();
      e = binary(ExprKind::And, at, "and", std::move(e), parse_not());
    }
    return e;
  }

  ExprPtr parse_not() {
    Nest guard(*this);
    if (is_name("not")) {
      const Token at = cur();
      next();
      auto e = node(ExprKind::Unary, at);
      e->name = "not";
      e->a = parse_not();
      return finish(std::move(e));
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const Token at = cur();
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (cur().type == Tok::Op &&
          (cur().value == "==" || cur().value == "!=" || cur().value == "<" || cur().value == "<=" ||
           cur().value == ">" || cur().value == ">=")) {
        op = cur().value;
        next();
      } else if (is_name("in")) {
        op = "in";
        next();
      } else if (is_name("not") && peek().type == Tok::Name && peek().value == "in") {
        op = "not in";
        next();
        next();
      } else {
        break;
      }
      if (!cmp) {
        cmp = node(ExprKind::Compare, at);
        cmp->items.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->items.push_back(parse_math1());
    }
    return cmp ? finish(std::move(cmp)) : std::move(first);
  }

  ExprPtr parse_math1() {
    const Token at = cur();
    ExprPtr e = parse_concat();
    while (is_op("+") || is_op("-")) {
      std::string op = cur().value;
      next();
      e = binary(ExprKind::Binary, at, op, std::move(e), parse_concat());
    }
    return e;
  }

  ExprPtr parse_concat() {
    const Token at = cur();
    ExprPtr e = parse_math2();
    while (is_op("~")) {
      next();
      e = binary(ExprKind::Binary, at, "~", std::move(e), parse_math2());
    }
    return e;
  }

  ExprPtr parse_math2() {
    const Token at = cur();
    ExprPtr e = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      std::string op = cur().value;
      next();
      e = binary(ExprKind::Binary, at, op, std::move(e), parse_pow());
    }
    return e;
  }

  ExprPtr parse_pow() {
    const Token at = cur();
    ExprPtr e = parse_unary(true);
    while (is_op("**")) {
      next();
      e = binary(ExprKind::Binary, at, "**", std::move(e), parse_unary(true));
    }
    return e;
  }

  ExprPtr parse_unary(bool with_filter) {
    Nest guard(*this);
    const Token at = cur();
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      std::string op = cur().value;
      next();
      e = node(ExprKind::Unary, at);
      e->name = op;
      e->a = parse_unary(false);
      e = finish(std::move(e));
    } else {
      e = parse_primary();
    }
    e = parse_postfix(std::move(e));
    if (with_filter) e = parse_filter_expr(std::move(e));
    return e;
  }

  ExprPtr constant(const Token& at, Value v) {
    auto e = node(ExprKind::Const, at);
    e->value = std::move(v);
    return e;
  }

  ExprPtr parse_primary() {
    const Token at = cur();
    switch (at.type) {
      case Tok::Name: {
        next();
        const std::string& n = at.value;
        if (n == "true" || n == "True") return constant(at, Value::boolean(true));
        if (n == "false" || n == "False") return constant(at, Value::boolean(false));
        if (n == "none" || n == "None") return constant(at, Value::none());
        auto e = node(ExprKind::Name, at);
        e->name = n;
        return e;
      }
      case Tok::String: {
        std::string s;
        while (cur().type == Tok::String) {  // adjacent literals concatenate
          s += cur().value;
          next();
        }
        return constant(at, Value::string(std::move(s)));
      }
      case Tok::Int: next(); return constant(at, Value::integer(at.ival));
      case Tok::Float: next(); return constant(at, Value::number(at.fval));
      case Tok::Op:
        if (at.value == "(") {
          next();
          if (is_op(")")) {
            next();
            return finish(node(ExprKind::Tuple, at));
          }
          ExprPtr first = parse_expr(true);
          if (is_op(")")) {
            next();
            return first;
          }
          auto t = node(ExprKind::Tuple, at);
          t->items.push_back(std::move(first));
          while (is_op(",")) {
            next();
            if (is_op(")")) break;
            t->items.push_back(parse_expr(true));
          }
          expect_op(")");
          return finish(std::move(t));
        }
        if (at.value == "[") {
          next();
          auto l = node(ExprKind::List, at);
          while (!is_op("]")) {
            if (!l->items.empty()) expect_op(",");
            if (is_op("]")) break;
            l->items.push_back(parse_expr(true));
          }
          next();
          return finish(std::move(l));
        }
        if (at.value == "{") {
          next();
          auto d = node(ExprKind::Dict, at);
          while (!is_op("}")) {
            if (!d->items.empty()) expect_op(",");
            if (is_op("}")) break;
            d->items.push_back(parse_expr(true));
            expect_op(":");
            d->items.push_back(parse_expr(true));
          }
          next();
          return finish(std::move(d));
        }
        break;
      default: break;
    }
    unexpected("an expression");
  }

  ExprPtr parse_postfix(ExprPtr e) {
    while (true) {
      const Token at = cur();
      if (is_op(".")) {
        next();
        if (cur().type == Tok::Name) {
          auto g = node(ExprKind::GetAttr, at);
          g->name = cur().value;
          next();
          g->a = std::move(e);
          e = finish(std::move(g));
        } else if (cur().type == Tok::Int) {
          auto g = node(ExprKind::GetItem, at);
          g->b = constant(cur(), Value::integer(cur().ival));
          next();
          g->a = std::move(e);
          e = finish(std::move(g));
        } else {
          unexpected("an attribute name");
        }
      } else if (is_op("[")) {
        next();
        e = parse_subscript(std::move(e), at);
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr obj, const Token& at) {
    ExprPtr start, stop, step;
    if (!is_op(":")) {
      start = parse_expr(true);
      if (is_op("]")) {
        next();
        auto g = node(ExprKind::GetItem, at);
        g->a = std::move(obj);
        g->b = std::move(start);
        return finish(std::move(g));
      }
    }
    expect_op(":");
    if (!is_op("]") && !is_op(":")) stop = parse_expr(true);
    if (is_op(":")) {
      next();
      if (!is_op("]")) step = parse_expr(true);
    }
    expect_op("]");
    auto s = node(ExprKind::Slice, at);
    s->a = std::move(obj);
    s->items.push_back(std::move(start));
    s->items.push_back(std::move(stop));
    s->items.push_back(std::move(step));
    return finish(std::move(s));
  }

  void parse_call_args(Expr& e) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (is_op(")")) break;
      if (is_op("*") || is_op("**")) error("*args / **kwargs in calls are not supported");
      if (cur().type == Tok::Name && peek().type == Tok::Op && peek().value == "=") {
        std::string k = cur().value;
        next();
        next();
        e.kwargs.emplace_back(std::move(k), parse_expr(true));
      } else {
        if (!e.kwargs.empty()) error("positional argument after a keyword argument");
        e.args.push_back(parse_expr(true));
      }
    }
    next();
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto c = node(ExprKind::Call, cur());
    c->a = std::move(callee);
    parse_call_args(*c);
    return finish(std::move(c));
  }

  ExprPtr parse_filter_expr(ExprPtr e) {
    while (true) {
      if (is_op("|")) {
        next();
        e = parse_filter_tail(std::move(e));
      } else if (is_name("is")) {
        e = parse_test(std::move(e));
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  // after "|": name[.name](args)
  ExprPtr parse_filter_tail(ExprPtr input) {
    const Token at = cur();
    std::string name = expect_name();
    while (is_op(".")) {
      next();
      name += "." + expect_name();
    }
    if (!find_filter(name)) syntax_error(at.line, at.col, "unknown filter '" + name + "'");
    auto f = node(ExprKind::Filter, at);
    f->name = std::move(name);
    f->a = std::move(input);
    if (is_op("(")) parse_call_args(*f);
    return finish(std::move(f));
  }

  ExprPtr parse_test(ExprPtr input) {
    next();  // is
    auto t = node(ExprKind::Test, cur());
    if (is_name("not")) {
      t->negated = true;
      next();
    }
    const Token at = cur();
    std::string name = expect_name();
    while (is_op(".")) {
      next();
      name += "." + expect_name();
    }
    if (!find_test(name)) syntax_error(at.line, at.col, "unknown test '" + name + "'");
    t->name = std::move(name);
    t->a = std::move(input);
    if (is_op("(")) {
      parse_call_args(*t);
    } else if ((cur().type == Tok::Name || cur().type == Tok::String || cur().type == Tok::Int ||
                cur().type == Tok::Float || is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) error("cannot chain multiple tests with 'is'");
      t->args.push_back(parse_postfix(parse_primary()));
    }
    return finish(std::move(t));
  }
};

}  // namespace

Body parse(std::string_view source) { return Parser(tokenize(source)).parse_template(); }

}  // namespace s1::jinja
