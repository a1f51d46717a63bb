#include <cstdio>
#include <map>
#include <set>

#include "eval/report.h"
#include "eval/sweep.h"

namespace s1::eval {

using nlohmann::json;

std::string json_for_script(const json& j) {
  std::string s = j.dump(-1, ' ', true, json::error_handler_t::replace);
  std::string out;
  out.reserve(s.size() + s.size() / 16);
  for (char c : s) {
    // only inside strings can these occur: as \u escapes they cannot end the <script>
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else out += c;
  }
  return out;
}

json thinking_segments(const SampleRecord& r) {
  json segs = json::array();
  const std::string& t = r.thinking_text;
  size_t pos = 0;
  for (const auto& w : r.waits) {
    size_t at = size_t(std::max<int64_t>(0, w.char_offset));
    if (at < pos || at > t.size()) continue;  // out of order or out of range: not markable
    if (at > pos) segs.push_back({"t", t.substr(pos, at - pos)});
    bool matches = t.compare(at, w.text.size(), w.text) == 0;
    segs.push_back({"w", matches ? w.text : std::string(), w.token_position});
    pos = matches ? at + w.text.size() : at;
  }
  if (pos < t.size()) segs.push_back({"t", t.substr(pos)});
  return segs;
}

namespace {

std::string pct(const json& v) {
  if (v.is_null()) return "&ndash;";
  char b[32];
  std::snprintf(b, sizeof b, "%.1f%%", 100 * v.get<double>());
  return b;
}
std::string num(const json& v, const char* f = "%.1f") {
  if (v.is_null()) return "&ndash;";
  char b[32];
  std::snprintf(b, sizeof b, f, v.get<double>());
  return b;
}

const char* kCss = R"CSS(
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1180px;color:#222;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#555;font-size:13px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}
.noise{background:#fff8e1;border:1px solid #f0c36d;padding:8px 12px;margin:12px 0;font-size:14px}
.incomplete{background:#fdecea;border:1px solid #e57373;padding:8px 12px;margin:12px 0}
.filters{display:flex;gap:12px;align-items:center;flex-wrap:wrap;margin:8px 0;font-size:14px}
details.sample{border:1px solid #ddd;border-left:6px solid #999;margin:4px 0;padding:2px 8px;border-radius:3px}
details.sample.correct{border-left-color:#2e7d32}details.sample.wrong{border-left-color:#c62828}
details.sample.error{border-left-color:#6a1b9a;background:#faf5fc}
details.sample>summary{cursor:pointer;font-size:13px;padding:3px 0}
.verdict{font-weight:bold;display:inline-block;width:1.3em}
pre{white-space:pre-wrap;word-wrap:break-word;background:#fafafa;border:1px solid #eee;padding:8px;font-size:12.5px;max-height:480px;overflow:auto}
mark.wait{background:#ffe082;border:1px solid #f9a825;border-radius:3px;padding:0 2px}
mark.wait::before{content:attr(data-n);font-size:10px;vertical-align:super;color:#8d6e00;margin-right:2px}
.cut{display:block;background:#ffcdd2;border:1px dashed #c62828;margin:4px 0;padding:2px 6px;font-weight:bold;color:#b71c1c}
.delim{color:#1565c0;font-weight:bold}.forced{color:#b71c1c;font-weight:bold}
.kv{display:grid;grid-template-columns:max-content auto;gap:2px 12px;font-size:13px}.kv b{color:#444}
.err{color:#6a1b9a;font-weight:bold}
#js-error{display:none;background:#fdecea;border:1px solid #c62828;padding:8px}
)CSS";

// The sample browser: renders every sample from the embedded JSON with textContent (never
// innerHTML), so no text from a model or a dataset is ever parsed as markup.
const char* kJs = R"JS(
window.addEventListener('error', function (e) {
  document.body.setAttribute('data-js-error', String(e.message));
  var b = document.getElementById('js-error');
  if (b) { b.style.display = 'block'; b.textContent = 'Report script error: ' + e.message; }
});
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('s1-data').textContent);
  var list = document.getElementById('samples');
  var fVerdict = document.getElementById('f-verdict');
  var fPoint = document.getElementById('f-point');
  var fQuestion = document.getElementById('f-question');
  var EAGER = D.samples.length <= 400;
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function kv(box, k, v, cls) {
    box.appendChild(el('b', null, k));
    box.appendChild(el('span', cls || null, v));
  }
  D.points.forEach(function (l) { var o = el('option', null, l); o.value = l; fPoint.appendChild(o); });
  function body(s) {
    var d = el('div', 'body');
    var box = el('div', 'kv');
    kv(box, 'question', s.q);
    kv(box, 'sample / seed', s.s + ' / ' + s.seed);
    kv(box, 'gold', s.gold);
    kv(box, 'extracted', s.extracted === null ? '(none)' : s.extracted);
    kv(box, 'verdict', !s.ok ? 'error' : (s.correct ? 'correct' : 'incorrect') + (s.grade ? ' (' + s.grade + ')' : ''));
    kv(box, 'thinking / answer tokens', s.tt + ' / ' + s.at);
    kv(box, 'end of thinking', s.cause + (s.forced ? ' (forced by the budget)' : ''));
    kv(box, 'Waits injected', String(s.waits));
    kv(box, 'stop reason', s.stop);
    if (!s.ok) kv(box, 'error', s.err, 'err');
    d.appendChild(box);
    var pd = el('details'); pd.appendChild(el('summary', null, 'prompt'));
    pd.appendChild(el('pre', 'prompt', s.prompt)); d.appendChild(pd);
    d.appendChild(el('div', null, 'Thinking and answer:'));
    var pre = el('pre', 'output');
    if (s.start) pre.appendChild(el('span', 'delim', s.start));
    var nw = 0;
    s.seg.forEach(function (g) {
      if (g[0] === 't') { pre.appendChild(document.createTextNode(g[1])); return; }
      nw++;
      var m = el('mark', 'wait', g[1] === '' ? '[end masked]' : g[1]);
      m.setAttribute('data-n', 'Wait ' + nw);
      m.title = 'end of thinking suppressed; injected after ' + g[2] + ' thinking tokens';
      pre.appendChild(m);
    });
    if (s.forced) {
      pre.appendChild(el('span', 'cut', '\u2702 budget cut here: thinking ended after ' + s.et + ' tokens; forced end text follows'));
      pre.appendChild(el('span', 'forced', s.end));
    } else if (s.end) {
      pre.appendChild(el('span', 'delim', s.end));
    }
    pre.appendChild(el('span', 'answer', s.answer));
    d.appendChild(pre);
    return d;
  }
  function keep(s) {
    var v = fVerdict.value;
    if (v === 'correct' && !(s.ok && s.correct)) return false;
    if (v === 'incorrect' && !(s.ok && !s.correct)) return false;
    if (v === 'error' && s.ok) return false;
    if (v === 'forced' && !s.forced) return false;
    if (v === 'waits' && !s.waits) return false;
    if (fPoint.value && fPoint.value !== s.label) return false;
    if (fQuestion.value && String(s.q).indexOf(fQuestion.value) < 0) return false;
    return true;
  }
  function render() {
    list.textContent = '';
    var shown = 0;
    D.samples.forEach(function (s) {
      if (!keep(s)) return;
      var cls = !s.ok ? 'error' : (s.correct ? 'correct' : 'wrong');
      var d = el('details', 'sample ' + cls);
      d.setAttribute('data-key', s.label + '|' + s.q + '|' + s.s);
      var sm = el('summary');
      sm.appendChild(el('span', 'verdict', !s.ok ? '!' : (s.correct ? '\u2713' : '\u2717')));
      // <bdi>: a right-to-left answer must not reorder the rest of the line
      sm.appendChild(document.createTextNode(s.label + ' \u00b7 question ' + s.q + ' \u00b7 sample ' + s.s + ' \u00b7 gold '));
      sm.appendChild(el('bdi', 'gold', s.gold));
      sm.appendChild(document.createTextNode(' \u00b7 extracted '));
      sm.appendChild(el('bdi', 'extracted', s.extracted === null ? '(none)' : s.extracted));
      sm.appendChild(document.createTextNode(' \u00b7 ' + s.tt + ' thinking tokens' + (s.forced ? ' \u00b7 budget cut' : '') +
        (s.waits ? ' \u00b7 ' + s.waits + ' Wait' + (s.waits > 1 ? 's' : '') : '') + (s.ok ? '' : ' \u00b7 ERROR')));
      d.appendChild(sm);
      if (EAGER) d.appendChild(body(s));
      else d.addEventListener('toggle', function () { if (d.open && d.children.length === 1) d.appendChild(body(s)); });
      list.appendChild(d);
      shown++;
    });
    document.getElementById('count').textContent = 'showing ' + shown + ' of ' + D.samples.length + ' samples';
  }
  [fVerdict, fPoint].forEach(function (f) { f.addEventListener('change', render); });
  fQuestion.addEventListener('input', render);
  render();
  document.body.setAttribute('data-rendered', String(D.samples.length));
})();
)JS";

}  // namespace

std::string report_html(const json& summary, const std::vector<SampleRecord>& records, const SweepConfig& cfg) {
  std::set<std::string> point_labels;
  json labels = json::array();
  for (const auto& p : summary["points"]) labels.push_back(p["label"]);
  // samples in sweep order: point, question, sample
  std::map<SampleKey, const SampleRecord*> by_key;
  for (const auto& r : records) by_key[r.key] = &r;
  std::vector<const SampleRecord*> ordered;
  for (const auto& p : cfg.points)
    for (const auto& q : cfg.questions)
      for (int s = 0; s < cfg.samples; ++s)
        if (auto it = by_key.find(SampleKey{method_name(p.method), p.budget, q.id, s}); it != by_key.end())
          ordered.push_back(it->second);
  json samples = json::array();
  for (const SampleRecord* r : ordered) {
    RunPoint pt{parse_method(r->key.method), r->key.budget};
    samples.push_back({{"label", pt.label()},
                       {"q", r->key.question_id},
                       {"s", r->key.sample},
                       {"seed", r->seed},
                       {"ok", r->ok()},
                       {"correct", r->correct},
                       {"grade", r->grade_method},
                       {"gold", r->gold},
                       {"extracted", r->extracted ? json(*r->extracted) : json(nullptr)},
                       {"prompt", r->prompt},
                       {"start", r->start_text},
                       {"seg", thinking_segments(*r)},
                       {"end", r->end_text},
                       {"answer", r->answer_text},
                       {"forced", r->forced_end},
                       {"cause", r->end_cause},
                       {"waits", r->waits.size()},
                       {"tt", r->thinking_tokens},
                       {"et", r->engine_thinking_tokens},
                       {"at", r->answer_tokens},
                       {"stop", r->stop_reason},
                       {"err", r->error ? json(*r->error) : json(nullptr)}});
  }
  json data = {{"points", labels}, {"samples", samples}};

  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<title>s1 eval: " + html_escape(summary.value("data", std::string())) + "</title>\n";
  h += "<style>" + std::string(kCss) + "</style>\n</head>\n<body>\n";
  h += "<div id=\"js-error\"></div>\n";
  h += "<h1>s1 eval: " + html_escape(summary.value("data", std::string())) + "</h1>\n";
  const json& st = summary["settings"];
  h += "<div class=\"meta\">" + std::to_string(summary.value("questions", 0)) + " questions &middot; " +
       std::to_string(summary.value("samples_per_question", 1)) + " sample(s) per question &middot; model " +
       html_escape(st.value("model", std::string("?"))) + " &middot; backend " +
       html_escape(st.value("backend", std::string("?"))) + " &middot; temperature " +
       html_escape(st.contains("temperature") ? st["temperature"].dump() : "?") + "</div>\n";
  h += "<div class=\"noise\"><b>How noisy is this?</b> " + html_escape(summary["noise"]["text"].get<std::string>()) +
       "</div>\n";
  if (!summary.value("complete", true))
    h += "<div class=\"incomplete\"><b>Incomplete run:</b> " + std::to_string(summary.value("errors", 0)) +
         " samples failed and " + std::to_string(summary.value("missing", 0)) +
         " are missing; the numbers below cover the finished samples only.</div>\n";

  h += "<h2>Methods (s1 paper &sect;3.2)</h2>\n<table id=\"methods\"><tr><th class=\"l\">method</th><th>Control</th>"
       "<th>Scaling (accuracy points per 1k thinking tokens)</th><th>Performance</th><th class=\"l\">points</th></tr>\n";
  for (const auto& m : summary["methods"]) {
    std::string pts;
    for (const auto& l : m["points"]) pts += (pts.empty() ? "" : ", ") + l.get<std::string>();
    h += "<tr><td class=\"l\">" + html_escape(m["method"].get<std::string>()) + "</td><td>" + pct(m["control"]) +
         "</td><td>" + num(m["scaling"], "%.2f") + "</td><td>" + pct(m["performance"]) + "</td><td class=\"l\">" +
         html_escape(pts) + "</td></tr>\n";
  }
  h += "</table>\n";

  bool judged = false;  // a "judge" column only when the LLM judge ran (--judge)
  for (const auto& p : summary["points"]) judged = judged || p.contains("judge_accuracy");
  h += "<h2>Points</h2>\n<table id=\"points\"><tr><th class=\"l\">point</th><th>accuracy</th><th>95% CI</th>" +
       std::string(judged ? "<th>judge</th>" : "") +
       "<th>mean thinking tokens</th><th>generated thinking tokens</th><th>mean answer tokens</th><th>[a_min, a_max]</th><th>within</th>"
       "<th>forced ends</th><th>Waits</th><th>samples</th><th>errors</th><th class=\"l\">maj@k / cov@k</th></tr>\n";
  for (const auto& p : summary["points"]) {
    std::string ci = p["accuracy_ci95"].is_null()
                         ? "&ndash;"
                         : "[" + pct(p["accuracy_ci95"][0]) + ", " + pct(p["accuracy_ci95"][1]) + "]";
    std::string bounds = p["a_max"].is_null() ? "&ndash;"
                                              : "[" + std::to_string(p["a_min"].get<int64_t>()) + ", " +
                                                    std::to_string(p["a_max"].get<int64_t>()) + "]";
    std::string within = p.contains("within_bounds") ? (p["within_bounds"].get<bool>() ? "yes" : "no") : "&ndash;";
    std::string votes;
    if (p.contains("maj_at_k"))
      for (auto it = p["maj_at_k"].begin(); it != p["maj_at_k"].end(); ++it)
        votes += (votes.empty() ? "" : "; ") + std::string("maj@") + it.key() + " " + pct(*it) + " / cov@" + it.key() +
                 " " + pct(p["cov_at_k"][it.key()]);
    h += "<tr><td class=\"l\">" + html_escape(p["label"].get<std::string>()) + "</td><td>" + pct(p["accuracy"]) +
         "</td><td>" + ci + "</td><td>" +
         (judged ? (p.contains("judge_accuracy") ? pct(p["judge_accuracy"]) : std::string("&ndash;")) + "</td><td>"
                 : std::string()) + num(p["mean_thinking_tokens"]) + "</td><td>" + num(p["mean_engine_thinking_tokens"]) + "</td><td>" +
         num(p["mean_answer_tokens"]) + "</td><td>" + bounds + "</td><td>" + within + "</td><td>" +
         std::to_string(p["forced_ends"].get<int64_t>()) + "</td><td>" + std::to_string(p["waits"].get<int64_t>()) +
         "</td><td>" + std::to_string(p["samples_ok"].get<int64_t>()) + "</td><td>" +
         std::to_string(p["errors"].get<int64_t>()) + "</td><td class=\"l\">" + (votes.empty() ? "&ndash;" : votes) +
         "</td></tr>\n";
  }
  h += "</table>\n";
  h += "<h2>Scaling</h2>\n" + scaling_svg(summary);
  h += "<h2>Samples</h2>\n<div class=\"filters\">"
       "<label>show <select id=\"f-verdict\"><option value=\"all\">all</option><option value=\"correct\">correct"
       "</option><option value=\"incorrect\">incorrect</option><option value=\"error\">errors</option>"
       "<option value=\"forced\">budget cut</option><option value=\"waits\">with Waits</option></select></label>"
       "<label>point <select id=\"f-point\"><option value=\"\">all</option></select></label>"
       "<label>question id <input id=\"f-question\" size=\"12\"></label><span id=\"count\"></span></div>\n";
  h += "<div id=\"samples\"></div>\n";
  h += "<script type=\"application/json\" id=\"s1-data\">" + json_for_script(data) + "</script>\n";
  h += "<script>" + std::string(kJs) + "</script>\n</body>\n</html>\n";
  return h;
}

}  // namespace s1::eval
