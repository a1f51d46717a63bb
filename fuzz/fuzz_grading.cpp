// libFuzzer target for answer checking: the input is a response and a gold answer
// (separated by the first NUL byte; without one, the input is both). Every kind is
// extracted, compared and canonicalised, and judge replies are parsed. The checker never
// throws on any text: any exception, crash, sanitizer report or hang is a bug (recursion
// depth, nesting, input lengths and exponents are bounded inside).
//
//   ./fuzz_grading -max_total_time=60 -timeout=5 -max_len=4096 corpus/grading
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "grading/grader.h"
#include "grading/judge.h"
#include "grading/latex_expr.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nul = in.find('\0');
  std::string_view response = nul == std::string_view::npos ? in : in.substr(0, nul);
  std::string_view gold = nul == std::string_view::npos ? in : in.substr(nul + 1);
  using s1::grading::AnswerKind;
  for (AnswerKind kind : {AnswerKind::Math, AnswerKind::Integer, AnswerKind::MultipleChoice}) {
    auto v = s1::grading::grade(response, gold, kind);
    // the answer as written, against itself and against the gold, both ways round
    if (v.extracted) {
      (void)s1::grading::equivalent(*v.extracted, gold, kind);
      (void)s1::grading::canonical(*v.extracted, kind);
    }
    (void)s1::grading::compare(response, gold, kind);
    (void)s1::grading::compare(gold, response, kind);
    (void)s1::grading::canonical(gold, kind);
  }
  (void)s1::grading::evaluate(gold, 1);
  (void)s1::grading::parse_judge_reply(gold, 4);
  return 0;
}
