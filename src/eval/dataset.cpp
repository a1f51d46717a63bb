#include "eval/dataset.h"

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"

namespace s1::eval {

using grading::AnswerKind;

AnswerKind parse_answer_kind(std::string_view name) {
  if (name == "math") return AnswerKind::Math;
  if (name == "integer") return AnswerKind::Integer;
  if (name == "choice") return AnswerKind::MultipleChoice;
  fail("answer kind '", name, "': expected math, integer or choice");
}

const char* answer_kind_name(AnswerKind k) {
  switch (k) {
    case AnswerKind::Math: return "math";
    case AnswerKind::Integer: return "integer";
    case AnswerKind::MultipleChoice: return "choice";
  }
  return "math";
}

std::string gold_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) return std::to_string(int64_t(d));
    return v.dump();
  }
  return v.dump();
}

std::vector<Question> parse_jsonl_questions(std::string_view text, const std::string& name,
                                            const std::string& question_field, const std::string& answer_field,
                                            const std::string& id_field, AnswerKind kind) {
  std::vector<Question> out;
  std::set<std::string> ids;
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      fail(name, ":", line_no, ": not a JSON object (", e.what(), ")");
    }
    if (!j.is_object()) fail(name, ":", line_no, ": expected a JSON object");
    auto q = j.find(question_field);
    if (q == j.end() || !q->is_string()) fail(name, ":", line_no, ": no string field '", question_field, "'");
    auto a = j.find(answer_field);
    if (a == j.end() || a->is_null()) fail(name, ":", line_no, ": no field '", answer_field, "'");
    Question item;
    item.question = q->get<std::string>();
    item.gold = gold_text(*a);
    item.kind = kind;
    if (id_field.empty()) {
      item.id = std::to_string(out.size());
    } else {
      auto id = j.find(id_field);
      if (id == j.end() || id->is_null()) fail(name, ":", line_no, ": no id field '", id_field, "'");
      item.id = id->is_string() ? id->get<std::string>() : id->dump();
    }
    if (!ids.insert(item.id).second) fail(name, ":", line_no, ": duplicate id '", item.id, "'");
    out.push_back(std::move(item));
  }
  if (out.empty()) fail(name, ": no questions");
  return out;
}

std::vector<Question> load_jsonl_questions(const std::string& path, const std::string& question_field,
                                           const std::string& answer_field, const std::string& id_field,
                                           AnswerKind kind) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path, ": cannot open");
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_jsonl_questions(ss.str(), path, question_field, answer_field, id_field, kind);
}

std::vector<Question> load_benchmark(const std::string& name, const std::string& data_dir) {
  struct Spec {
    const char* name;
    const char* id_field;
    AnswerKind kind;
  };
  // s1's prompt is the problem verbatim ('{Question}'); AIME answers are 3-digit strings
  // ("025"), AMC's JSON numbers, MATH500's LaTeX.
  static const Spec specs[] = {{"aime24", "id", AnswerKind::Integer},
                               {"amc23", "id", AnswerKind::Math},
                               {"math500", "unique_id", AnswerKind::Math}};
  for (const Spec& s : specs)
    if (name == s.name)
      return load_jsonl_questions(data_dir + "/benchmarks/" + s.name + ".jsonl", "problem", "answer", s.id_field,
                                  s.kind);
  fail("--bench '", name, "': expected aime24, amc23, math500 or gpqa");
}

}  // namespace s1::eval
