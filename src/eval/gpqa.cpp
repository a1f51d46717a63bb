#include "eval/gpqa.h"

#include <zip.h>

#include <memory>
#include <optional>

#include "core/error.h"
#include "util/csv.h"

namespace s1::eval {

namespace {

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

std::string zip_error_text(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string s = zip_error_strerror(&e);
  zip_error_fini(&e);
  return s;
}

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

}  // namespace

std::string read_zip_member(const std::string& zip_path, const std::string& member_suffix, const std::string& password) {
  int err = 0;
  std::unique_ptr<zip_t, ZipCloser> z(zip_open(zip_path.c_str(), ZIP_RDONLY, &err));
  if (!z) fail(zip_path, ": cannot open as a zip (", zip_error_text(err), ")");
  zip_int64_t n = zip_get_num_entries(z.get(), 0);
  zip_int64_t found = -1;
  for (zip_int64_t i = 0; i < n && found < 0; ++i) {
    const char* nm = zip_get_name(z.get(), zip_uint64_t(i), 0);
    if (!nm) continue;
    std::string_view name(nm);
    if (name.size() >= member_suffix.size() && name.substr(name.size() - member_suffix.size()) == member_suffix)
      found = i;
  }
  if (found < 0) fail(zip_path, ": no member ending in '", member_suffix, "'");
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(z.get(), zip_uint64_t(found), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
    fail(zip_path, ": cannot read the entry of ", member_suffix);
  if (st.size > (zip_uint64_t(1) << 31)) fail(zip_path, ": ", member_suffix, " is implausibly large (", st.size, " bytes)");
  std::unique_ptr<zip_file_t, ZipFileCloser> f(
      zip_fopen_index_encrypted(z.get(), zip_uint64_t(found), 0, password.empty() ? nullptr : password.c_str()));
  if (!f) {
    int code = zip_error_code_zip(zip_get_error(z.get()));
    if (code == ZIP_ER_WRONGPASSWD) fail(zip_path, ": wrong password for ", member_suffix, " (--gpqa-password)");
    if (code == ZIP_ER_NOPASSWD) fail(zip_path, ": ", member_suffix, " is encrypted: give --gpqa-password");
    fail(zip_path, ": cannot open ", member_suffix, " (", zip_strerror(z.get()), ")");
  }
  std::string data(size_t(st.size), '\0');
  size_t got = 0;
  while (got < data.size()) {
    zip_int64_t r = zip_fread(f.get(), data.data() + got, data.size() - got);
    if (r < 0) {
      // traditional PKWARE's password check is one byte: a wrong password passes it 1 time
      // in 256 and then fails the CRC here
      fail(zip_path, ": cannot read ", member_suffix, " (", zip_file_strerror(f.get()),
           "): damaged, or a wrong password (--gpqa-password)");
    }
    if (r == 0) break;
    got += size_t(r);
  }
  if (got != data.size()) fail(zip_path, ": ", member_suffix, " is truncated");
  // the CRC is checked at the end of the stream: one more read reports a mismatch
  char extra;
  if (zip_fread(f.get(), &extra, 1) < 0)
    fail(zip_path, ": ", member_suffix, " fails its checksum: damaged, or a wrong password (--gpqa-password)");
  return data;
}

std::string gpqa_preprocess(std::string_view text) {
  std::string s(text);
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  s = b == std::string::npos ? "" : s.substr(b, e - b + 1);
  for (size_t p; (p = s.find(" [title]")) != std::string::npos;) s.replace(p, 8, ". ");
  // re.sub("\\[.*?\\]", "", s): from a '[' to the first ']' with no line break between
  // (written out: std::regex recurses per character and could exhaust the stack)
  std::string kept;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '[') {
      size_t close = s.find_first_of("]\n", i + 1);
      if (close == std::string::npos) {  // no ']' anywhere after: nothing more to drop
        kept.append(s, i, std::string::npos);
        break;
      }
      if (s[close] == ']') {
        i = close;
        continue;
      }
      kept.append(s, i, close - i + 1);  // a line break first: no '[' before it can match
      i = close;
      continue;
    }
    kept += s[i];
  }
  s = std::move(kept);
  // Python's str.replace("  ", " ") is one left-to-right pass (four spaces become two)
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    out += s[i];
    if (s[i] == ' ' && i + 1 < s.size() && s[i + 1] == ' ') ++i;
  }
  return out;
}

std::string gpqa_prompt(const std::string& question, const std::array<std::string, 4>& choices) {
  return question + "\n\nA) " + choices[0] + "\nB) " + choices[1] + "\nC) " + choices[2] + "\nD) " + choices[3];
}

std::array<int, 4> gpqa_permutation(const std::string& record_id, uint64_t seed) {
  std::array<int, 4> p = {0, 1, 2, 3};
  uint64_t state = seed ^ fnv1a(record_id);
  for (int i = 3; i > 0; --i) {
    int j = int(splitmix64(state) % uint64_t(i + 1));
    std::swap(p[size_t(i)], p[size_t(j)]);
  }
  return p;
}

std::vector<Question> gpqa_questions_from_csv(std::string_view csv, const std::string& name, uint64_t seed) {
  util::CsvTable t = util::parse_csv_table(csv, name);
  size_t q_col = t.column("Question", name), c_col = t.column("Correct Answer", name);
  size_t i_cols[3] = {t.column("Incorrect Answer 1", name), t.column("Incorrect Answer 2", name),
                      t.column("Incorrect Answer 3", name)};
  std::optional<size_t> id_col;
  for (size_t i = 0; i < t.header.size(); ++i)
    if (t.header[i] == "Record ID") id_col = i;
  std::vector<Question> out;
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const util::CsvRow& row = t.rows[r];
    std::array<std::string, 4> pool = {gpqa_preprocess(row[i_cols[0]]), gpqa_preprocess(row[i_cols[1]]),
                                       gpqa_preprocess(row[i_cols[2]]), gpqa_preprocess(row[c_col])};
    if (row[q_col].empty()) fail(name, ": row ", r + 1, " has an empty Question");
    Question q;
    q.id = id_col && !row[*id_col].empty() ? row[*id_col] : std::to_string(r);
    std::array<int, 4> perm = gpqa_permutation(q.id, seed);
    std::array<std::string, 4> choices;
    for (int i = 0; i < 4; ++i) {
      choices[size_t(i)] = pool[size_t(perm[size_t(i)])];
      if (perm[size_t(i)] == 3) q.gold = std::string(1, char('A' + i));
    }
    q.question = gpqa_prompt(row[q_col], choices);
    q.kind = grading::AnswerKind::MultipleChoice;
    out.push_back(std::move(q));
  }
  if (out.empty()) fail(name, ": no questions");
  return out;
}

std::vector<Question> load_gpqa_zip(const std::string& zip_path, const std::string& password, uint64_t seed) {
  std::string csv = read_zip_member(zip_path, "gpqa_diamond.csv", password);
  return gpqa_questions_from_csv(csv, zip_path + ":gpqa_diamond.csv", seed);
}

}  // namespace s1::eval
