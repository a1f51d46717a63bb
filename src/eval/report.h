// The human-facing outputs: scaling.svg (accuracy against mean thinking tokens, one line
// per method; hand-written SVG) and report.html (self-contained: inline CSS, JS and data,
// no network) with the tables, the plot and a browser of every sample.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "eval/sample.h"

namespace s1::eval {

struct SweepConfig;

std::string scaling_svg(const nlohmann::json& summary);
std::string report_html(const nlohmann::json& summary, const std::vector<SampleRecord>& records, const SweepConfig& cfg);

// &, <, >, " and ' as entities (text and attribute values alike).
std::string html_escape(std::string_view s);
// JSON safe to put inside <script>: ASCII only, and <, >, & as \u escapes.
std::string json_for_script(const nlohmann::json& j);

// A thinking text cut into [kind, text] pieces for display: "t" plain thinking, "w" an
// injected ignore string, at the waits' byte offsets.
nlohmann::json thinking_segments(const SampleRecord& r);

}  // namespace s1::eval
