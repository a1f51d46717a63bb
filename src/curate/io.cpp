#include "curate/io.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace s1::curate {

std::string read_file(const std::string& path) {
  if (std::filesystem::is_directory(path)) fail(path, ": is a folder, expected a file");
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path, ": cannot open");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_file_atomic(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) fail(path, ": cannot write");
    f.write(data.data(), std::streamsize(data.size()));
    f.flush();
    if (!f) fail(path, ": write failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) fail(path, ": cannot rename into place: ", ec.message());
}

void for_each_jsonl_object(const std::string& text, const std::string& path, int64_t limit,
                           const std::function<void(nlohmann::json&&, size_t line)>& fn) {
  size_t i = 0, line = 0;
  int64_t count = 0;
  while (i < text.size() && (limit <= 0 || count < limit)) {
    size_t j = text.find('\n', i);
    if (j == std::string::npos) j = text.size();
    ++line;
    std::string_view l(text.data() + i, j - i);
    i = j + 1;
    if (l.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    nlohmann::json v = nlohmann::json::parse(l, nullptr, false);
    if (v.is_discarded()) fail(path, ":", line, ": not valid JSON");
    if (!v.is_object()) fail(path, ":", line, ": expected a JSON object per line");
    ++count;
    fn(std::move(v), line);
  }
}

std::string json_text(const nlohmann::json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  return dump_safe(v);
}

std::string last_boxed(std::string_view s) {
  size_t best = std::string_view::npos, skip = 0;
  for (std::string_view tag : {"\\boxed", "\\fbox"}) {
    size_t p = s.rfind(tag);
    if (p != std::string_view::npos && (best == std::string_view::npos || p > best)) best = p, skip = tag.size();
  }
  if (best == std::string_view::npos) return "";
  size_t i = best + skip;
  while (i < s.size() && s[i] == ' ') ++i;
  if (i >= s.size() || s[i] != '{') return "";
  int depth = 0;
  for (size_t j = i; j < s.size(); ++j) {
    if (s[j] == '{') ++depth;
    else if (s[j] == '}' && --depth == 0) return std::string(s.substr(i + 1, j - i - 1));
  }
  return "";
}

}  // namespace s1::curate
