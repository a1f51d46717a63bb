// A Jinja template interpreter for Hugging Face chat templates: parse once, render
// many times. Semantics follow Jinja2 as transformers configures it
// (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, the
// generation tag, tojson with ensure_ascii=False, raise_exception, strftime_now).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/jinja_ast.h"
#include "chat/jinja_value.h"

namespace s1::jinja {

// What one render may consume; past any of these it fails with s1::Error.
struct Limits {
  size_t max_output_bytes = size_t{64} << 20;  // the rendered text, and any one string built
  size_t max_items = size_t{1} << 20;          // elements of any one list built (range, +, *)
  uint64_t max_loop_iterations = 5'000'000;    // for-loop iterations, all loops together
  uint64_t max_steps = 50'000'000;             // evaluation work (nodes, values visited, bytes/64 built)
  int max_depth = 400;                         // nested evaluation: blocks, expressions, macro calls
};

using Vars = std::vector<std::pair<std::string, Value>>;

class Program {
 public:
  // Throws s1::Error "chat template syntax error at line L, column C: ...".
  explicit Program(std::string_view source);
  Program(Program&&) noexcept = default;
  Program& operator=(Program&&) noexcept = default;
  ~Program();

  // vars are the top-level variables; the globals range, namespace, dict,
  // raise_exception and strftime_now are always there (vars may shadow them).
  // Throws s1::Error "chat template error at line L: ..." on a render failure.
  std::string render(const Vars& vars, const Limits& limits = {}) const;

 private:
  Body body_;
};

}  // namespace s1::jinja
