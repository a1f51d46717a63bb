#include "cli/common.h"

#include <filesystem>
#include <iostream>
#include <iterator>

#include "core/error.h"
#include "core/mapped_file.h"
#include "llm/engine.h"

namespace s1::cli {

// The loading rules live in the library (llm/engine.h) so that the evaluation, the
// server and the LLM client open models exactly as the CLI does.
std::optional<Tokenizer> try_load_tokenizer(const std::string& model_path) { return llm::try_load_tokenizer(model_path); }

Tokenizer load_tokenizer(const std::string& model_path) { return llm::load_tokenizer(model_path); }

ChatTemplate load_chat_template(const std::string& model_path, const Tokenizer* tok, const std::string& spec) {
  return llm::load_chat_template(model_path, tok, spec);
}

void add_quant_option(CLI::App* c, std::string& quant) {
  c->add_option("--quant", quant, "Re-encode weights at load: q8_0 (8-bit blocks, ~half the bytes of bf16)")
      ->check(CLI::IsMember({"q8_0", "none"}));
}

LoadOptions load_options(const std::string& quant) {
  LoadOptions o;
  if (quant == "q8_0") o.quantize = DType::Q8_0;
  return o;
}

std::vector<int32_t> parse_id_list(const std::string& s) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find_first_of(", \n\t", i);
    if (j == std::string::npos) j = s.size();
    std::string tok = s.substr(i, j - i);
    if (!tok.empty() && tok != "[" && tok != "]") {
      while (!tok.empty() && (tok.front() == '[')) tok.erase(0, 1);
      while (!tok.empty() && (tok.back() == ']')) tok.pop_back();
      if (!tok.empty()) {
        size_t used = 0;
        long long v = 0;
        try {
          v = std::stoll(tok, &used);
        } catch (...) {
          used = 0;
        }
        if (used != tok.size() || v < 0 || v > INT32_MAX) fail("bad token id '", tok, "' in id list");
        ids.push_back(int32_t(v));
      }
    }
    i = j + 1;
  }
  return ids;
}

std::string read_input(const std::string& path) {
  if (path == "-" || path.empty()) {
    std::string s((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return s;
  }
  return read_text_file(path);
}

nlohmann::json read_json_file(const std::string& path) {
  std::string text = read_input(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": invalid JSON: ", e.what());
  }
}

nlohmann::json parse_template_vars(const std::vector<std::string>& kvs) {
  nlohmann::json vars = nlohmann::json::object();
  for (const auto& kv : kvs) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) fail("--template-var '", kv, "': expected KEY=JSON");
    std::string key = kv.substr(0, eq), val = kv.substr(eq + 1);
    try {
      vars[key] = nlohmann::json::parse(val);
    } catch (const nlohmann::json::exception&) {
      vars[key] = val;  // a bare word: a string
    }
  }
  return vars;
}

}  // namespace s1::cli
