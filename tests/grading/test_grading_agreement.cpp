// Agreement with Qwen2.5-Math's grader on the math_cot_50 fixture (400 responses): the
// rates measured when the checker was written must not drop, and every disagreement must
// be one that was reviewed (tests/data/grading/agreement_notes.tsv) and still be decided
// the way the review argued.
#include <gtest/gtest.h>

#include "agreement.h"
#include "agreement_notes.h"
#include "grading/grader.h"

namespace {

using namespace s1::grading::agreement;

const Report& report() {
  static const Report r = measure(std::string(S1_TEST_DATA) + "/grading/math_cot_50.jsonl");
  return r;
}

TEST(GradingAgreement, RatesStayAtLeastAsMeasured) {
  const Report& r = report();
  ASSERT_EQ(r.n, 400);
  // measured: extraction 392/400 equivalent (376 identical strings), verdicts 392/400
  // against MATH's answer and 400/400 against Qwen's own normalised gold
  EXPECT_GE(r.extraction_agree, 392);
  EXPECT_GE(r.extraction_identical, 376);
  EXPECT_GE(r.verdict_agree, 392);
  EXPECT_GE(r.verdict_agree_vs_gt, 400);
  EXPECT_EQ(r.ours_correct, 383);  // 375 of theirs + the 8 reviewed in our favour
  EXPECT_EQ(r.theirs_correct, 375);
}

TEST(GradingAgreement, EveryDisagreementIsReviewedAndDecidedAsArgued) {
  auto notes = load_notes(std::string(S1_TEST_DATA) + "/grading/agreement_notes.tsv");
  for (const auto& row : report().rows) {
    if (row.ours == row.theirs && row.extraction_agrees) continue;
    const Note* n = find_note(notes, row.idx, row.sample);
    ASSERT_NE(n, nullptr) << "unreviewed disagreement: idx " << row.idx << " sample " << row.sample
                          << " ours '" << row.extracted << "' theirs '" << row.pred << "'";
    if (n->right == "ours") EXPECT_NE(row.ours, row.theirs);
  }
}

TEST(GradingAgreement, TheReviewedCaseIsDecidedOnItsMerits) {
  // idx 3: the arrival time "4:30 p.m." (see agreement_notes.tsv)
  int seen = 0;
  for (const auto& row : report().rows) {
    if (row.idx != 3) continue;
    ++seen;
    EXPECT_TRUE(row.ours);
    EXPECT_FALSE(row.theirs);
    EXPECT_EQ(row.extracted, "4:30 \\text{ p.m.}");
  }
  EXPECT_EQ(seen, 8);
  using s1::grading::AnswerKind;
  EXPECT_FALSE(s1::grading::equivalent("4:30 \\text{ a.m.}", "\\text{4:30 p.m.}", AnswerKind::Math));
  EXPECT_FALSE(s1::grading::equivalent("4:30", "\\text{4:30 p.m.}", AnswerKind::Math));
}

TEST(GradingAgreement, NotationOnlyDifferencesAreEquivalent) {
  // extraction differs in string but not in value: \dfrac vs \frac, units, degrees
  int notation = 0;
  for (const auto& row : report().rows)
    if (row.extracted_some && row.extracted != row.pred && row.extraction_agrees) ++notation;
  EXPECT_EQ(notation, report().extraction_agree - report().extraction_identical);
  EXPECT_GT(notation, 0);
}

}  // namespace
