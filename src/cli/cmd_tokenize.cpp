// s1 tokenize / s1 detokenize: text <-> ids with the model folder's tokenizer.
#include <iostream>

#include "cli/common.h"
#include "core/error.h"

namespace s1::cli {

void add_tokenize(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds) {
  struct Opts {
    std::string model, input = "-", text;
    bool special_as_text = false, with_pieces = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* t = app.add_subcommand("tokenize", "Print the token ids of a text as a JSON array");
  t->add_option("-m,--model", o->model, "Model or tokenizer folder, or a .gguf file")->required();
  t->add_option("input", o->input, "Text file to tokenize (- for stdin)")->capture_default_str();
  t->add_option("-p,--text", o->text, "Tokenize this text instead of a file");
  t->add_flag("--special-as-text", o->special_as_text, "Split special tokens like ordinary text");
  t->add_flag("--pieces", o->with_pieces, "Print [id, piece] pairs");
  cmds.emplace_back(t, [o] {
    Tokenizer tok = load_tokenizer(o->model);
    std::string text = o->text.empty() ? read_input(o->input) : o->text;
    auto ids = tok.encode(text, o->special_as_text);
    nlohmann::json j = nlohmann::json::array();
    for (int32_t id : ids) {
      if (o->with_pieces) j.push_back({id, tok.token_bytes(id)});
      else j.push_back(id);
    }
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  });

  struct DOpts {
    std::string model, input = "-";
    bool skip_special = false;
  };
  auto d = std::make_shared<DOpts>();
  CLI::App* dt = app.add_subcommand("detokenize", "Print the text of token ids (a JSON array or 1,2,3)");
  dt->add_option("-m,--model", d->model, "Model or tokenizer folder, or a .gguf file")->required();
  dt->add_option("ids", d->input, "Ids, or - to read them from stdin")->capture_default_str();
  dt->add_flag("--skip-special", d->skip_special, "Leave special tokens out");
  cmds.emplace_back(dt, [d] {
    Tokenizer tok = load_tokenizer(d->model);
    std::string s = d->input == "-" ? read_input("-") : d->input;
    auto ids = parse_id_list(s);
    for (int32_t id : ids)
      if (id >= tok.vocab_size()) fail("token id ", id, " is outside the tokenizer's vocabulary (", tok.vocab_size(), ")");
    std::cout << tok.decode(ids, d->skip_special);
    std::cout.flush();
    return 0;
  });
}

}  // namespace s1::cli
