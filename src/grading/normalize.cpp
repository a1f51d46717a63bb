#include "grading/normalize.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>
#include <unordered_set>

namespace s1::grading {

namespace {

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  if (from.empty() || s.find(from) == std::string::npos) return s;
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  for (;;) {
    size_t at = s.find(from, i);
    if (at == std::string::npos) break;
    out.append(s, i, at - i);
    out.append(to);
    i = at + from.size();
  }
  out.append(s, i, std::string::npos);
  return out;
}

// Unicode spellings of LaTeX notation that models sometimes produce.
std::string replace_unicode(std::string s) {
  static const std::pair<const char*, const char*> table[] = {
      {"\u2212", "-"},       {"\u2013", "-"},        {"\u00d7", "\\times "}, {"\u00b7", "\\cdot "},
      {"\u22c5", "\\cdot "}, {"\u03c0", "\\pi "},    {"\u221a", "\\sqrt"},   {"\u221e", "\\infty "},
      {"\u00b0", ""},        {"\u2264", "\\le "},    {"\u2265", "\\ge "},    {"\u00a0", " "},
      {"\u2009", " "},       {"\u222a", "\\cup "},
  };
  for (auto& [from, to] : table) s = replace_all(std::move(s), from, to);
  return s;
}

enum class Action { Drop, Space, Rename, Unwrap };
struct Rule {
  Action action;
  const char* to = "";
};

const std::unordered_map<std::string, Rule>& command_rules() {
  static const std::unordered_map<std::string, Rule> rules = [] {
    std::unordered_map<std::string, Rule> r;
    for (const char* n : {"left", "right", "bigl", "bigr", "Bigl", "Bigr", "big", "Big", "bigg", "Bigg", "biggl",
                          "biggr", "displaystyle", "textstyle", "limits", "$", "%", "(", ")", "[", "]", "degree",
                          "circ", "mathstrut"})
      r[n] = {Action::Drop};
    for (const char* n : {",", "!", ";", ":", " ", "quad", "qquad", "enspace", "thinspace", "medspace",
                          "thickspace", "negthinspace"})
      r[n] = {Action::Space};
    for (const char* n : {"dfrac", "tfrac", "cfrac"}) r[n] = {Action::Rename, "\\frac"};
    for (const char* n : {"dbinom", "tbinom"}) r[n] = {Action::Rename, "\\binom"};
    r["lbrace"] = {Action::Rename, "\\{"};
    r["langle"] = {Action::Rename, "("};  // vectors: \langle 1, 2 \rangle is the tuple (1, 2)
    r["rangle"] = {Action::Rename, ")"};
    r["rbrace"] = {Action::Rename, "\\}"};
    for (const char* n : {"leq", "leqslant", "le"}) r[n] = {Action::Rename, "\\le"};
    for (const char* n : {"geq", "geqslant", "ge"}) r[n] = {Action::Rename, "\\ge"};
    for (const char* n : {"neq", "ne"}) r[n] = {Action::Rename, "\\ne"};
    for (const char* n : {"inf", "infinity"}) r[n] = {Action::Rename, "\\infty"};
    for (const char* n : {"text", "textbf", "textit", "textrm", "textnormal", "textsf", "texttt", "mathrm",
                          "mathbf", "mathit", "mathsf", "mathtt", "mathnormal", "mbox", "hbox", "boxed", "fbox",
                          "operatorname", "emph"})
      r[n] = {Action::Unwrap};
    return r;
  }();
  return rules;
}

// One pass over the text, command by command: drops presentation macros, renames
// synonyms, unwraps \text{...}-like wrappers (their closing brace is dropped too).
std::string rewrite_commands(std::string_view s) {
  const auto& rules = command_rules();
  std::string out;
  out.reserve(s.size());
  std::vector<bool> wrapper_braces;  // per open '{': does its '}' close a wrapper?
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '{') {
      wrapper_braces.push_back(false);
      out.push_back(c);
      ++i;
    } else if (c == '}') {
      if (!wrapper_braces.empty() && wrapper_braces.back())
        out.push_back(' ');
      else
        out.push_back('}');
      if (!wrapper_braces.empty()) wrapper_braces.pop_back();
      ++i;
    } else if (c == '$' || c == '%' || c == '~') {
      if (c == '~') out.push_back(' ');
      ++i;
    } else if (c == '\\') {
      size_t b = i + 1, e = b;
      while (e < s.size() && is_letter(s[e])) ++e;
      if (e == b && e < s.size()) ++e;  // one-character command
      std::string name(s.substr(b, e - b));
      auto it = rules.find(name);
      if (name == "\\") {
        out.append("\\\\");
        i = e;
        continue;
      }
      if (it == rules.end()) {
        out.append(s.substr(i, e - i));
        i = e;
        continue;
      }
      i = e;
      switch (it->second.action) {
        case Action::Drop:
          if ((name == "left" || name == "right") && i < s.size() && s[i] == '.') ++i;  // \left. \right.
          break;
        case Action::Space:
          out.push_back(' ');
          break;
        case Action::Rename:
          out.append(it->second.to);
          if (i < s.size() && is_letter(s[i])) out.push_back(' ');
          break;
        case Action::Unwrap: {
          size_t j = i;
          while (j < s.size() && is_space(s[j])) ++j;
          if (j < s.size() && s[j] == '{') {
            out.push_back(' ');
            wrapper_braces.push_back(true);
            i = j + 1;
          }
          break;
        }
      }
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

std::string collapse_spaces(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending = false;
  for (char c : s) {
    if (is_space(c)) {
      pending = !out.empty();
      continue;
    }
    if (pending) out.push_back(' ');
    pending = false;
    out.push_back(c);
  }
  return out;
}

// Words that name a unit or a count; removed only at the end of an answer, after a
// number. Two letters or more: single letters (m, s, g...) are variables as often as units.
const std::unordered_set<std::string>& unit_words() {
  static const std::unordered_set<std::string> w = {
      "unit", "units", "square", "squared", "sq", "cubic", "cm", "centimeter", "centimeters", "centimetre",
      "centimetres", "mm", "millimeter", "millimeters", "meter", "meters", "metre", "metres", "km",
      "kilometer", "kilometers", "inch", "inches", "ft", "foot", "feet", "yard", "yards", "yd", "mile",
      "miles", "mph", "kph", "hour", "hours", "hr", "hrs", "minute", "minutes", "min", "mins", "second",
      "seconds", "sec", "secs", "day", "days", "week", "weeks", "month", "months", "year", "years", "degree",
      "degrees", "deg", "radian", "radians", "rad", "dollar", "dollars", "cent", "cents", "percent",
      "people", "person", "persons", "students", "student", "ways", "way", "points", "point", "liter",
      "liters", "litre", "litres", "ml", "gallon", "gallons", "pound", "pounds", "lb", "lbs", "ounce",
      "ounces", "oz", "gram", "grams", "kg", "kilogram", "kilograms", "ton", "tons", "cup", "cups", "times",
      "coins", "marbles", "apples", "numbers", "integers", "values", "solutions", "digits", "sides",
      "edges", "vertices", "faces", "games", "handshakes", "pages", "dots", "squares", "triangles",
      "boxes", "books", "cookies", "eggs", "feet", "inches", "calories", "mm^2", "cm^2", "m^2", "km^2",
      "in^2", "ft^2", "cm^3", "m^3", "in^3", "ft^3"};
  return w;
}

std::string lower(std::string_view s) {
  std::string o(s);
  for (char& c : o) c = char(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

// Drops trailing unit words ("5 cm", "100 square units", "30 cm^2") from a text that keeps
// something before them; stops at the first word that is not a unit.
std::string strip_trailing_units(std::string s) {
  for (int round = 0; round < 6; ++round) {
    size_t end = s.size();
    // an optional power after the unit: ^2, ^{2}, ^3
    size_t word_end = end;
    if (end >= 2 && s[end - 2] == '^' && is_digit(s[end - 1]))
      word_end = end - 2;
    else if (end >= 4 && s.compare(end - 4, 2, "^{") == 0 && is_digit(s[end - 2]) && s[end - 1] == '}')
      word_end = end - 4;
    if (word_end != end)
      while (word_end > 0 && is_space(s[word_end - 1])) --word_end;  // "cm ^2"
    size_t b = word_end;
    while (b > 0 && (is_letter(s[b - 1]) || s[b - 1] == '.')) --b;
    if (b == word_end || b == 0) break;
    if (s[b - 1] == '\\') break;  // a command, not a word
    std::string word = lower(std::string_view(s).substr(b, word_end - b));
    while (!word.empty() && word.back() == '.') word.pop_back();
    if (!unit_words().count(word)) break;
    char before = s[b - 1];
    if (!(is_space(before) || is_digit(before) || before == '}' || before == ')')) break;
    std::string rest = s.substr(0, b);
    while (!rest.empty() && is_space(rest.back())) rest.pop_back();
    if (rest.empty()) break;
    s = std::move(rest);
  }
  return s;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_digit(c); });
}

// "1,000,000" / "-12,345.5" -> digits only; anything else unchanged.
std::string drop_thousands_separators(const std::string& s) {
  std::string_view v = s;
  size_t start = (!v.empty() && (v[0] == '-' || v[0] == '+')) ? 1 : 0;
  size_t dot = v.find('.');
  std::string_view int_part = v.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
  if (dot != std::string_view::npos && !all_digits(v.substr(dot + 1))) return s;
  if (int_part.find(',') == std::string_view::npos) return s;
  size_t first = int_part.find(',');
  if (first == 0 || first > 3 || !all_digits(int_part.substr(0, first))) return s;
  for (size_t p = first; p < int_part.size(); p += 4) {
    if (int_part[p] != ',' || p + 4 > int_part.size() || !all_digits(int_part.substr(p + 1, 3))) return s;
    if (p + 4 < int_part.size() && int_part[p + 4] != ',') return s;
  }
  std::string out;
  for (char c : s)
    if (c != ',') out.push_back(c);
  return out;
}

bool is_open(std::string_view s, size_t i, size_t* len) {
  if (s[i] == '(' || s[i] == '[' || s[i] == '{') {
    *len = 1;
    return true;
  }
  if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '{') {
    *len = 2;
    return true;
  }
  return false;
}

bool is_close(std::string_view s, size_t i, size_t* len) {
  if (s[i] == ')' || s[i] == ']' || s[i] == '}') {
    *len = 1;
    return true;
  }
  if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '}') {
    *len = 2;
    return true;
  }
  return false;
}

