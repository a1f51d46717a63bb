// Lexer: template source -> token stream. Applies Jinja's whitespace rules the way
// transformers configures them: trim_blocks (a newline right after %} or #} goes),
// lstrip_blocks (spaces before {% / {# at the start of a line go), keep_trailing_newline
// off, and the explicit {%- -%} {{- -}} {#- -#} / {%+ +%} markers. Newlines are
// normalised to \n first, as Jinja does.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace s1::jinja {

enum class Tok : uint8_t {
  Text,        // literal template text (value)
  VarBegin,    // {{
  VarEnd,      // }}
  BlockBegin,  // {%
  BlockEnd,    // %}
  Name,        // identifier or keyword (value)
  String,      // string literal, escapes decoded (value)
  Int,         // integer literal (ival)
  Float,       // float literal (fval)
  Op,          // operator or bracket (value)
  Eof,
};

struct Token {
  Tok type = Tok::Eof;
  std::string value;
  int64_t ival = 0;
  double fval = 0;
  int line = 1, col = 1;
};

// Throws s1::Error "chat template syntax error at line L, column C: ..." on bad input.
std::vector<Token> tokenize(std::string_view source);

// The message format of every syntax error (lexer and parser).
[[noreturn]] void syntax_error(int line, int col, const std::string& what);

}  // namespace s1::jinja
