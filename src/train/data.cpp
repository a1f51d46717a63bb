#include "train/data.h"

#include <fstream>

#include "core/error.h"
#include "model/transformer_train.h"

namespace s1::train {
namespace {

std::string strip(const std::string& s) {
  const char* ws = " \t\n\r\f\v";
  const size_t a = s.find_first_not_of(ws);
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(ws) - a + 1);
}

const nlohmann::json* field(const nlohmann::json& row, const std::string& name) {
  auto it = row.find(name);
  return it == row.end() || it->is_null() ? nullptr : &*it;
}

std::string need_string(const nlohmann::json& row, const std::string& name, const std::string& what) {
  const auto* f = field(row, name);
  if (!f) fail(what, ": no \"", name, "\" field");
  if (!f->is_string()) fail(what, ": \"", name, "\" must be a string");
  return f->get<std::string>();
}

}  // namespace

std::string s1_assistant_content(const nlohmann::json& row, const DataOptions& o, const std::string& what) {
  const auto* th = field(row, o.thinking_field);
  if (!th) fail(what, ": no \"", o.thinking_field, "\" field (or a \"text\" field)");
  std::string thinking;
  if (th->is_string()) {
    thinking = th->get<std::string>();
  } else if (th->is_array()) {
    for (size_t i = 0; i < th->size(); ++i) {
      if (!(*th)[i].is_string()) fail(what, ": \"", o.thinking_field, "\"[", i, "] is not a string");
      if (i) thinking += '\n';
      thinking += (*th)[i].get<std::string>();
    }
  } else {
    fail(what, ": \"", o.thinking_field, "\" must be a string or a list of strings");
  }
  std::string answer;
  if (field(row, o.answer_field)) answer = need_string(row, o.answer_field, what);
  else if (field(row, "solution")) answer = need_string(row, "solution", what);
  else fail(what, ": no \"", o.answer_field, "\" or \"solution\" field");
  if (answer.find("Answer:") == std::string::npos) answer = "Answer: " + answer;
  return o.think_start + "\n" + strip(thinking) + "\n" + o.answer_start + "\n" + strip(answer);
}

std::string assistant_marker(const ChatTemplate& tpl, const nlohmann::json& vars) {
  const nlohmann::json msgs = nlohmann::json::array({{{"role", "user"}, {"content", "Q"}}});
  const std::string without = tpl.apply(msgs, false, vars), with = tpl.apply(msgs, true, vars);
  if (with.size() <= without.size() || with.compare(0, without.size(), without) != 0)
    fail("chat template: its generation prompt is not an addition at the end of the conversation; cannot tell where the assistant turn starts");
  return with.substr(without.size());
}

Example encode_row(const nlohmann::json& row, const Tokenizer& tok, const ChatTemplate& tpl, const DataOptions& o,
                   const std::string& marker, const std::string& what) {
  if (!row.is_object()) fail(what, ": not a JSON object");
  std::string text;
  size_t loss_from = 0;  // byte offset in `text` where the loss starts
  const auto* t = field(row, "text");
  if (t && o.prefer_fields && field(row, "question")) t = nullptr;
  if (t) {
    if (!t->is_string()) fail(what, ": \"text\" must be a string");
    text = t->get<std::string>();
    const size_t at = text.find(marker);
    if (at == std::string::npos)
      fail(what, ": \"text\" has no assistant turn (", nlohmann::json(marker).dump(), " not found): nothing to train on");
    loss_from = at + marker.size();
  } else {
    const std::string q = need_string(row, "question", what);
    const std::string content = s1_assistant_content(row, o, what);
    const nlohmann::json user = {{"role", "user"}, {"content", q}};
    const std::string prompt = tpl.apply(nlohmann::json::array({user}), true, o.template_vars);
    text = tpl.apply(nlohmann::json::array({user, {{"role", "assistant"}, {"content", content}}}), false, o.template_vars);
    if (text.compare(0, prompt.size(), prompt) != 0)
      fail(what, ": the chat template renders the conversation differently from its generation prompt");
    loss_from = prompt.size();
  }
  Example ex;
  // Tokenise the whole text (as trl does) and find the token where the assistant turn
  // starts by walking the tokens' bytes; if a token straddles that point (or
  // normalisation changed the text), tokenise the two parts separately instead.
  std::vector<int32_t> ids = tok.encode(text);
  int64_t boundary = -1;
  size_t bytes = 0;
  for (size_t i = 0; i <= ids.size(); ++i) {
    if (bytes == loss_from) {
      boundary = int64_t(i);
      break;
    }
    if (bytes > loss_from || i == ids.size()) break;
    bytes += tok.token_bytes(ids[i]).size();
  }
  if (boundary < 0 || tok.decode(ids) != text) {
    ids = tok.encode(text.substr(0, loss_from));
    boundary = int64_t(ids.size());
    const auto rest = tok.encode(text.substr(loss_from));
    ids.insert(ids.end(), rest.begin(), rest.end());
  }
  ex.ids = std::move(ids);
  ex.targets.assign(ex.ids.size(), kIgnoreIndex);
  for (size_t t = 0; t + 1 < ex.ids.size(); ++t)
    if (int64_t(t + 1) >= boundary) {
      ex.targets[t] = ex.ids[t + 1];
      ++ex.loss_tokens;
    }
  return ex;
}

std::vector<Example> load_examples(const std::string& path, const Tokenizer& tok, const ChatTemplate& tpl,
                                   const DataOptions& o, DataStats& st) {
  if (o.block_size < 2) fail("--block-size must be at least 2, got ", o.block_size);
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path, ": cannot open");
  const std::string marker = assistant_marker(tpl, o.template_vars);
  std::vector<Example> out;
  std::string line;
  int64_t lineno = 0;
  while (std::getline(f, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string what = path + ":" + std::to_string(lineno);
    nlohmann::json row;
    try {
      row = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      fail(what, ": invalid JSON: ", e.what());
    }
    Example ex = encode_row(row, tok, tpl, o, marker, what);
    ex.line = lineno;
    ++st.rows;
    st.longest = std::max<int64_t>(st.longest, int64_t(ex.ids.size()));
    if (int64_t(ex.ids.size()) > o.block_size) {
      ++st.truncated;
      ex.ids.resize(size_t(o.block_size));
      ex.targets.resize(size_t(o.block_size));
      ex.targets.back() = kIgnoreIndex;  // its next token was cut off
      ex.loss_tokens = 0;
      for (int32_t t : ex.targets) ex.loss_tokens += t != kIgnoreIndex;
    }
    if (ex.loss_tokens == 0) {
      ++st.dropped_no_loss;
      continue;
    }
    st.tokens += int64_t(ex.ids.size());
    st.loss_tokens += ex.loss_tokens;
    out.push_back(std::move(ex));
  }
  if (f.bad()) fail(path, ": read error");
  if (out.empty()) fail(path, ": no training examples (", st.rows, " rows, ", st.dropped_no_loss, " with no loss tokens left)");
  return out;
}

}  // namespace s1::train
