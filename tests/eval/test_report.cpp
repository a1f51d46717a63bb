// The report's pieces: escaping for HTML and for JSON inside <script>, the thinking
// split at the Waits, the SVG plot's axes, lines and legend.
#include <gtest/gtest.h>

#include "eval/report.h"

namespace s1::eval {
namespace {

TEST(EvalReport, EscapesHtmlAndScriptJson) {
  EXPECT_EQ(html_escape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  nlohmann::json j = {{"t", "</script><!-- & \u2028 é"}};
  std::string s = json_for_script(j);
  EXPECT_EQ(s.find('<'), std::string::npos);
  EXPECT_EQ(s.find('>'), std::string::npos);
  EXPECT_EQ(s.find('&'), std::string::npos);
  for (unsigned char c : s) EXPECT_LT(c, 0x80);  // ASCII only: U+2028 cannot break the script
  EXPECT_EQ(nlohmann::json::parse(s), j);         // and it is still the same JSON
}

TEST(EvalReport, ThinkingSegmentsMarkEachWait) {
  SampleRecord r;
  r.thinking_text = "\nfirstWait secondWait";
  r.waits = {{2, 6, "Wait"}, {5, 17, "Wait"}};
  nlohmann::json segs = thinking_segments(r);
  ASSERT_EQ(segs.size(), 4u) << segs.dump();
  EXPECT_EQ(segs[0], nlohmann::json::array({"t", "\nfirst"}));
  EXPECT_EQ(segs[1][0], "w");
  EXPECT_EQ(segs[1][1], "Wait");
  EXPECT_EQ(segs[1][2], 2);
  EXPECT_EQ(segs[2], nlohmann::json::array({"t", " second"}));
  EXPECT_EQ(segs[3][1], "Wait");
  // a masked end (no string) is a marker without text; bad offsets are skipped
  r.thinking_text = "abc";
  r.waits = {{1, 1, ""}, {9, 99, "Wait"}};
  segs = thinking_segments(r);
  ASSERT_EQ(segs.size(), 3u) << segs.dump();
  EXPECT_EQ(segs[1][0], "w");
  EXPECT_EQ(segs[1][1], "");
}

TEST(EvalReport, SvgHasAxesOneLinePerMethodAndALegend) {
  nlohmann::json summary = {
      {"data", "aime24 <test>"},
      {"questions", 30},
      {"points",
       {{{"method", "budget"}, {"mean_thinking_tokens", 480.0}, {"accuracy", 0.2}},
        {{"method", "budget"}, {"mean_thinking_tokens", 1900.0}, {"accuracy", 0.4}},
        {{"method", "budget"}, {"mean_thinking_tokens", 7000.0}, {"accuracy", 0.5}},
        {{"method", "token-prompt"}, {"mean_thinking_tokens", 3000.0}, {"accuracy", 0.3}},
        {{"method", "token-prompt"}, {"mean_thinking_tokens", 900.0}, {"accuracy", nullptr}}}}};
  std::string svg = scaling_svg(summary);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(svg.find("Mean thinking tokens (log scale)"), std::string::npos);  // 480..7000 spans > 8x
  EXPECT_NE(svg.find("Accuracy (%)"), std::string::npos);
  EXPECT_NE(svg.find("aime24 &lt;test&gt;"), std::string::npos);
  EXPECT_NE(svg.find("data-method=\"budget\""), std::string::npos);
  EXPECT_NE(svg.find("data-method=\"token-prompt\""), std::string::npos);
  size_t lines = 0;
  for (size_t p = 0; (p = svg.find("<polyline", p)) != std::string::npos; ++p) ++lines;
  EXPECT_EQ(lines, 1u);  // budget has 3 points; token-prompt has one with an accuracy
  size_t dots = 0;
  for (size_t p = 0; (p = svg.find("<circle", p)) != std::string::npos; ++p) ++dots;
  EXPECT_EQ(dots, 4u);
  EXPECT_NE(svg.find(">100%</text>"), std::string::npos);
  EXPECT_NE(svg.find(">8192</text>"), std::string::npos);  // powers of two on a log axis
  EXPECT_NE(scaling_svg({{"points", nlohmann::json::array()}}).find("no finished samples"), std::string::npos);
}

}  // namespace
}  // namespace s1::eval
