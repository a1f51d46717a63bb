// Shared plumbing of the subcommands: loading a model / tokenizer / chat template
// from -m, reading prompts, parsing id lists.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "backend/backend.h"
#include "chat/chat_template.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace s1::cli {

// Each subcommand registers itself on the app and returns the action to run when chosen.
using Action = std::function<int()>;
void add_generate(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds);
void add_tokenize(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds);
void add_template(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds);
void add_info(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds);
void add_bench(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds);
void add_bench_wait(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds);  // cmd_bench_wait.cpp
void add_make_model(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds);
void add_convert(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds);  // cmd_convert.cpp (GGUF)
void add_grade(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds);  // cmd_grade.cpp (answer checking)
void add_train(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds);  // cmd_train.cpp
void add_curate(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds);  // cmd_curate.cpp
void add_serve(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds);  // cmd_serve.cpp
void add_eval(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds);  // cmd_eval.cpp (test-time scaling evaluation)

// The tokenizer of a model folder; throws a clear error when it has none.
Tokenizer load_tokenizer(const std::string& model_path);
std::optional<Tokenizer> try_load_tokenizer(const std::string& model_path);

// The chat template: `override_spec` is "", "chatml", or a path to a .jinja file.
ChatTemplate load_chat_template(const std::string& model_path, const Tokenizer* tok, const std::string& override_spec);

// --quant q8_0: re-encode weights at load.
void add_quant_option(CLI::App* c, std::string& quant);
LoadOptions load_options(const std::string& quant);

// "1,2,3" -> ids; throws naming the bad entry.
std::vector<int32_t> parse_id_list(const std::string& s);
// A file's text, or stdin for "-".
std::string read_input(const std::string& path);
nlohmann::json read_json_file(const std::string& path);
// --template-var KEY=JSON (a bare word that is not JSON is taken as a string)
nlohmann::json parse_template_vars(const std::vector<std::string>& kv);

}  // namespace s1::cli
