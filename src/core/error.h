// Errors with context. Every failure the user can cause (bad file, bad flag, bad
// request) is reported as one s1::Error whose message names what is wrong; the CLI
// prints it and exits non-zero. Programming errors use assert.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace s1 {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Concatenates anything streamable: s1::cat("tensor ", name, " has ", n, " dims").
template <typename... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

template <typename... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(cat(args...));
}

}  // namespace s1
