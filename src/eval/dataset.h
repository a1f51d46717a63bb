// The questions an evaluation asks: the benchmarks shipped in data/benchmarks (AIME 2024,
// AMC 2023, MATH500), GPQA Diamond read from its authors' zip (gpqa.h), or any JSONL file
// with a question and an answer field.
#pragma once
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "grading/grader.h"

namespace s1::eval {

struct Question {
  std::string id;        // stable key of the question in samples.jsonl
  std::string question;  // the text given to the model (GPQA: with its A-D choices laid out)
  std::string gold;      // the gold answer as text (GPQA: the letter)
  grading::AnswerKind kind = grading::AnswerKind::Math;
};

// "math" | "integer" | "choice"; throws naming the bad value.
grading::AnswerKind parse_answer_kind(std::string_view name);
const char* answer_kind_name(grading::AnswerKind k);

// A gold answer from a JSON value: strings as they are, integral numbers without ".0"
// (AMC's 27.0 is "27"), other numbers as JSON prints them.
std::string gold_text(const nlohmann::json& v);

// One JSON object per line; blank lines skipped. id_field "" numbers the questions by line
// ("0", "1", ...). A missing or non-string question, a missing answer, a duplicate id, or a
// line that is not JSON is an error naming the file and line.
std::vector<Question> load_jsonl_questions(const std::string& path, const std::string& question_field,
                                           const std::string& answer_field, const std::string& id_field,
                                           grading::AnswerKind kind);
// The same from text already in memory (`name` for messages).
std::vector<Question> parse_jsonl_questions(std::string_view text, const std::string& name,
                                            const std::string& question_field, const std::string& answer_field,
                                            const std::string& id_field, grading::AnswerKind kind);

// aime24 | amc23 | math500 from `data_dir`/benchmarks/<name>.jsonl with the fields and answer
// kind each needs. (GPQA needs its zip: gpqa.h.)
std::vector<Question> load_benchmark(const std::string& name, const std::string& data_dir);

}  // namespace s1::eval
