// Answers for majority voting, behind a small interface: the evaluation layer will bring
// a full math checker (normalisation, equivalence); this simple one is enough to vote.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace s1::control {

class AnswerExtractor {
 public:
  virtual ~AnswerExtractor() = default;
  // The answer a response commits to, normalised for comparison; nullopt when none.
  virtual std::optional<std::string> extract(std::string_view response) const = 0;
};

// The content of the last \boxed{...} (braces balanced); else the rest of the line after
// the last "Final Answer:" (s1's forced end text), else after the last "Answer:".
// Surrounding spaces, '$' and a final '.' are dropped.
class SimpleAnswerExtractor : public AnswerExtractor {
 public:
  std::optional<std::string> extract(std::string_view response) const override;
};

struct Vote {
  std::string answer;   // the most common answer ("" when no sample had one)
  int count = 0;        // samples that gave it
  int first_index = -1; // the first sample that gave it
  int voters = 0;       // samples with any answer
};

// Majority vote; ties go to the answer seen first (Python's Counter.most_common, as in
// s1's maj@k). Samples without an answer do not vote.
Vote majority_vote(const std::vector<std::optional<std::string>>& answers);

}  // namespace s1::control
