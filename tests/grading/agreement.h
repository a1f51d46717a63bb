// Agreement of our checker with another grader's verdicts on the math_cot_50 fixture
// (Qwen2.5-Math's evaluation: extracted `pred` and verdict `score` per response). Used by
// test_grading_agreement (thresholds) and grading_agreement (writes the report).
#pragma once
#include <string>
#include <vector>

namespace s1::grading::agreement {

struct Row {
  int idx = 0;     // problem idx in the fixture
  int sample = 0;  // 0..7
  std::string gold;         // the fixture's `answer` (MATH's own answer)
  std::string qwen_gt;      // the fixture's `gt` (Qwen's normalised gold)
  std::string extracted;    // ours ("" when none)
  bool extracted_some = false;
  std::string pred;         // theirs
  bool ours = false;        // our verdict against `answer`
  bool ours_vs_gt = false;  // our verdict against `gt`
  bool theirs = false;      // their `score`
  std::string method;
  bool extraction_agrees = false;  // our extracted answer is equivalent to their pred
};

struct Report {
  std::vector<Row> rows;
  int n = 0;
  int extraction_agree = 0, extraction_identical = 0;
  int verdict_agree = 0, verdict_agree_vs_gt = 0;
  int ours_correct = 0, theirs_correct = 0;
};

// Reads the fixture (one problem per line, 8 responses each) and grades every response.
Report measure(const std::string& fixture_path);

}  // namespace s1::grading::agreement