std::string trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

// A name that can stand on the left of "x = ...": x, x_1, a_{n}, \theta, f(x), AB.
bool is_variable_name(std::string_view s) {
  std::string t = trim(s);
  std::string_view v = t;
  if (v.empty()) return false;
  size_t i = 0;
  if (v[0] == '\\') {
    i = 1;
    while (i < v.size() && is_letter(v[i])) ++i;
    if (i == 1) return false;
  } else if (is_letter(v[0])) {
    i = 1;
    // two or three capitals name a segment or an angle: AB = 5
    while (i < v.size() && i < 3 && std::isupper(static_cast<unsigned char>(v[0])) &&
           std::isupper(static_cast<unsigned char>(v[i])))
      ++i;
  } else {
    return false;
  }
  if (i < v.size() && v[i] == '_') {
    ++i;
    if (i < v.size() && v[i] == '{') {
      size_t close = v.find('}', i);
      if (close == std::string_view::npos) return false;
      i = close + 1;
    } else if (i < v.size() && (is_letter(v[i]) || is_digit(v[i]))) {
      ++i;
    } else {
      return false;
    }
  }
  while (i < v.size() && v[i] == '\'') ++i;
  if (i < v.size() && v[i] == '(') {  // f(x), P(A)
    size_t close = v.find(')', i);
    if (close == std::string_view::npos || close + 1 != v.size()) return false;
    std::string_view inner = v.substr(i + 1, close - i - 1);
    if (inner.find_first_of("()=") != std::string_view::npos) return false;
    i = close + 1;
  }
  return i == v.size();
}

}  // namespace

