// Running the built `s1` binary from the eval tests, a tiny random model made by
// `s1 make-model` once per test process, and temporary folders.
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace s1::eval::test {

namespace fs = std::filesystem;

struct CliRun {
  int code;
  std::string out, err;
};

inline std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("s1-eval-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

inline CliRun run_s1(const std::string& args) {
  static int n = 0;
  fs::path dir = temp_dir("cli-io-" + std::to_string(n++));
  std::string out = (dir / "out").string(), err = (dir / "err").string();
  int status = std::system((std::string(S1_BINARY) + " " + args + " </dev/null >" + out + " 2>" + err).c_str());
  CliRun r{WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), slurp(out), slurp(err)};
  fs::remove_all(dir);
  return r;
}

struct TinyModel {
  fs::path dir = temp_dir("tiny-model");
  TinyModel() {
    CliRun r = run_s1("make-model --shape qwen2.5-tiny --out " + dir.string());
    EXPECT_EQ(r.code, 0) << r.err;
  }
  ~TinyModel() { fs::remove_all(dir); }
};
inline const std::string& tiny_model() {
  static TinyModel m;
  static const std::string path = m.dir.string();
  return path;
}

inline std::vector<nlohmann::json> read_jsonl(const fs::path& p) {
  std::vector<nlohmann::json> out;
  std::istringstream in(slurp(p));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

inline std::string questions_file() { return std::string(S1_TEST_DATA) + "/eval/questions.jsonl"; }
inline std::string data_args() {
  return "--data " + questions_file() + " --question-field problem --answer-field answer --id-field id";
}

}  // namespace s1::eval::test
