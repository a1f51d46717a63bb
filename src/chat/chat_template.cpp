// s1::ChatTemplate: a parsed chat template plus the variables transformers'
// apply_chat_template passes (messages, add_generation_prompt, special tokens,
// tools=None, documents=None, then the caller's extra variables).
#include "chat/chat_template.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "chat/jinja.h"
#include "core/error.h"

namespace s1 {

namespace {

template <typename Json>
std::string render(const jinja::Program& program, const Json& messages, bool add_generation_prompt,
                   const Json& extra_vars, const std::string& bos, const std::string& eos) {
  if (!extra_vars.is_null() && !extra_vars.is_object()) fail("chat template: extra variables must be a JSON object");
  jinja::Vars vars;
  vars.emplace_back("messages", jinja::Value::from_json(messages));
  vars.emplace_back("add_generation_prompt", jinja::Value::boolean(add_generation_prompt));
  vars.emplace_back("bos_token", jinja::Value::string(bos));
  vars.emplace_back("eos_token", jinja::Value::string(eos));
  vars.emplace_back("tools", jinja::Value::none());
  vars.emplace_back("documents", jinja::Value::none());
  if (extra_vars.is_object()) {
    for (auto it = extra_vars.begin(); it != extra_vars.end(); ++it) {
      vars.emplace_back(it.key(), jinja::Value::from_json(it.value()));
    }
  }
  return program.render(vars);
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) fail("cannot read ", p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

ChatTemplate::ChatTemplate(std::string source, std::string bos_token, std::string eos_token)
    : source_(std::move(source)),
      bos_(std::move(bos_token)),
      eos_(std::move(eos_token)),
      program_(std::make_unique<jinja::Program>(source_)) {}

ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;
ChatTemplate::~ChatTemplate() = default;

std::string ChatTemplate::apply(const nlohmann::json& messages, bool add_generation_prompt,
                                const nlohmann::json& extra_vars) const {
  return render(*program_, messages, add_generation_prompt, extra_vars, bos_, eos_);
}

std::string ChatTemplate::apply_ordered(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                                        const nlohmann::ordered_json& extra_vars) const {
  return render(*program_, messages, add_generation_prompt, extra_vars, bos_, eos_);
}

const std::string& ChatTemplate::chatml_source() {
  static const std::string src =
      "{% for message in messages %}"
      "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
      "{% endfor %}"
      "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
  return src;
}

std::string find_chat_template(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path root(dir);
  std::error_code ec;
  if (fs::is_regular_file(root / "chat_template.jinja", ec)) return read_file(root / "chat_template.jinja");
  for (const char* name : {"tokenizer_config.json", "chat_template.json"}) {
    const fs::path p = root / name;
    if (!fs::is_regular_file(p, ec)) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_file(p));
    } catch (const nlohmann::json::exception& e) {
      fail(p.string(), ": invalid JSON: ", e.what());
    }
    if (!j.is_object() || !j.contains("chat_template")) continue;
    const auto& t = j["chat_template"];
    if (t.is_string()) return t.get<std::string>();
    if (t.is_array()) {
      for (const auto& entry : t) {
        if (entry.is_object() && entry.value("name", "") == "default" && entry.contains("template") &&
            entry["template"].is_string()) {
          return entry["template"].get<std::string>();
        }
      }
    }
  }
  return "";
}

}  // namespace s1
