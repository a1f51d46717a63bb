// Parser: token stream -> syntax tree, following jinja2/parser.py's grammar and
// operator precedence (lowest first): `x if c else y`, or, and, not, comparisons and
// in/not in, + -, ~, * / // %, **, unary - +, then postfix . [] () and |filter / is test.
#pragma once
#include <string_view>

#include "chat/jinja_ast.h"

namespace s1::jinja {

// Throws s1::Error naming line and column on a syntax error, an unknown tag, filter
// or test, or nesting beyond kMaxTreeDepth.
Body parse(std::string_view source);

}  // namespace s1::jinja