std::string normalize(std::string_view answer) {
  std::string s = replace_unicode(std::string(answer));
  s = replace_all(std::move(s), "{,}", "");  // 1{,}000
  for (const char* deg : {"^{\\circ}", "^\\circ", "^{\\circ }", "^{ \\circ }", "^\\degree", "^{\\degree}"})
    s = replace_all(std::move(s), deg, "");
  s = rewrite_commands(s);
  s = collapse_spaces(s);
  for (int round = 0; round < 4; ++round) {
    size_t before = s.size();
    while (!s.empty() && (s.back() == '.' || s.back() == ',' || s.back() == ';' || is_space(s.back()))) {
      // keep "5." of a decimal? "5." is 5 either way; keep "\ldots"-free text
      s.pop_back();
    }
    s = strip_trailing_units(s);
    if (s.size() == before) break;
  }
  s = drop_thousands_separators(s);
  return s;
}

std::string compact(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (!is_space(s[i])) {
      out.push_back(s[i]);
      continue;
    }
    // keep one space after a command name when a letter follows: "\pi r" != "\pir"
    size_t j = i;
    while (j < s.size() && is_space(s[j])) ++j;
    if (j < s.size() && is_letter(s[j])) {
      size_t k = out.size();
      while (k > 0 && is_letter(out[k - 1])) --k;
      if (k > 0 && k < out.size() && out[k - 1] == '\\') out.push_back(' ');
    }
    i = j - 1;
  }
  return out;
}

