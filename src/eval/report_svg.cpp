#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "eval/report.h"

namespace s1::eval {

using nlohmann::json;

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// 1, 2, 5 x 10^k ticks covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target) {
  std::vector<double> t;
  if (!(hi > lo)) return {lo};
  double raw = (hi - lo) / std::max(target, 1);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) t.push_back(v);
  return t;
}

std::string tick_label(double v) {
  if (v >= 10000 && std::fmod(v, 1000) == 0) return fmt("%.0fk", v / 1000);
  if (v >= 10000) return fmt("%.1fk", v / 1000);
  if (std::fabs(v - std::round(v)) > 1e-9) return fmt("%.1f", v);
  return fmt("%.0f", v);
}

}  // namespace

std::string scaling_svg(const json& summary) {
  const double W = 720, H = 440, L = 70, R = 190, T = 40, B = 60;
  const double pw = W - L - R, ph = H - T - B;
  // the lines: every method with at least one point with an accuracy (the derived
  // class-conditional method is its two class-* points, already drawn)
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::pair<double, double>>> lines;
  for (const auto& p : summary["points"]) {
    if (p["accuracy"].is_null()) continue;
    std::string m = p["method"];
    if (!lines.count(m)) order.push_back(m);
    lines[m].push_back({p["mean_thinking_tokens"].get<double>(), p["accuracy"].get<double>() * 100});
  }
  double xmin = 1e300, xmax = -1e300;
  for (auto& [m, pts] : lines) {
    std::sort(pts.begin(), pts.end());
    for (auto& [x, y] : pts) {
      xmin = std::min(xmin, x);
      xmax = std::max(xmax, x);
    }
  }
  if (order.empty()) xmin = 0, xmax = 1;
  // a log axis when the points span a factor of 8 or more (budgets usually double)
  bool logx = xmin > 0 && xmax / xmin >= 8;
  double lo, hi;
  if (logx) {
    lo = std::pow(2.0, std::floor(std::log2(xmin)));
    hi = std::pow(2.0, std::ceil(std::log2(xmax)));
  } else {
    double pad = std::max((xmax - xmin) * 0.1, 5.0);
    lo = std::max(0.0, xmin - pad);
    hi = xmax + pad;
  }
  auto X = [&](double x) {
    double f = logx ? (std::log2(x) - std::log2(lo)) / (std::log2(hi) - std::log2(lo)) : (x - lo) / (hi - lo);
    return L + f * pw;
  };
  auto Y = [&](double y) { return T + (1 - y / 100.0) * ph; };

  std::string s;
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt("%.0f", W) + "\" height=\"" + fmt("%.0f", H) +
       "\" viewBox=\"0 0 " + fmt("%.0f", W) + " " + fmt("%.0f", H) +
       "\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\" aria-label=\"accuracy against thinking tokens\">\n";
  s += "<title>Accuracy against mean thinking tokens</title>\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<text x=\"" + fmt("%.0f", L + pw / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" +
       html_escape("Test-time scaling: " + summary.value("data", std::string("")) + " (" +
                   std::to_string(summary.value("questions", 0)) + " questions)") +
       "</text>\n";
  // grid and y axis: 0..100%
  for (int y = 0; y <= 100; y += 20) {
    s += "<line x1=\"" + fmt("%.1f", L) + "\" x2=\"" + fmt("%.1f", L + pw) + "\" y1=\"" + fmt("%.1f", Y(y)) +
         "\" y2=\"" + fmt("%.1f", Y(y)) + "\" stroke=\"#ddd\"/>\n";
    s += "<text x=\"" + fmt("%.1f", L - 8) + "\" y=\"" + fmt("%.1f", Y(y) + 4) + "\" text-anchor=\"end\">" +
         std::to_string(y) + "%</text>\n";
  }
  std::vector<double> xt;
  if (logx)
    for (double v = lo; v <= hi * 1.0001; v *= 2) xt.push_back(v);
  else
    xt = nice_ticks(lo, hi, 6);
  for (double v : xt) {
    s += "<line x1=\"" + fmt("%.1f", X(v)) + "\" x2=\"" + fmt("%.1f", X(v)) + "\" y1=\"" + fmt("%.1f", T) +
         "\" y2=\"" + fmt("%.1f", T + ph) + "\" stroke=\"#eee\"/>\n";
    s += "<text x=\"" + fmt("%.1f", X(v)) + "\" y=\"" + fmt("%.1f", T + ph + 18) + "\" text-anchor=\"middle\">" +
         tick_label(v) + "</text>\n";
  }
  s += "<rect x=\"" + fmt("%.1f", L) + "\" y=\"" + fmt("%.1f", T) + "\" width=\"" + fmt("%.1f", pw) + "\" height=\"" +
       fmt("%.1f", ph) + "\" fill=\"none\" stroke=\"#333\"/>\n";
  s += "<text x=\"" + fmt("%.1f", L + pw / 2) + "\" y=\"" + fmt("%.1f", H - 16) +
       "\" text-anchor=\"middle\">Mean thinking tokens" + (logx ? std::string(" (log scale)") : std::string()) +
       "</text>\n";
  s += "<text transform=\"translate(18 " + fmt("%.1f", T + ph / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">Accuracy (%)</text>\n";
  // one line per method, markers with a tooltip, legend on the right
  for (size_t i = 0; i < order.size(); ++i) {
    const char* color = kColors[i % (sizeof kColors / sizeof *kColors)];
    const auto& pts = lines[order[i]];
    std::string path;
    for (const auto& [x, y] : pts) {
      if (!path.empty()) path += ' ';
      path += fmt("%.1f", X(x));
      path += ',';
      path += fmt("%.1f", Y(y));
    }
    s += "<g class=\"series\" data-method=\"" + html_escape(order[i]) + "\">\n";
    if (pts.size() > 1)
      s += "<polyline points=\"" + path + "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"2\"/>\n";
    for (const auto& [x, y] : pts)
      s += "<circle cx=\"" + fmt("%.1f", X(x)) + "\" cy=\"" + fmt("%.1f", Y(y)) + "\" r=\"4\" fill=\"" + color +
           "\"><title>" + html_escape(order[i]) + ": " + fmt("%.0f", x) + " tokens, " + fmt("%.1f", y) +
           "%</title></circle>\n";
    double ly = T + 10 + double(i) * 20;
    s += "<line x1=\"" + fmt("%.1f", L + pw + 16) + "\" x2=\"" + fmt("%.1f", L + pw + 40) + "\" y1=\"" +
         fmt("%.1f", ly) + "\" y2=\"" + fmt("%.1f", ly) + "\" stroke=\"" + color + "\" stroke-width=\"2\"/>\n";
    s += "<text x=\"" + fmt("%.1f", L + pw + 46) + "\" y=\"" + fmt("%.1f", ly + 4) + "\">" + html_escape(order[i]) +
         "</text>\n</g>\n";
  }
  if (order.empty())
    s += "<text x=\"" + fmt("%.1f", L + pw / 2) + "\" y=\"" + fmt("%.1f", T + ph / 2) +
         "\" text-anchor=\"middle\">no finished samples</text>\n";
  s += "</svg>\n";
  return s;
}

}  // namespace s1::eval
