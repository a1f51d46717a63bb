#include "curate/csv.h"

#include "core/error.h"

namespace s1::curate {

std::vector<std::vector<std::string>> parse_csv(std::string_view t, const std::string& what) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  size_t i = 0, line = 1;
  if (t.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // UTF-8 byte order mark
  bool any = false;                              // the current record has content
  while (i < t.size()) {
    char c = t[i];
    if (c == '"' && field.empty()) {
      size_t start_line = line;
      ++i;
      for (;;) {
        if (i >= t.size()) fail(what, ":", start_line, ": unterminated quoted field");
        if (t[i] == '"') {
          if (i + 1 < t.size() && t[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (t[i] == '\n') ++line;
        field.push_back(t[i++]);
      }
      any = true;
      continue;
    }
    if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      any = true;
      ++i;
      continue;
    }
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < t.size() && t[i + 1] == '\n') ++i;
      ++i;
      ++line;
      if (any || !field.empty()) {
        row.push_back(std::move(field));
        rows.push_back(std::move(row));
      }
      row.clear();
      field.clear();
      any = false;
      continue;
    }
    field.push_back(c);
    any = true;
    ++i;
  }
  if (any || !field.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace s1::curate