std::string strip_variable_prefix(std::string_view s) {
  int depth = 0;
  size_t eq = std::string_view::npos, eq_len = 0;
  int count = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    size_t len;
    if (is_open(s, i, &len)) {
      ++depth;
      i += len - 1;
    } else if (is_close(s, i, &len)) {
      --depth;
      i += len - 1;
    } else if (depth == 0 && s[i] == '=') {
      ++count;
      eq = i;
      eq_len = 1;
    } else if (depth == 0 && s.compare(i, 3, "\\in") == 0 && (i + 3 >= s.size() || !is_letter(s[i + 3]))) {
      ++count;
      eq = i;
      eq_len = 3;
    }
  }
  if (count != 1) return std::string(s);
  std::string_view lhs = s.substr(0, eq);
  std::string rhs = trim(s.substr(eq + eq_len));
  if (rhs.empty() || !is_variable_name(lhs)) return std::string(s);
  return rhs;
}

std::vector<std::string> split_top_level_list(std::string_view s) {
  std::vector<std::string> parts;
  int depth = 0;
  size_t start = 0;
  auto push = [&](size_t end) {
    std::string p = trim(s.substr(start, end - start));
    parts.push_back(std::move(p));
  };
  for (size_t i = 0; i < s.size(); ++i) {
    size_t len;
    if (is_open(s, i, &len)) {
      ++depth;
      i += len - 1;
      continue;
    }
    if (is_close(s, i, &len)) {
      --depth;
      i += len - 1;
      continue;
    }
    if (depth != 0) continue;
    if (s[i] == ',' || s[i] == ';') {
      push(i);
      start = i + 1;
      continue;
    }
    // the words "or" / "and" between answers (from \text{ or })
    for (std::string_view word : {std::string_view(" or "), std::string_view(" and ")}) {
      if (s.compare(i, word.size(), word) == 0) {
        push(i);
        start = i + word.size();
        i += word.size() - 2;
        break;
      }
    }
  }
  push(s.size());
  // a trailing separator ("1, 2,") leaves an empty part: not an element
  parts.erase(std::remove_if(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); }),
              parts.end());
  return parts;
}

}  // namespace s1::grading
