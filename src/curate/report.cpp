// `s1 curate report`: the count after every stage next to the paper's, why each
// removed question went, and the domain / length histograms as SVG.
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "curate/io.h"
#include "curate/pipeline.h"

namespace s1::curate {
using nlohmann::json;

namespace {
std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

json length_stats(std::vector<int64_t> v) {
  if (v.empty()) return json::object();
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (auto x : v) sum += double(x);
  return {{"n", v.size()}, {"min", v.front()}, {"median", v[v.size() / 2]}, {"mean", std::round(sum / double(v.size()))},
          {"max", v.back()}};
}

std::vector<int64_t> lengths(Db& db, const std::string& sql) {
  std::vector<int64_t> v;
  Stmt s = db.prepare(sql);
  while (s.step()) v.push_back(s.i64(0));
  return v;
}
}  // namespace

json report(Db& db) {
  json r;
  int64_t total = db.scalar("SELECT COUNT(*) FROM questions");
  json counts = json::array();
  counts.push_back({{"stage", "ingested"}, {"count", total}});
  std::string upto;
  for (const auto& s : removal_stages()) {
    upto += (upto.empty() ? "'" : ",'") + s + "'";
    bool ran = db.scalar("SELECT COUNT(*) FROM stages WHERE stage='" + s + "'") > 0;
    json c = {{"stage", s},
              {"count", db.scalar("SELECT COUNT(*) FROM questions WHERE id NOT IN (SELECT qid FROM removals WHERE stage IN (" +
                                  upto + "))")},
              {"ran", ran}};
    counts.push_back(c);
  }
  counts.push_back({{"stage", "selected"}, {"count", db.scalar("SELECT COUNT(*) FROM selections WHERE name='s1k'")}});
  r["counts"] = counts;
  r["paper"] = {{"decontaminate", 59029}, {"quality", 51581}, {"difficulty", 24496}, {"selected", 1000},
                {"note", "s1 paper: 59,029 collected and decontaminated -> 51,581 quality -> 24,496 difficulty -> 1,000"}};
  json rem = json::object();
  {
    Stmt s = db.prepare("SELECT stage, reason, COUNT(*) FROM removals GROUP BY stage, reason ORDER BY stage, COUNT(*) DESC");
    while (s.step()) rem[s.str(0)][s.str(1)] = s.i64(2);
  }
  r["removals"] = rem;
  json src = json::array();
  {
    Stmt s = db.prepare(
        "SELECT s.name, s.adapter, s.rows, (SELECT COUNT(*) FROM questions q WHERE q.source_id=s.id AND q.id NOT IN "
        "(SELECT qid FROM removals)) FROM sources s ORDER BY s.id");
    while (s.step()) src.push_back({{"name", s.str(0)}, {"adapter", s.str(1)}, {"rows", s.i64(2)}, {"live", s.i64(3)}});
  }
  r["sources"] = src;
  json outs = json::object();
  {
    Stmt s = db.prepare("SELECT role, SUM(error IS NULL), SUM(error IS NOT NULL) FROM outputs GROUP BY role");
    while (s.step()) outs[s.str(0)] = {{"ok", s.i64(1)}, {"error", s.i64(2)}};
  }
  r["outputs"] = outs;
  r["calls"] = {{"total", db.scalar("SELECT COUNT(*) FROM calls")},
                {"failed", db.scalar("SELECT COUNT(*) FROM calls WHERE ok=0")},
                {"distinct_requests", db.scalar("SELECT COUNT(DISTINCT key) FROM calls")},
                {"cache_entries", db.scalar("SELECT COUNT(*) FROM cache")}};
  json gr = json::object();
  {
    Stmt s = db.prepare("SELECT role, SUM(correct=1), SUM(correct=0), SUM(correct IS NULL) FROM grades GROUP BY role");
    while (s.step()) gr[s.str(0)] = {{"correct", s.i64(1)}, {"wrong", s.i64(2)}, {"no_verdict", s.i64(3)}};
  }
  r["grades"] = gr;
  json dom = json::object(), pool_dom = json::object();
  {
    Stmt s = db.prepare("SELECT d.title, COUNT(*) FROM selections x JOIN domains d ON d.qid=x.qid WHERE x.name='s1k' "
                        "GROUP BY d.title ORDER BY COUNT(*) DESC");
    while (s.step()) dom[s.str(0)] = s.i64(1);
    Stmt p = db.prepare("SELECT d.title, COUNT(*) FROM domains d WHERE d.qid NOT IN (SELECT qid FROM removals) "
                        "GROUP BY d.title ORDER BY COUNT(*) DESC");
    while (p.step()) pool_dom[p.str(0)] = p.i64(1);
  }
  r["domains"] = {{"selected", dom}, {"pool", pool_dom}};
  json sel = json::object();
  {
    Stmt s = db.prepare("SELECT name, COUNT(*) FROM selections GROUP BY name");
    while (s.step()) sel[s.str(0)] = s.i64(1);
  }
  r["selections"] = sel;
  r["trace_tokens"] = {
      {"pool", length_stats(lengths(db, "SELECT trace_tokens FROM questions WHERE trace_tokens IS NOT NULL AND id NOT IN "
                                        "(SELECT qid FROM removals)"))},
      {"selected", length_stats(lengths(db, "SELECT q.trace_tokens FROM selections s JOIN questions q ON q.id=s.qid "
                                            "WHERE s.name='s1k' AND q.trace_tokens IS NOT NULL"))},
      {"tokenizer", db.meta("length_tokenizer").value_or("")}};
  return r;
}

std::string report_text(const json& r) {
  std::string o = "stage            count   (paper)\n";
  auto paper = [&](const std::string& s) -> std::string {
    return r["paper"].contains(s) ? "   (" + std::to_string(r["paper"][s].get<int64_t>()) + ")" : "";
  };
  for (const auto& c : r["counts"]) {
    std::string s = c["stage"];
    char buf[128];
    std::snprintf(buf, sizeof buf, "%-14s %7lld", s.c_str(), (long long)c["count"].get<int64_t>());
    o += buf + paper(s);
    if (c.contains("ran") && !c["ran"].get<bool>()) o += "   [not run]";
    o += "\n";
  }
  o += "\nremovals by reason:\n";
  for (auto& [stage, reasons] : r["removals"].items())
    for (auto& [reason, n] : reasons.items()) o += "  " + stage + " / " + reason + ": " + std::to_string(n.get<int64_t>()) + "\n";
  o += "\nsources:\n";
  for (const auto& s : r["sources"])
    o += "  " + s["name"].get<std::string>() + " (" + s["adapter"].get<std::string>() + "): " +
         std::to_string(s["rows"].get<int64_t>()) + " rows, " + std::to_string(s["live"].get<int64_t>()) + " in the pool\n";
  if (!r["outputs"].empty()) {
    o += "\noutputs:\n";
    for (auto& [role, v] : r["outputs"].items())
      o += "  " + role + ": " + std::to_string(v["ok"].get<int64_t>()) + " ok, " + std::to_string(v["error"].get<int64_t>()) + " failed\n";
  }
  const auto& c = r["calls"];
  o += "\nmodel calls: " + std::to_string(c["total"].get<int64_t>()) + " (" + std::to_string(c["failed"].get<int64_t>()) +
       " failed, " + std::to_string(c["distinct_requests"].get<int64_t>()) + " distinct requests), cache entries " +
       std::to_string(c["cache_entries"].get<int64_t>()) + "\n";
  if (!r["grades"].empty()) {
    o += "\ngrades:\n";
    for (auto& [role, v] : r["grades"].items())
      o += "  " + role + ": correct " + std::to_string(v["correct"].get<int64_t>()) + ", wrong " +
           std::to_string(v["wrong"].get<int64_t>()) + ", no verdict " + std::to_string(v["no_verdict"].get<int64_t>()) + "\n";
  }
  if (!r["selections"].empty()) {
    o += "\nselections:";
    for (auto& [n, v] : r["selections"].items()) o += " " + n + " " + std::to_string(v.get<int64_t>());
    o += "\n";
  }
  if (!r["domains"]["selected"].empty()) {
    o += "\ndomains of the selection:\n";
    for (auto& [d, n] : r["domains"]["selected"].items()) o += "  " + d + ": " + std::to_string(n.get<int64_t>()) + "\n";
  }
  const auto& t = r["trace_tokens"];
  for (const char* k : {"pool", "selected"})
    if (!t[k].empty())
      o += std::string("trace tokens (") + k + "): n " + std::to_string(t[k]["n"].get<int64_t>()) + ", median " +
           std::to_string(t[k]["median"].get<int64_t>()) + ", max " + std::to_string(t[k]["max"].get<int64_t>()) + "\n";
  return o;
}

void write_svgs(Db& db, const std::string& dir) {
  std::filesystem::create_directories(dir);
  json r = report(db);
  // Domains: bars of the selection and (lighter) the pool, one row per domain.
  {
    std::vector<std::tuple<std::string, int64_t, int64_t>> rows;
    for (auto& [d, n] : r["domains"]["pool"].items()) {
      int64_t s = r["domains"]["selected"].value(d, int64_t(0));
      rows.emplace_back(d, s, n.get<int64_t>());
    }
    std::sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return std::get<2>(a) > std::get<2>(b); });
    int64_t mx = 1;
    for (auto& [d, s, p] : rows) mx = std::max({mx, s, p});
    int h = 40 + 18 * int(rows.size());
    std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" height=\"" + std::to_string(h) +
                      "\" font-family=\"sans-serif\" font-size=\"11\">\n<text x=\"10\" y=\"20\" font-size=\"14\">Domains: "
                      "pool (grey) and selection (blue)</text>\n";
    int y = 36;
    for (auto& [d, s, p] : rows) {
      double wp = 500.0 * double(p) / double(mx), ws = 500.0 * double(s) / double(mx);
      svg += "<text x=\"320\" y=\"" + std::to_string(y + 11) + "\" text-anchor=\"end\">" + esc(d.substr(0, 50)) + "</text>";
      svg += "<rect x=\"330\" y=\"" + std::to_string(y) + "\" width=\"" + std::to_string(wp) + "\" height=\"14\" fill=\"#ccc\"/>";
      svg += "<rect x=\"330\" y=\"" + std::to_string(y + 3) + "\" width=\"" + std::to_string(ws) + "\" height=\"8\" fill=\"#36c\"/>";
      svg += "<text x=\"" + std::to_string(int(335 + wp)) + "\" y=\"" + std::to_string(y + 11) + "\">" + std::to_string(s) +
             " / " + std::to_string(p) + "</text>\n";
      y += 18;
    }
    write_file_atomic(dir + "/domains.svg", svg + "</svg>\n");
  }
  // Trace lengths: 20-bin histograms of the pool and the selection.
  {
    auto pool = lengths(db, "SELECT trace_tokens FROM questions WHERE trace_tokens IS NOT NULL AND id NOT IN (SELECT qid FROM removals)");
    auto sel = lengths(db, "SELECT q.trace_tokens FROM selections s JOIN questions q ON q.id=s.qid WHERE s.name='s1k' AND q.trace_tokens IS NOT NULL");
    int64_t mx = 1;
    for (auto v : pool) mx = std::max(mx, v);
    const int bins = 20;
    std::vector<int64_t> hp(bins), hs(bins);
    for (auto v : pool) hp[size_t(std::min<int64_t>(bins - 1, v * bins / (mx + 1)))]++;
    for (auto v : sel) hs[size_t(std::min<int64_t>(bins - 1, v * bins / (mx + 1)))]++;
    int64_t top = 1;
    for (int b = 0; b < bins; ++b) top = std::max({top, hp[size_t(b)], hs[size_t(b)]});
    std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"700\" height=\"340\" font-family=\"sans-serif\" "
                      "font-size=\"11\">\n<text x=\"10\" y=\"20\" font-size=\"14\">Trace length (tokens): pool (grey), "
                      "selection (blue); max " + std::to_string(mx) + "</text>\n";
    for (int b = 0; b < bins; ++b) {
      double x = 40 + b * 31.0, hpb = 260.0 * double(hp[size_t(b)]) / double(top), hsb = 260.0 * double(hs[size_t(b)]) / double(top);
      svg += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(300 - hpb) + "\" width=\"14\" height=\"" +
             std::to_string(hpb) + "\" fill=\"#ccc\"/>";
      svg += "<rect x=\"" + std::to_string(x + 14) + "\" y=\"" + std::to_string(300 - hsb) + "\" width=\"14\" height=\"" +
             std::to_string(hsb) + "\" fill=\"#36c\"/>";
      svg += "<text x=\"" + std::to_string(x) + "\" y=\"315\" font-size=\"8\">" + std::to_string(b * (mx + 1) / bins) + "</text>\n";
    }
    write_file_atomic(dir + "/lengths.svg", svg + "</svg>\n");
  }
}

}  // namespace s1::curate
