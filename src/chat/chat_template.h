// Chat templates: Hugging Face chat templates are Jinja programs; we interpret the
// subset real templates use (chat/jinja_*.h) rather than hard-coding outputs.
#pragma once
#include <nlohmann/json.hpp>
#include <memory>
#include <string>

namespace s1 {

namespace jinja {
class Program;  // parsed template (chat/jinja.h)
}

class ChatTemplate {
 public:
  // Parses the source once; throws s1::Error with line/column on a syntax error.
  ChatTemplate(std::string source, std::string bos_token = "", std::string eos_token = "");
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;
  ~ChatTemplate();

  // messages: [{"role":..., "content":...}, ...]. extra_vars are top-level template
  // variables (e.g. {"enable_thinking": false, "date_string": "26 Nov 2026"}).
  // Throws s1::Error on a render failure or raise_exception() in the template.
  std::string apply(const nlohmann::json& messages, bool add_generation_prompt,
                    const nlohmann::json& extra_vars = nlohmann::json::object()) const;
  // The same for ordered_json, which keeps the key order of objects (nlohmann::json
  // sorts keys): what `tojson` prints for tool schemas then matches transformers.
  std::string apply_ordered(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                            const nlohmann::ordered_json& extra_vars = nlohmann::ordered_json::object()) const;

  const std::string& source() const { return source_; }

  // The plain ChatML template (`--chat-template chatml`).
  static const std::string& chatml_source();

 private:
  std::string source_, bos_, eos_;
  std::unique_ptr<jinja::Program> program_;
};

// The template of a Hugging Face folder: chat_template.jinja, else the
// "chat_template" of tokenizer_config.json (a string, or a list of {name, template}:
// "default" is taken). Empty string when there is none.
std::string find_chat_template(const std::string& dir);

}  // namespace s1
