#include "util/csv.h"

#include "core/error.h"

namespace s1::util {

std::vector<CsvRow> parse_csv(std::string_view text, const std::string& name, CsvQuotes quotes) {
  const bool strict = quotes == CsvQuotes::Strict;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte-order mark
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string field;
  bool in_quotes = false;        // inside "..."
  bool quoted = false;           // the current field had a quoted part that is now closed
  bool row_has_content = false;  // a comma, a quote or a character: the line is not blank
  size_t line = 1, quote_line = 0;
  auto end_field = [&] {
    row.push_back(std::move(field));
    field.clear();
    quoted = false;
  };
  auto end_row = [&] {
    if (row_has_content || !row.empty() || !field.empty()) {
      end_field();
      rows.push_back(std::move(row));
    }
    row.clear();
    field.clear();
    quoted = false;
    row_has_content = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;  // a CR inside quotes is kept, as the file has it
      }
      continue;
    }
    if (c == '"' && field.empty() && !quoted) {
      in_quotes = quoted = row_has_content = true;
      quote_line = line;
    } else if (c == ',') {
      row_has_content = true;
      end_field();
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;  // CRLF is one line end
      end_row();
      ++line;
    } else {
      if (strict && c == '"') fail(name, ":", line, ": a quote inside an unquoted field");
      if (strict && quoted) fail(name, ":", line, ": text after a closing quote");
      field += c;
      row_has_content = true;
    }
  }
  if (in_quotes) fail(name, ":", quote_line, ": a quoted field is never closed");
  end_row();
  return rows;
}

size_t CsvTable::column(const std::string& col, const std::string& name) const {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == col) return i;
  fail(name, ": no column '", col, "'");
}

CsvTable parse_csv_table(std::string_view text, const std::string& name) {
  std::vector<CsvRow> rows = parse_csv(text, name, CsvQuotes::Strict);
  if (rows.empty()) fail(name, ": empty CSV (no header)");
  CsvTable t;
  t.header = std::move(rows[0]);
  for (size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].size() != t.header.size())
      fail(name, ": row ", i, " has ", rows[i].size(), " fields, the header ", t.header.size());
    t.rows.push_back(std::move(rows[i]));
  }
  return t;
}

}  // namespace s1::util
