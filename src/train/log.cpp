#include "train/log.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/error.h"

namespace s1::train {

namespace {
std::vector<nlohmann::json> read_records(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty()) continue;
    try {
      out.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception&) {
      break;  // a line cut short by a crash ends the usable log
    }
  }
  return out;
}
}  // namespace

void truncate_log(const std::string& path, int64_t last_step) {
  if (!std::filesystem::exists(path)) return;
  std::string kept;
  for (const auto& r : read_records(path))
    if (r.value("step", int64_t(0)) <= last_step) kept += r.dump() + "\n";
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    f << kept;
    if (!f.flush()) fail(tmp, ": write failed");
  }
  std::filesystem::rename(tmp, path);
}

void append_log(const std::string& path, const nlohmann::json& record) {
  std::ofstream f(path, std::ios::app);
  if (!f) fail(path, ": cannot open for appending");
  f << record.dump() << "\n";
  f.flush();
}

bool write_loss_svg(const std::string& log_path, const std::string& svg_path) {
  std::vector<std::pair<double, double>> pts;
  for (const auto& r : read_records(log_path))
    if (r.contains("step") && r.contains("loss")) pts.emplace_back(r["step"].get<double>(), r["loss"].get<double>());
  if (pts.empty()) return false;
  double x0 = pts.front().first, x1 = pts.back().first, y0 = 0, y1 = 0;
  for (const auto& p : pts) y1 = std::max(y1, p.second);
  if (x1 <= x0) x1 = x0 + 1;
  if (y1 <= y0) y1 = y0 + 1;
  const double W = 640, Hh = 360, L = 60, R = 20, T = 30, B = 40;
  auto X = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
  auto Y = [&](double y) { return T + (1 - (y - y0) / (y1 - y0)) * (Hh - T - B); };
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << Hh << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s << "<text x=\"" << W / 2 << "\" y=\"18\" text-anchor=\"middle\">training loss per step (s1 train)</text>\n";
  s << "<line x1=\"" << L << "\" y1=\"" << Hh - B << "\" x2=\"" << W - R << "\" y2=\"" << Hh - B << "\" stroke=\"black\"/>\n";
  s << "<line x1=\"" << L << "\" y1=\"" << T << "\" x2=\"" << L << "\" y2=\"" << Hh - B << "\" stroke=\"black\"/>\n";
  for (int i = 0; i <= 4; ++i) {
    const double yv = y0 + (y1 - y0) * i / 4, xv = x0 + (x1 - x0) * i / 4;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3g", yv);
    s << "<text x=\"" << L - 6 << "\" y=\"" << Y(yv) + 4 << "\" text-anchor=\"end\">" << buf << "</text>\n";
    std::snprintf(buf, sizeof buf, "%.0f", xv);
    s << "<text x=\"" << X(xv) << "\" y=\"" << Hh - B + 16 << "\" text-anchor=\"middle\">" << buf << "</text>\n";
  }
  s << "<text x=\"" << W / 2 << "\" y=\"" << Hh - 6 << "\" text-anchor=\"middle\">optimizer step</text>\n";
  s << "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"";
  for (const auto& p : pts) s << X(p.first) << "," << Y(p.second) << " ";
  s << "\"/>\n</svg>\n";
  const std::string tmp = svg_path + ".tmp";
  {
    std::ofstream f(tmp);
    f << s.str();
    if (!f.flush()) fail(tmp, ": write failed");
  }
  std::filesystem::rename(tmp, svg_path);
  return true;
}

}  // namespace s1::train
