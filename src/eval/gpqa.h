// GPQA Diamond, read at run time from its authors' password-protected dataset.zip (never
// shipped: the authors ask that its text not be republished in plain form). The CSV's
// "Question", "Correct Answer" and "Incorrect Answer 1..3" columns become s1's
// gpqa_diamond_openai prompt: "{Question}\n\nA) {choice1}\nB) {choice2}\nC) {choice3}\nD) {choice4}",
// the choices shuffled with a fixed seed, the gold answer the letter of the correct one.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "eval/dataset.h"

namespace s1::eval {

// The password published in the GPQA README (github.com/idavidrein/gpqa).
inline constexpr const char* kGpqaZipPassword = "deserted-untie-orchid";
inline constexpr uint64_t kGpqaShuffleSeed = 0;

// The bytes of the first member of a zip whose name ends with `member_suffix` (traditional
// PKWARE or AES encryption with `password`; "" for none). Errors name the zip and say
// whether the member is missing, the password wrong, or the data damaged.
std::string read_zip_member(const std::string& zip_path, const std::string& member_suffix, const std::string& password);

// lm-evaluation-harness's GPQA `preprocess` of each choice: strip, " [title]" -> ". ",
// drop "[...]" spans, "  " -> " ".
std::string gpqa_preprocess(std::string_view text);

// s1's gpqa_diamond_openai layout of a question and its four choices.
std::string gpqa_prompt(const std::string& question, const std::array<std::string, 4>& choices);

// The permutation applied to [Incorrect 1, Incorrect 2, Incorrect 3, Correct] for the
// question with this Record ID: Fisher-Yates driven by splitmix64 seeded with
// seed ^ FNV-1a(record id), so a question keeps its order whatever rows come before it.
std::array<int, 4> gpqa_permutation(const std::string& record_id, uint64_t seed);

// Questions from the CSV text (gpqa_diamond.csv). Rows without a Record ID are numbered.
std::vector<Question> gpqa_questions_from_csv(std::string_view csv, const std::string& name, uint64_t seed);

// dataset/gpqa_diamond.csv from the authors' zip.
std::vector<Question> load_gpqa_zip(const std::string& zip_path, const std::string& password, uint64_t seed);

}  // namespace s1::eval
