// s1 template: render chat messages with the model's chat template.
#include <iostream>

#include "cli/common.h"
#include "core/error.h"

namespace s1::cli {

void add_template(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds) {
  struct Opts {
    std::string model, messages, chat_template;
    std::vector<std::string> vars;
    bool add_generation_prompt = false, ids = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* c = app.add_subcommand("template", "Render chat messages with the model's chat template");
  c->add_option("-m,--model", o->model, "Model or tokenizer folder, or a .gguf file")->required();
  c->add_option("--messages", o->messages, "JSON file [{role, content}, ...] (- for stdin)")->required();
  c->add_flag("--add-generation-prompt", o->add_generation_prompt, "End with the assistant turn's opening");
  c->add_option("--template-var", o->vars, "Template variable KEY=JSON (repeatable)");
  c->add_option("--chat-template", o->chat_template, "Override the template: 'chatml' or a .jinja file");
  c->add_flag("--ids", o->ids, "Print the token ids of the rendered prompt instead");
  cmds.emplace_back(c, [o] {
    auto tok = try_load_tokenizer(o->model);
    nlohmann::json messages = read_json_file(o->messages);
    if (messages.is_object() && messages.contains("messages")) messages = messages["messages"];
    if (!messages.is_array()) fail(o->messages, ": expected a JSON array of {role, content} messages");
    ChatTemplate t = load_chat_template(o->model, tok ? &*tok : nullptr, o->chat_template);
    std::string text = t.apply(messages, o->add_generation_prompt, parse_template_vars(o->vars));
    if (o->ids) {
      if (!tok) fail(o->model, ": --ids needs a tokenizer");
      std::cout << nlohmann::json(tok->encode(text)).dump() << "\n";
    } else {
      std::cout << text;
    }
    return 0;
  });
}

}  // namespace s1::cli
