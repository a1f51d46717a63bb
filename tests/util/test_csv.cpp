// util/csv: the edge cases eval (GPQA, strict) and curate (AIME pool, lenient) rely on.
#include <gtest/gtest.h>

#include "core/error.h"
#include "util/csv.h"

namespace s1::util {
namespace {

std::string error_of(std::string_view text, CsvQuotes q = CsvQuotes::Strict) {
  try {
    parse_csv(text, "t.csv", q);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(UtilCsv, QuotesCommasAndLineBreaks) {
  for (CsvQuotes q : {CsvQuotes::Strict, CsvQuotes::Lenient}) {
    auto rows = parse_csv("\xEF\xBB\xBF" "a,b,c\r\n1,\"x, \"\"y\"\"\nz\",3\n\n4,,6", "t.csv", q);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0], (CsvRow{"a", "b", "c"}));
    EXPECT_EQ(rows[1], (CsvRow{"1", "x, \"y\"\nz", "3"}));
    EXPECT_EQ(rows[2], (CsvRow{"4", "", "6"}));
  }
  auto rows = parse_csv("a,b,c\n\"x, y\",\"he said \"\"hi\"\"\",\"two\nlines\"\r\n1,,3\n", "t.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1], (CsvRow{"x, y", "he said \"hi\"", "two\nlines"}));
  EXPECT_EQ(rows[2], (CsvRow{"1", "", "3"}));
}

TEST(UtilCsv, LineEndsAndBlankLines) {
  // CRLF, LF and a lone CR (old Mac files) all end a line; a CR inside quotes is kept.
  auto rows = parse_csv("a,b\r\n1,2\r3,4\n\"x\ry\",5\r\n\r\n\n", "t.csv");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1], (CsvRow{"1", "2"}));
  EXPECT_EQ(rows[2], (CsvRow{"3", "4"}));
  EXPECT_EQ(rows[3], (CsvRow{"x\ry", "5"}));
  // A line of just a comma or an empty quoted field is a row, not a blank line.
  EXPECT_EQ(parse_csv(",\n\"\"\n", "t.csv"), (std::vector<CsvRow>{{"", ""}, {""}}));
  EXPECT_TRUE(parse_csv("", "t.csv").empty());
  EXPECT_TRUE(parse_csv("\xEF\xBB\xBF\n\n", "t.csv").empty());
  EXPECT_EQ(parse_csv("last,row", "t.csv"), (std::vector<CsvRow>{{"last", "row"}}));  // no final line end
}

TEST(UtilCsv, ErrorsNameTheFileAndLine) {
  // an unterminated quote: the line where it opened, in both modes
  for (CsvQuotes q : {CsvQuotes::Strict, CsvQuotes::Lenient}) {
    EXPECT_EQ(error_of("a\nb\n\"open\nmore", q), "t.csv:3: a quoted field is never closed");
    EXPECT_EQ(error_of("a\r\nb,\"x\n", q), "t.csv:2: a quoted field is never closed");
  }
  EXPECT_EQ(error_of("a\n\"x\"y\n"), "t.csv:2: text after a closing quote");
  EXPECT_EQ(error_of("a\n\"two\nlines\"\nab\"c\n"), "t.csv:4: a quote inside an unquoted field");
}

TEST(UtilCsv, LenientKeepsStrayQuotesAsText) {
  auto rows = parse_csv("\"a\"b,x\"y\"z,\"q\" r\n", "t.csv", CsvQuotes::Lenient);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (CsvRow{"ab", "x\"y\"z", "q r"}));
}

TEST(UtilCsv, Table) {
  CsvTable t = parse_csv_table("Question,Answer\n\"1+1?\",2\n", "t.csv");
  EXPECT_EQ(t.header, (CsvRow{"Question", "Answer"}));
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0][t.column("Answer", "t.csv")], "2");
  EXPECT_THROW(parse_csv_table("a,b\n1,2,3\n", "t.csv"), Error);
  EXPECT_THROW(parse_csv_table("\n", "t.csv"), Error);
  EXPECT_THROW(parse_csv_table("a,\"x\"y\n", "t.csv"), Error);  // tables are strict
  try {
    t.column("zzz", "t.csv");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "t.csv: no column 'zzz'");
  }
}

}  // namespace
}  // namespace s1::util
