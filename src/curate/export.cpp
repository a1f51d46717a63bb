// Stage 8: the selections as JSONL in s1K's schema, each row with its training text in
// s1's format (data/tokenization.py), ready for `s1 train`.
#include <filesystem>

#include "chat/chat_template.h"
#include "core/error.h"
#include "curate/io.h"
#include "curate/pipeline.h"
#include "tokenizer/tokenizer.h"

namespace s1::curate {
using nlohmann::json;

namespace {
std::string py_strip(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n\f\v"), b = s.find_last_not_of(" \t\r\n\f\v");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}
}  // namespace

std::string assistant_turn(const std::string& thinking, const std::string& attempt) {
  std::string answer = attempt.find("Answer:") != std::string::npos ? attempt : "Answer: " + attempt;
  return "<|im_start|>think\n" + py_strip(thinking) + "\n<|im_start|>answer\n" + py_strip(answer);
}

void export_selections(Db& db, const ExportOptions& e) {
  if (e.out_dir.empty()) fail("export: --out DIR is required");
  if (db.scalar("SELECT COUNT(*) FROM selections") == 0) fail("export: nothing selected yet; run `s1 curate select` first");
  std::string src = find_chat_template(e.tokenizer);
  if (src.empty()) fail(e.tokenizer, ": no chat template (tokenizer_config.json chat_template or chat_template.jinja)");
  Tokenizer tok = Tokenizer::from_hf_folder(e.tokenizer);
  ChatTemplate tmpl(src, tok.bos_token(), tok.eos_token());
  std::filesystem::create_directories(e.out_dir);

  std::vector<std::string> names;
  {
    Stmt s = db.prepare("SELECT DISTINCT name FROM selections ORDER BY name");
    while (s.step()) names.push_back(s.str(0));
  }
  Stmt rows = db.prepare(
      "SELECT q.question, q.solution, q.cot_type, q.source_type, q.metadata, o.thinking, o.attempt "
      "FROM selections s JOIN questions q ON q.id=s.qid LEFT JOIN outputs o ON o.qid=q.id AND o.role='trace' "
      "WHERE s.name=? ORDER BY s.pos");
  for (const auto& name : names) {
    std::string out;
    int64_t n = 0;
    rows.bind(1, name);
    while (rows.step()) {
      json r;
      r["question"] = rows.str(0);
      r["solution"] = rows.is_null(1) ? json() : json(rows.str(1));
      r["cot_type"] = rows.str(2);
      r["source_type"] = rows.str(3);
      r["metadata"] = rows.str(4);
      r["cot"] = nullptr;
      std::string thinking = rows.str(5), attempt = rows.str(6);
      r["thinking_trajectories"] = json::array({thinking});
      r["attempt"] = attempt;
      json msgs = json::array({{{"role", "user"}, {"content", rows.str(0)}},
                               {{"role", "assistant"}, {"content", assistant_turn(thinking, attempt)}}});
      r["text"] = tmpl.apply(msgs, false);
      out += r.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
      ++n;
    }
    rows.reset();
    std::string path = e.out_dir + "/" + name + ".jsonl";
    write_file_atomic(path, out);
    if (!e.quiet) note("export: " + path + " (" + std::to_string(n) + " rows)");
  }
}

}  // namespace s1::curate
