// Jinja lexer (see jinja_lexer.h). Mirrors jinja2/lexer.py: the earliest of {{ {% {#
// starts a tag; an end tag only counts while brackets are balanced, so
// {{ {'a': {'b': 1}} }} works.
#include "chat/jinja_lexer.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "core/error.h"

namespace s1::jinja {

void syntax_error(int line, int col, const std::string& what) {
  fail("chat template syntax error at line ", line, ", column ", col, ": ", what);
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  explicit Lexer(std::string_view source) {
    // newline normalisation (\r\n, \r -> \n) and keep_trailing_newline=False
    src_.reserve(source.size());
    for (size_t i = 0; i < source.size(); ++i) {
      if (source[i] == '\r') {
        src_ += '\n';
        if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
      } else {
        src_ += source[i];
      }
    }
    if (!src_.empty() && src_.back() == '\n') src_.pop_back();
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i) {
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  std::vector<Token> run() {
    size_t pos = 0;
    bool line_starting = true;
    const size_t n = src_.size();
    while (pos < n) {
      size_t t = find_tag(pos);
      if (t == std::string::npos) {
        emit_text(src_.substr(pos), pos);
        break;
      }
      const char kind = src_[t + 1];
      char sign = 0;
      if (t + 2 < n && (src_[t + 2] == '-' || src_[t + 2] == '+')) sign = src_[t + 2];
      std::string text = src_.substr(pos, t - pos);
      size_t raw_body = kind == '%' ? match_raw_begin(t) : std::string::npos;
      strip_before(text, sign, kind != '{', line_starting);
      emit_text(std::move(text), pos);
      size_t p = t + 2 + (sign ? 1 : 0);
      if (raw_body != std::string::npos) {
        pos = lex_raw(t, raw_body, line_starting);
      } else if (kind == '#') {
        pos = lex_comment(t, p, line_starting);
      } else {
        pos = lex_tag(t, p, kind == '%', line_starting);
      }
    }
    Token eof;
    eof.type = Tok::Eof;
    locate(eof, n);
    out_.push_back(std::move(eof));
    return std::move(out_);
  }

 private:
  std::string src_;
  std::vector<size_t> line_starts_;
  std::vector<Token> out_;

  void locate(Token& t, size_t pos) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), pos);
    size_t line = static_cast<size_t>(it - line_starts_.begin());
    t.line = static_cast<int>(line);
    t.col = static_cast<int>(pos - line_starts_[line - 1] + 1);
  }
  [[noreturn]] void error_at(size_t pos, const std::string& what) const {
    Token t;
    locate(t, pos);
    syntax_error(t.line, t.col, what);
  }

  size_t find_tag(size_t pos) const {
    for (size_t i = src_.find('{', pos); i != std::string::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string::npos;
  }

  void emit_text(std::string text, size_t pos) {
    if (text.empty()) return;
    Token t;
    t.type = Tok::Text;
    t.value = std::move(text);
    locate(t, pos);
    out_.push_back(std::move(t));
  }

  // Whitespace before a tag: "-" strips all of it; lstrip_blocks strips spaces between
  // the start of the line and a {% or {# tag.
  static void strip_before(std::string& text, char sign, bool lstrip_kind, bool line_starting) {
    if (sign == '-') {
      size_t e = text.size();
      while (e > 0 && is_space(text[e - 1])) --e;
      text.resize(e);
    } else if (sign != '+' && lstrip_kind) {
      size_t nl = text.rfind('\n');
      size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
      if (l_pos > 0 || line_starting) {
        bool all_ws = l_pos < text.size();
        for (size_t i = l_pos; i < text.size(); ++i) all_ws = all_ws && is_space(text[i]);
        if (all_ws) text.resize(l_pos);
      }
    }
  }

  // After an end tag: "-" eats all following whitespace; trim_blocks eats one newline.
  size_t strip_after(size_t pos, char sign, bool trim_newline, bool& line_starting) const {
    const size_t start = pos;
    if (sign == '-') {
      while (pos < src_.size() && is_space(src_[pos])) ++pos;
    } else if (sign != '+' && trim_newline && pos < src_.size() && src_[pos] == '\n') {
      ++pos;
    }
    line_starting = pos > start && src_[pos - 1] == '\n';
    return pos;
  }

  // {% raw %} (with optional -/+ markers): returns the position after its %}, else npos.
  size_t match_raw_begin(size_t t) const {
    size_t p = t + 2;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ++p;
    while (p < src_.size() && is_space(src_[p])) ++p;
    if (src_.compare(p, 3, "raw") != 0) return std::string::npos;
    p += 3;
    if (p < src_.size() && is_name_char(src_[p])) return std::string::npos;
    while (p < src_.size() && is_space(src_[p])) ++p;
    if (src_.compare(p, 3, "-%}") == 0) {
      p += 3;
      while (p < src_.size() && is_space(src_[p])) ++p;
      return p;
    }
    if (src_.compare(p, 2, "%}") == 0) return p + 2;
    return std::string::npos;
  }

  size_t lex_raw(size_t tag, size_t body, bool& line_starting) {
    // find {%[-+]? endraw [-+]?%}
    for (size_t i = src_.find("{%", body); i != std::string::npos; i = src_.find("{%", i + 1)) {
      size_t p = i + 2;
      char sign = 0;
      if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) sign = src_[p++];
      while (p < src_.size() && is_space(src_[p])) ++p;
      if (src_.compare(p, 6, "endraw") != 0) continue;
      p += 6;
      while (p < src_.size() && is_space(src_[p])) ++p;
      char end_sign = 0;
      if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) end_sign = src_[p++];
      if (src_.compare(p, 2, "%}") != 0) continue;
      std::string text = src_.substr(body, i - body);
      strip_before(text, sign, true, body > 0 && src_[body - 1] == '\n');
      emit_text(std::move(text), body);
      return strip_after(p + 2, end_sign, true, line_starting);
    }
    error_at(tag, "missing {% endraw %} for this {% raw %}");
  }

  size_t lex_comment(size_t tag, size_t body, bool& line_starting) {
    size_t e = src_.find("#}", body);
    if (e == std::string::npos) error_at(tag, "missing end of comment tag '#}'");
    char sign = 0;
    if (e > body && (src_[e - 1] == '-' || src_[e - 1] == '+')) sign = src_[e - 1];
    return strip_after(e + 2, sign, true, line_starting);
  }

  void push(Tok type, size_t pos, std::string value = {}) {
    Token t;
    t.type = type;
    t.value = std::move(value);
    locate(t, pos);
    out_.push_back(std::move(t));
  }

  size_t lex_tag(size_t tag, size_t p, bool block, bool& line_starting) {
    push(block ? Tok::BlockBegin : Tok::VarBegin, tag);
    std::vector<char> balance;
    const size_t n = src_.size();
    while (true) {
      while (p < n && is_space(src_[p])) ++p;
      if (p >= n) error_at(tag, block ? "unexpected end of template, expected '%}'" : "unexpected end of template, expected '}}'");
      if (balance.empty()) {
        const char* close = block ? "%}" : "}}";
        char sign = 0;
        size_t q = p;
        if ((src_[q] == '-' || (block && src_[q] == '+')) && src_.compare(q + 1, 2, close) == 0) sign = src_[q++];
        if (src_.compare(q, 2, close) == 0) {
          push(block ? Tok::BlockEnd : Tok::VarEnd, p);
          return strip_after(q + 2, sign, block, line_starting);
        }
      }
      const char c = src_[p];
      if (is_name_start(c)) {
        size_t s = p;
        while (p < n && is_name_char(src_[p])) ++p;
        push(Tok::Name, s, src_.substr(s, p - s));
      } else if (is_digit(c)) {
        p = lex_number(p);
      } else if (c == '\'' || c == '"') {
        p = lex_string(p);
      } else {
        static const char* const kOps2[] = {"//", "**", "==", "!=", "<=", ">="};
        std::string op;
        for (const char* o : kOps2) {
          if (src_.compare(p, 2, o) == 0) op = o;
        }
        if (op.empty()) {
          if (std::string_view("+-*/%~<>=()[]{},.:|;").find(c) == std::string_view::npos) {
            error_at(p, std::string("unexpected character '") + c + "'");
          }
          op = std::string(1, c);
        }
        if (c == '(' || c == '[' || c == '{') {
          if (balance.size() >= 256) error_at(p, "brackets nested too deeply");
          balance.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
        } else if (c == ')' || c == ']' || c == '}') {
          if (balance.empty()) error_at(p, std::string("unexpected '") + c + "'");
          if (balance.back() != c) error_at(p, std::string("unexpected '") + c + "', expected '" + balance.back() + "'");
          balance.pop_back();
        }
        push(Tok::Op, p, op);
        p += op.size();
      }
    }
  }

  // digits with optional single underscores between them
  size_t scan_digits(size_t p, std::string& digits, int base) const {
    auto ok = [&](char ch) {
      int v = hex_value(ch);
      return v >= 0 && v < base;
    };
    while (p < src_.size()) {
      if (ok(src_[p])) {
        digits += src_[p++];
      } else if (src_[p] == '_' && !digits.empty() && p + 1 < src_.size() && ok(src_[p + 1])) {
        ++p;
      } else {
        break;
      }
    }
    return p;
  }

  size_t lex_number(size_t p) {
    const size_t start = p;
    const bool after_dot = p > 0 && src_[p - 1] == '.';  // foo.0.1 : integer subscripts only
    std::string digits;
    if (src_[p] == '0' && p + 1 < src_.size() && std::string_view("xXoObB").find(src_[p + 1]) != std::string_view::npos) {
      char b = static_cast<char>(src_[p + 1] | 0x20);
      int base = b == 'x' ? 16 : b == 'o' ? 8 : 2;
      p += 2;
      if (p < src_.size() && src_[p] == '_') ++p;
      p = scan_digits(p, digits, base);
      if (digits.empty()) error_at(start, "invalid integer literal");
      push_int(start, digits, base);
      return p;
    }
    p = scan_digits(p, digits, 10);
    if (after_dot) {
      push_int(start, digits, 10);
      return p;
    }
    std::string text = digits;
    bool is_float = false;
    if (p + 1 < src_.size() && src_[p] == '.' && is_digit(src_[p + 1])) {
      std::string frac;
      p = scan_digits(p + 1, frac, 10);
      text += "." + frac;
      is_float = true;
    }
    if (p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
      size_t q = p + 1;
      std::string sign;
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) sign = src_[q++];
      if (q < src_.size() && is_digit(src_[q])) {
        std::string exp;
        p = scan_digits(q, exp, 10);
        text += "e" + sign + exp;
        is_float = true;
      }
    }
    if (is_float) {
      Token t;
      t.type = Tok::Float;
      t.fval = std::strtod(text.c_str(), nullptr);
      t.value = text;
      locate(t, start);
      out_.push_back(std::move(t));
    } else {
      push_int(start, digits, 10);
    }
    return p;
  }

  void push_int(size_t pos, const std::string& digits, int base) {
    int64_t v = 0;
    for (char ch : digits) {
      if (__builtin_mul_overflow(v, int64_t{base}, &v) || __builtin_add_overflow(v, int64_t{hex_value(ch)}, &v)) {
        error_at(pos, "integer literal too large");
      }
    }
    Token t;
    t.type = Tok::Int;
    t.ival = v;
    t.value = digits;
    locate(t, pos);
    out_.push_back(std::move(t));
  }

  // Python string literal with unicode-escape decoding.
  size_t lex_string(size_t p) {
    const size_t start = p;
    const char quote = src_[p++];
    std::string out;
    const size_t n = src_.size();
    while (true) {
      if (p >= n) error_at(start, "unterminated string literal");
      char c = src_[p];
      if (c == quote) {
        ++p;
        break;
      }
      if (c != '\\') {
        out += c;
        ++p;
        continue;
      }
      if (p + 1 >= n) error_at(start, "unterminated string literal");
      char e = src_[p + 1];
      p += 2;
      switch (e) {
        case '\n': break;  // line continuation
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'v': out += '\v'; break;
        case 'x':
        case 'u':
        case 'U': {
          int len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (int k = 0; k < len; ++k) {
            int h = p < n ? hex_value(src_[p]) : -1;
            if (h < 0) error_at(p, std::string("truncated \\") + e + " escape in string literal");
            cp = cp * 16 + static_cast<uint32_t>(h);
            ++p;
          }
          if (cp > 0x10ffff) error_at(start, "invalid unicode escape in string literal");
          append_utf8(out, cp);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && p < n && src_[p] >= '0' && src_[p] <= '7'; ++k) cp = cp * 8 + static_cast<uint32_t>(src_[p++] - '0');
            append_utf8(out, cp);
          } else {
            out += '\\';
            out += e;
          }
      }
    }
    push(Tok::String, start, std::move(out));
    return p;
  }
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) { return Lexer(source).run(); }

}  // namespace s1::jinja
