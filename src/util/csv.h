// RFC 4180 CSV: comma-separated, fields optionally in double quotes ("" is a quote inside
// one), quoted fields may hold commas and line breaks; CRLF, LF or a lone CR ends a line;
// an optional UTF-8 byte-order mark. Enough for GPQA's files and the AIME pool
// (multi-line questions in quotes).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace s1::util {

using CsvRow = std::vector<std::string>;

// What to do with a quote that RFC 4180 does not allow (inside an unquoted field) or text
// after a closing quote.
enum class CsvQuotes {
  Strict,   // an s1::Error naming the line: files we expect to be well-formed (GPQA in eval)
  Lenient,  // kept as text ("a"b -> ab, x"y -> x"y): third-party scrapes ingested by curate
};

// Every row, the header included; blank lines are skipped. Throws s1::Error naming `name`
// and the line of an unterminated quote (where it opened) or, when strict, of a stray quote.
std::vector<CsvRow> parse_csv(std::string_view text, const std::string& name,
                              CsvQuotes quotes = CsvQuotes::Strict);

// A table with a header (parsed strictly).
struct CsvTable {
  CsvRow header;
  std::vector<CsvRow> rows;
  // The column's index; throws naming `name` and the missing column.
  size_t column(const std::string& col, const std::string& name) const;
};
// Rows shorter or longer than the header are errors naming the row.
CsvTable parse_csv_table(std::string_view text, const std::string& name);

}  // namespace s1::util
