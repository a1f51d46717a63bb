#include "curate/db.h"

#include <sqlite3.h>

#include "core/error.h"

namespace s1::curate {

namespace {
// Stage order matters for removals: a question removed at an earlier stage is never
// seen by a later one (see pipeline.h). `row` keeps file order within a source.
const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS sources(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, adapter TEXT NOT NULL,
  path TEXT NOT NULL, rows INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS questions(id INTEGER PRIMARY KEY, source_id INTEGER NOT NULL, row INTEGER NOT NULL,
  qhash TEXT NOT NULL, question TEXT NOT NULL, solution TEXT, answer TEXT, answer_kind TEXT NOT NULL DEFAULT 'math',
  cot_type TEXT, source_type TEXT, metadata TEXT, trace_tokens INTEGER, UNIQUE(source_id, row));
CREATE TABLE IF NOT EXISTS removals(qid INTEGER NOT NULL, stage TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT,
  PRIMARY KEY(qid, stage));
CREATE TABLE IF NOT EXISTS outputs(qid INTEGER NOT NULL, role TEXT NOT NULL, model TEXT NOT NULL, cache_key TEXT,
  text TEXT, thinking TEXT, attempt TEXT, error TEXT, completion_tokens INTEGER, PRIMARY KEY(qid, role));
CREATE TABLE IF NOT EXISTS cache(key TEXT PRIMARY KEY, client TEXT NOT NULL, request TEXT NOT NULL,
  response TEXT NOT NULL, created TEXT NOT NULL DEFAULT (datetime('now')));
CREATE TABLE IF NOT EXISTS calls(id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, client TEXT NOT NULL,
  ok INTEGER NOT NULL, error TEXT, tries INTEGER NOT NULL, seconds REAL NOT NULL,
  at TEXT NOT NULL DEFAULT (datetime('now')));
CREATE TABLE IF NOT EXISTS grades(qid INTEGER NOT NULL, role TEXT NOT NULL, grader TEXT NOT NULL, correct INTEGER,
  method TEXT, extracted TEXT, PRIMARY KEY(qid, role));
CREATE TABLE IF NOT EXISTS domains(qid INTEGER PRIMARY KEY, code TEXT NOT NULL, title TEXT NOT NULL, tries INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS selections(name TEXT NOT NULL, pos INTEGER NOT NULL, qid INTEGER NOT NULL,
  PRIMARY KEY(name, pos));
CREATE TABLE IF NOT EXISTS stages(stage TEXT PRIMARY KEY, done_at TEXT NOT NULL, params TEXT);
CREATE INDEX IF NOT EXISTS questions_source ON questions(source_id, row);
CREATE INDEX IF NOT EXISTS calls_key ON calls(key);
)SQL";
}  // namespace

Stmt::Stmt(sqlite3* db, std::string_view sql) : db_(db) {
  if (sqlite3_prepare_v2(db, sql.data(), int(sql.size()), &st_, nullptr) != SQLITE_OK)
    fail("database: ", sqlite3_errmsg(db), " in: ", sql.substr(0, 80));
}
Stmt::~Stmt() { sqlite3_finalize(st_); }
Stmt& Stmt::bind(int i, int64_t v) {
  sqlite3_bind_int64(st_, i, v);
  return *this;
}
Stmt& Stmt::bind(int i, double v) {
  sqlite3_bind_double(st_, i, v);
  return *this;
}
Stmt& Stmt::bind(int i, std::string_view v) {
  sqlite3_bind_text(st_, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::bind(int i, const std::optional<std::string>& v) { return v ? bind(i, *v) : bind_null(i); }
Stmt& Stmt::bind_null(int i) {
  sqlite3_bind_null(st_, i);
  return *this;
}
bool Stmt::step() {
  int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string msg = sqlite3_errmsg(db_);
  sqlite3_reset(st_);
  fail("database: ", msg);
}
void Stmt::run() {
  while (step()) {
  }
  reset();
}
void Stmt::reset() {
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}
int64_t Stmt::i64(int col) const { return sqlite3_column_int64(st_, col); }
double Stmt::f64(int col) const { return sqlite3_column_double(st_, col); }
std::string Stmt::str(int col) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, col));
  return p ? std::string(p, size_t(sqlite3_column_bytes(st_, col))) : std::string();
}
bool Stmt::is_null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }

Db::Db(const std::string& path) : path_(path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "cannot open";
    sqlite3_close(db_);
    db_ = nullptr;
    fail(path, ": ", msg);
  }
  sqlite3_busy_timeout(db_, 10000);
  try {
    // A file that is not a database fails here, with SQLite's own words.
    exec("PRAGMA journal_mode=WAL");
    // NORMAL in WAL mode: a committed transaction survives a process kill (only an OS
    // crash / power loss can drop the last ones), at far fewer fsyncs than FULL.
    exec("PRAGMA synchronous=NORMAL");
    exec("PRAGMA foreign_keys=OFF");
    exec(kSchema);
    if (!meta("schema_version")) set_meta("schema_version", "1");
  } catch (const Error& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    fail(path, ": not a curation database (", e.what(), ")");
  }
}
Db::~Db() { sqlite3_close(db_); }

void Db::exec(std::string_view sql) {
  char* err = nullptr;
  std::string s(sql);
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    fail("database: ", msg);
  }
}
int64_t Db::scalar(std::string_view sql) {
  Stmt s(db_, sql);
  return s.step() ? s.i64(0) : 0;
}
int64_t Db::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
std::optional<std::string> Db::meta(const std::string& key) {
  Stmt s(db_, "SELECT value FROM meta WHERE key=?");
  s.bind(1, key);
  if (s.step()) return s.str(0);
  return std::nullopt;
}
void Db::set_meta(const std::string& key, const std::string& value) {
  prepare("INSERT INTO meta(key,value) VALUES(?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value")
      .bind(1, key)
      .bind(2, value)
      .run();
}

}  // namespace s1::curate
