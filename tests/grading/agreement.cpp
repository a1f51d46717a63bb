#include "agreement.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "grading/grader.h"

namespace s1::grading::agreement {

Report measure(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("cannot open ", path);
  Report rep;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    const auto& responses = j.at("code");  // == "response" in this file; "code" is what Qwen graded
    for (size_t k = 0; k < responses.size(); ++k) {
      Row r;
      r.idx = j.at("idx").get<int>();
      r.sample = int(k);
      r.gold = j.at("answer").get<std::string>();
      r.qwen_gt = j.at("gt").get<std::string>();
      r.pred = j.at("pred").at(k).get<std::string>();
      r.theirs = j.at("score").at(k).get<bool>();
      const std::string resp = responses.at(k).get<std::string>();
      Verdict v = grade(resp, r.gold, AnswerKind::Math);
      r.extracted_some = v.extracted.has_value();
      r.extracted = v.extracted.value_or("");
      r.ours = v.correct;
      r.method = v.method;
      r.ours_vs_gt = r.extracted_some && equivalent(r.extracted, r.qwen_gt, AnswerKind::Math);
      r.extraction_agrees =
          r.extracted_some ? (r.extracted == r.pred || equivalent(r.extracted, r.pred, AnswerKind::Math))
                           : r.pred.empty();
      ++rep.n;
      rep.extraction_agree += r.extraction_agrees;
      rep.extraction_identical += r.extracted_some && r.extracted == r.pred;
      rep.verdict_agree += r.ours == r.theirs;
      rep.verdict_agree_vs_gt += r.ours_vs_gt == r.theirs;
      rep.ours_correct += r.ours;
      rep.theirs_correct += r.theirs;
      rep.rows.push_back(std::move(r));
    }
  }
  return rep;
}

}  // namespace s1::grading::agreement
