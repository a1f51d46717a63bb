// RFC 4180 CSV: comma-separated, fields optionally in double quotes ("" is a quote inside
// one), quoted fields may hold commas and line breaks, CRLF or LF line ends, an optional
// UTF-8 byte-order mark. Enough for GPQA's CSV files (multi-line questions in quotes).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace s1::eval {

using CsvRow = std::vector<std::string>;

// Every row, the header included; blank lines are skipped. Throws s1::Error naming `name`
// and the line of an unterminated quote or of text after a closing quote.
std::vector<CsvRow> parse_csv(std::string_view text, const std::string& name);

// A table with a header: rows as maps from column name.
struct CsvTable {
  CsvRow header;
  std::vector<CsvRow> rows;
  // The column's index; throws naming `name` and the missing column.
  size_t column(const std::string& col, const std::string& name) const;
};
// Rows shorter or longer than the header are errors naming their line.
CsvTable parse_csv_table(std::string_view text, const std::string& name);

}  // namespace s1::eval
