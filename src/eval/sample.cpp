#include "eval/sample.h"

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace s1::eval {

using nlohmann::json;

json to_json(const SampleRecord& r) {
  json waits = json::array();
  for (const auto& w : r.waits)
    waits.push_back({{"token_position", w.token_position}, {"char_offset", w.char_offset}, {"text", w.text}});
  json j = {{"method", r.key.method},
            {"budget", r.key.budget ? json(*r.key.budget) : json(nullptr)},
            {"question_id", r.key.question_id},
            {"sample", r.key.sample},
            {"seed", r.seed},
            {"prompt", r.prompt},
            {"output", r.output},
            {"start_text", r.start_text},
            {"thinking_text", r.thinking_text},
            {"end_text", r.end_text},
            {"answer_text", r.answer_text},
            {"controlled", r.controlled},
            {"forced_end", r.forced_end},
            {"end_cause", r.end_cause},
            {"waits", waits},
            {"stop_reason", r.stop_reason},
            {"thinking_tokens", r.thinking_tokens},
            {"answer_tokens", r.answer_tokens},
            {"engine_thinking_tokens", r.engine_thinking_tokens},
            {"engine_answer_tokens", r.engine_answer_tokens},
            {"generated_tokens", r.generated_tokens},
            {"seconds", r.seconds},
            {"gold", r.gold},
            {"extracted", r.extracted ? json(*r.extracted) : json(nullptr)},
            {"canonical", r.canonical},
            {"correct", r.correct},
            {"grade_method", r.grade_method},
            {"error", r.error ? json(*r.error) : json(nullptr)},
            {"extra", r.extra}};
  if (r.judge_correct) j["judge_correct"] = *r.judge_correct;
  if (r.judge_correct || r.judge_error) j["judge_answer"] = r.judge_answer ? json(*r.judge_answer) : json(nullptr);
  if (r.judge_error) j["judge_error"] = *r.judge_error;
  return j;
}

namespace {
template <typename T>
T field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) fail("missing field '", name, "'");
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    fail("field '", name, "' has the wrong type");
  }
}
std::optional<std::string> opt_string(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) fail("field '", name, "' is not a string");
  return it->get<std::string>();
}
}  // namespace

SampleRecord sample_from_json(const json& j) {
  if (!j.is_object()) fail("a sample is not a JSON object");
  SampleRecord r;
  r.key.method = field<std::string>(j, "method");
  if (auto it = j.find("budget"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer()) fail("field 'budget' is not an integer");
    r.key.budget = it->get<int64_t>();
  }
  r.key.question_id = field<std::string>(j, "question_id");
  r.key.sample = field<int>(j, "sample");
  r.seed = field<uint64_t>(j, "seed");
  r.prompt = field<std::string>(j, "prompt");
  r.output = field<std::string>(j, "output");
  r.start_text = field<std::string>(j, "start_text");
  r.thinking_text = field<std::string>(j, "thinking_text");
  r.end_text = field<std::string>(j, "end_text");
  r.answer_text = field<std::string>(j, "answer_text");
  r.controlled = field<bool>(j, "controlled");
  r.forced_end = field<bool>(j, "forced_end");
  r.end_cause = field<std::string>(j, "end_cause");
  for (const auto& w : field<json>(j, "waits")) {
    WaitEvent e;
    e.token_position = field<int64_t>(w, "token_position");
    e.char_offset = field<int64_t>(w, "char_offset");
    e.text = field<std::string>(w, "text");
    r.waits.push_back(e);
  }
  r.stop_reason = field<std::string>(j, "stop_reason");
  r.thinking_tokens = field<int64_t>(j, "thinking_tokens");
  r.answer_tokens = field<int64_t>(j, "answer_tokens");
  r.engine_thinking_tokens = field<int64_t>(j, "engine_thinking_tokens");
  r.engine_answer_tokens = field<int64_t>(j, "engine_answer_tokens");
  r.generated_tokens = field<int64_t>(j, "generated_tokens");
  r.seconds = field<double>(j, "seconds");
  r.gold = field<std::string>(j, "gold");
  r.extracted = opt_string(j, "extracted");
  r.canonical = field<std::string>(j, "canonical");
  r.correct = field<bool>(j, "correct");
  r.grade_method = field<std::string>(j, "grade_method");
  r.error = opt_string(j, "error");
  if (auto it = j.find("extra"); it != j.end()) r.extra = *it;
  if (auto it = j.find("judge_correct"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean()) fail("field 'judge_correct' is not a boolean");
    r.judge_correct = it->get<bool>();
  }
  r.judge_answer = opt_string(j, "judge_answer");
  r.judge_error = opt_string(j, "judge_error");
  return r;
}

namespace {
// Python's str.split(sep) (sep non-empty).
std::vector<std::string_view> py_split(std::string_view s, std::string_view sep) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (true) {
    size_t f = s.find(sep, pos);
    if (f == std::string_view::npos) {
      out.push_back(s.substr(pos));
      return out;
    }
    out.push_back(s.substr(pos, f - pos));
    pos = f + sep.size();
  }
}
std::string join_lines(const std::vector<std::string_view>& parts, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) {
    if (i > from) out += '\n';
    out += parts[i];
  }
  return out;
}
}  // namespace

StatsSplit stats_split(std::string_view response, std::string_view think_end) {
  StatsSplit s;
  if (think_end.empty()) {
    // no delimiter known: everything is answer (compute_sample_stats has no such case)
    s.answer = std::string(response);
    return s;
  }
  auto parts = py_split(response, think_end);
  auto lines = py_split(parts.front(), "\n");
  // "\n".join(lines[1:-1])
  if (lines.size() > 2) s.thinking = join_lines(lines, 1, lines.size() - 1);
  if (parts.size() > 1) {
    auto alines = py_split(parts.back(), "\n");
    s.answer = join_lines(alines, 1, alines.size());
  }
  return s;
}

void count_stats_tokens(SampleRecord& r, const Tokenizer& tok, std::string_view think_end) {
  StatsSplit s = stats_split(r.output, think_end);
  r.thinking_tokens = int64_t(tok.encode(s.thinking).size());
  r.answer_tokens = int64_t(tok.encode(s.answer).size());
}

}  // namespace s1::eval
