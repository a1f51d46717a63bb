#include <gtest/gtest.h>

#include "llm/client.h"
#include "llm/stop_strings.h"

using s1::llm::StopMatcher;

TEST(StopMatcher, MatchAcrossPiecesAndCutBeforeIt) {
  StopMatcher m({"</answer>", "\n\n"});
  EXPECT_FALSE(m.push("The answer is 4</ans"));
  EXPECT_TRUE(m.push("wer> and more"));
  EXPECT_EQ(m.text(), "The answer is 4");
  EXPECT_EQ(m.which(), "</answer>");
}

TEST(StopMatcher, EarliestOfSeveralStopsWins) {
  StopMatcher m({"B", "A"});
  EXPECT_TRUE(m.push("xxAyyB"));
  EXPECT_EQ(m.text(), "xx");
  EXPECT_EQ(m.which(), "A");
}

TEST(StopMatcher, NoStopKeepsAllText) {
  StopMatcher m({"zz", ""});
  EXPECT_FALSE(m.push("abc"));
  EXPECT_FALSE(m.push("z"));
  EXPECT_EQ(m.text(), "abcz");
  EXPECT_EQ(m.which(), "");
}

TEST(Request, CanonicalJsonCoversEveryField) {
  s1::llm::Request a;
  a.prompt = "p";
  s1::llm::Request b = a;
  EXPECT_EQ(a.to_json(), b.to_json());
  b.seed = 3;
  EXPECT_NE(a.to_json(), b.to_json());
  b = a;
  b.stop = {"x"};
  EXPECT_NE(a.to_json(), b.to_json());
  b = a;
  b.messages = {{"user", "p"}};
  EXPECT_NE(a.to_json(), b.to_json());
  EXPECT_FALSE(a.to_json().contains("min_tokens"));
}
