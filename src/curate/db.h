// The curation database: one SQLite file holds every question, every removal with its
// reason, every model response (the cache), every call made, grades, domains and
// selections. WAL journal, one transaction per batch: a kill at any point loses only
// what was not yet committed, and a resume reads what was.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace s1::curate {

class Stmt {
 public:
  Stmt(sqlite3* db, std::string_view sql);
  Stmt(Stmt&& o) noexcept : db_(o.db_), st_(o.st_) { o.st_ = nullptr; }
  Stmt(const Stmt&) = delete;
  ~Stmt();
  // Binding is 1-based like SQLite's; each returns *this for chaining.
  Stmt& bind(int i, int64_t v);
  Stmt& bind(int i, int v) { return bind(i, int64_t(v)); }
  Stmt& bind(int i, double v);
  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const std::optional<std::string>& v);
  Stmt& bind_null(int i);
  bool step();  // true: a row is available
  void run();   // step to completion, then reset
  void reset();
  int64_t i64(int col) const;
  double f64(int col) const;
  std::string str(int col) const;
  bool is_null(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
};

class Db {
 public:
  // Opens (creating when missing) and brings the schema up to date. Throws s1::Error.
  explicit Db(const std::string& path);
  ~Db();
  Db(const Db&) = delete;
  void exec(std::string_view sql);
  Stmt prepare(std::string_view sql) { return Stmt(db_, sql); }
  int64_t scalar(std::string_view sql);  // first column of the first row (0 when none)
  int64_t last_insert_id() const;
  std::optional<std::string> meta(const std::string& key);
  void set_meta(const std::string& key, const std::string& value);
  const std::string& path() const { return path_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

// RAII transaction: commits in commit(), rolls back when destroyed without it.
class Tx {
 public:
  explicit Tx(Db& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
  void commit() {
    db_.exec("COMMIT");
    done_ = true;
  }
  ~Tx() {
    if (!done_) try {
        db_.exec("ROLLBACK");
      } catch (...) {
      }
  }

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace s1::curate
