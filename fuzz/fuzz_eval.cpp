// libFuzzer target for the evaluation layer's parsers of untrusted files: the first byte
// picks one — GPQA's CSV (parse + question layout), a samples.jsonl journal read back on
// --resume, a questions JSONL file. s1::Error is the expected answer to bad input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "eval/dataset.h"
#include "eval/gpqa.h"
#include "eval/journal.h"
#include "util/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 3) {
      case 0: {
        s1::util::parse_csv(text, "fuzz.csv");
        s1::eval::gpqa_questions_from_csv(text, "fuzz.csv", 0);
        break;
      }
      case 1:
        s1::eval::parse_journal(text, "fuzz.jsonl");
        break;
      case 2:
        s1::eval::parse_jsonl_questions(text, "fuzz.jsonl", "q", "a", "id", s1::grading::AnswerKind::Math);
        break;
    }
  } catch (const s1::Error&) {
  }
  return 0;
}
