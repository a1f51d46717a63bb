// `s1`: one binary, one subcommand per task. Subcommands only parse arguments and wire
// the layers together; the work happens in the library.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli/common.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"s1.cpp: simple test-time scaling (s1) — inference, budget forcing, evaluation"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "s1.cpp 0.1.0");
  std::vector<std::pair<CLI::App*, s1::cli::Action>> cmds;
  s1::cli::add_generate(app, cmds);
  s1::cli::add_tokenize(app, cmds);
  s1::cli::add_template(app, cmds);
  s1::cli::add_info(app, cmds);
  s1::cli::add_make_model(app, cmds);
  s1::cli::add_bench(app, cmds);
  s1::cli::add_bench_wait(app, cmds);
  s1::cli::add_convert(app, cmds);
  s1::cli::add_grade(app, cmds);
  s1::cli::add_train(app, cmds);
  s1::cli::add_curate(app, cmds);
  s1::cli::add_serve(app, cmds);
  s1::cli::add_eval(app, cmds);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto& [sub, action] : cmds)
      if (sub->parsed()) return action();
  } catch (const s1::Error& e) {
    std::fflush(stdout);
    std::cerr << "s1: error: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::fflush(stdout);
    std::cerr << "s1: error: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::cerr << "s1: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
