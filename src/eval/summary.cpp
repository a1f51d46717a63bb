#include "eval/summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "eval/metrics.h"
#include "eval/sweep.h"

namespace s1::eval {

using nlohmann::json;

namespace {
json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }
double round_to(double v, double unit) { return std::round(v / unit) * unit; }
}  // namespace

json build_summary(const SweepConfig& cfg, const std::vector<SampleRecord>& records) {
  std::map<SampleKey, const SampleRecord*> by_key;
  for (const auto& r : records) by_key[r.key] = &r;
  std::optional<int64_t> class_bound;
  for (const auto& p : cfg.points)
    if (p.budget) class_bound = std::max(class_bound.value_or(0), *p.budget);

  json points = json::array();
  std::vector<std::string> method_order;
  std::map<std::string, std::vector<RunPointValue>> method_runs;
  std::map<std::string, std::vector<std::string>> method_labels;
  int64_t total_errors = 0, total_missing = 0;
  std::vector<double> halfwidths;
  for (size_t pi = 0; pi < cfg.points.size(); ++pi) {
    const RunPoint& p = cfg.points[pi];
    const std::string method = method_name(p.method);
    PointSettings s = point_settings(p, cfg.gen.min_thinking, cfg.step_tokens, class_bound);
    std::vector<double> per_question, per_question_thinking;
    double think_sum = 0, answer_sum = 0, engine_think_sum = 0, first_correct = 0;
    int64_t ok = 0, errors = 0, missing = 0, forced = 0, waits = 0, first_n = 0;
    std::vector<int> ks = vote_ks(cfg.samples);
    std::vector<double> maj_sum(ks.size(), 0), cov_sum(ks.size(), 0);
    int64_t vote_questions = 0;
    // the LLM judge, apart from the headline: mean over questions of the judged samples' verdicts
    std::vector<double> judge_per_question;
    int64_t judged = 0, judge_errors = 0;
    for (const auto& q : cfg.questions) {
      double correct = 0, think_q = 0, judge_correct_q = 0;
      int n_q = 0, judged_q = 0;
      std::vector<Outcome> outcomes;
      for (int si = 0; si < cfg.samples; ++si) {
        auto it = by_key.find(SampleKey{method, p.budget, q.id, si});
        if (it == by_key.end()) {
          ++missing;
          outcomes.push_back({});
          continue;
        }
        const SampleRecord& r = *it->second;
        if (!r.ok()) {
          ++errors;
          outcomes.push_back({});
          continue;
        }
        ++ok;
        ++n_q;
        correct += r.correct;
        if (r.judge_correct) {
          ++judged_q;
          judge_correct_q += *r.judge_correct;
        }
        judge_errors += r.judge_error.has_value();
        think_q += double(r.thinking_tokens);
        think_sum += double(r.thinking_tokens);
        answer_sum += double(r.answer_tokens);
        engine_think_sum += double(r.engine_thinking_tokens);
        forced += r.forced_end;
        waits += int64_t(r.waits.size());
        if (si == 0) {
          ++first_n;
          first_correct += r.correct;
        }
        outcomes.push_back({r.extracted ? std::optional<std::string>(r.canonical) : std::nullopt, r.correct});
      }
      if (judged_q > 0) judge_per_question.push_back(judge_correct_q / judged_q);
      judged += judged_q;
      if (n_q > 0) {
        per_question.push_back(correct / n_q);
        per_question_thinking.push_back(think_q / n_q);
      }
      if (cfg.samples > 1) {
        ++vote_questions;
        for (size_t k = 0; k < ks.size(); ++k) {
          maj_sum[k] += majority_correct(outcomes, ks[k]);
          cov_sum[k] += coverage_correct(outcomes, ks[k]);
        }
      }
    }
    total_errors += errors;
    total_missing += missing;
    // the same seed for every point: intervals of different points use the same resamplings
    Interval acc = bootstrap_mean_ci(per_question, cfg.bootstrap_resamples, cfg.bootstrap_seed);
    Interval thinking = bootstrap_mean_ci(per_question_thinking, cfg.bootstrap_resamples, cfg.bootstrap_seed);
    double mean_thinking = ok ? think_sum / double(ok) : 0;
    if (!per_question.empty()) halfwidths.push_back((acc.high - acc.low) / 2);
    json pj = {{"method", method},
               {"budget", p.budget ? json(*p.budget) : json(nullptr)},
               {"label", p.label()},
               {"prompt_suffix", s.question_suffix},
               {"a_min", s.a_min},
               {"a_max", s.a_max ? json(*s.a_max) : json(nullptr)},
               {"questions", per_question.size()},
               {"samples_ok", ok},
               {"errors", errors},
               {"missing", missing},
               {"accuracy", per_question.empty() ? json(nullptr) : json(acc.mean)},
               {"accuracy_ci95", per_question.empty() ? json(nullptr) : json::array({acc.low, acc.high})},
               {"first_sample_accuracy", first_n ? json(first_correct / double(first_n)) : json(nullptr)},
               {"mean_thinking_tokens", mean_thinking},
               {"mean_thinking_tokens_ci95", json::array({thinking.low, thinking.high})},
               {"mean_answer_tokens", ok ? answer_sum / double(ok) : 0},
               {"mean_engine_thinking_tokens", ok ? engine_think_sum / double(ok) : 0},
               {"forced_ends", forced},
               {"waits", waits}};
    if (judged > 0 || judge_errors > 0) {
      double sum = 0;
      for (double v : judge_per_question) sum += v;
      pj["judge_accuracy"] = judge_per_question.empty() ? json(nullptr) : json(sum / double(judge_per_question.size()));
      pj["judged"] = judged;
      pj["judge_errors"] = judge_errors;
    }
    if (s.a_max) pj["within_bounds"] = mean_thinking >= double(s.a_min) && mean_thinking <= double(*s.a_max);
    if (cfg.samples > 1) {
      json maj = json::object(), cov = json::object();
      for (size_t k = 0; k < ks.size(); ++k) {
        maj[std::to_string(ks[k])] = maj_sum[k] / double(std::max<int64_t>(vote_questions, 1));
        cov[std::to_string(ks[k])] = cov_sum[k] / double(std::max<int64_t>(vote_questions, 1));
      }
      pj["maj_at_k"] = maj;
      pj["cov_at_k"] = cov;
    }
    points.push_back(pj);
    if (!per_question.empty()) {
      RunPointValue v{mean_thinking, acc.mean, double(s.a_min),
                      s.a_max ? std::optional<double>(double(*s.a_max)) : std::nullopt};
      std::vector<std::string> names = {method};
      // the paper's class-conditional control (CCC) is the long and the short prompt together
      if (p.method == Method::ClassLong || p.method == Method::ClassShort) names.push_back("class-conditional");
      for (const auto& name : names) {
        if (!method_runs.count(name) && name != "class-conditional") method_order.push_back(name);
        method_runs[name].push_back(v);
        method_labels[name].push_back(p.label());
      }
    }
  }
  if (method_runs.count("class-conditional")) method_order.push_back("class-conditional");
  json methods = json::array();
  for (const auto& name : method_order) {
    if (name == "class-conditional" && method_runs[name].size() < 2) continue;
    const auto& runs = method_runs[name];
    methods.push_back({{"method", name},
                       {"points", method_labels[name]},
                       {"control", opt(control_metric(runs))},
                       {"scaling", opt(scaling_metric(runs))},
                       {"performance", opt(performance_metric(runs))}});
  }

  const double n = double(cfg.questions.size());
  double typical_half = 0;
  for (double h : halfwidths) typical_half += h;
  if (!halfwidths.empty()) typical_half /= double(halfwidths.size());
  char noise[512];
  std::snprintf(noise, sizeof noise,
                "%zu questions: one question moves accuracy by %.1f points, and the 95%% bootstrap intervals are "
                "about +/- %.1f points wide (worst case at 50%% accuracy: +/- %.1f). Differences smaller than that "
                "between budgets or methods are noise, not scaling.",
                cfg.questions.size(), 100.0 / n, 100.0 * typical_half, 100.0 * 1.96 * std::sqrt(0.25 / n));

  json out = {{"data", cfg.data_name},
              {"questions", cfg.questions.size()},
              {"samples_per_question", cfg.samples},
              {"settings", cfg.settings},
              {"points", points},
              {"methods", methods},
              {"errors", total_errors},
              {"missing", total_missing},
              {"complete", total_errors == 0 && total_missing == 0},
              {"noise",
               {{"questions", cfg.questions.size()},
                {"one_question_points", round_to(100.0 / n, 0.01)},
                {"typical_ci95_halfwidth_points", round_to(100.0 * typical_half, 0.01)},
                {"text", noise}}},
              {"definitions",
               {{"accuracy", "mean over questions of the fraction of a question's samples graded correct"},
                {"accuracy_ci95", "95% percentile bootstrap over questions (" + std::to_string(cfg.bootstrap_resamples) +
                                      " resamplings, seed " + std::to_string(cfg.bootstrap_seed) + ")"},
                {"thinking_tokens", "as s1's eval/compute_sample_stats.py: tokens of the thinking text without its "
                                    "first and last line"},
                {"control", "fraction of a method's points whose mean thinking tokens lie in [a_min, a_max], the "
                            "bounds requested for that point (s1 paper 3.2)"},
                {"scaling", "average over point pairs of the accuracy slope, in accuracy points per 1,000 thinking "
                            "tokens (s1 paper 3.2; the paper does not state its unit)"},
                {"performance", "the best accuracy among a method's points"},
                {"maj_at_k", "majority vote of the first k samples' canonical answers is correct (ties: earliest)"},
                {"cov_at_k", "any of the first k samples correct"}}}};
  bool judged = std::any_of(points.begin(), points.end(), [](const json& p) { return p.contains("judge_accuracy"); });
  if (judged) {  // only when the LLM judge ran: the deterministic accuracy stays the headline
    out["judge"] = cfg.judge_name.empty() ? json(nullptr) : json(cfg.judge_name);
    out["definitions"]["judge_accuracy"] =
        "as accuracy, over the samples the LLM judge (s1's option-index prompt, --judge) gave a verdict; reported "
        "apart from the deterministic accuracy";
  }
  return out;
}

std::string summary_table(const json& s) {
  std::string out;
  char line[512];
  bool judged = false;  // a "judge" column only when the LLM judge ran
  for (const auto& p : s["points"]) judged = judged || p.contains("judge_accuracy");
  // thinking / answer: compute_sample_stats' counts (the paper's); generated: the generator's thinking ids
  std::snprintf(line, sizeof line, "%-22s %9s %17s %10s %10s %9s %7s %6s %6s", "point", "accuracy", "95% CI",
                "thinking", "generated", "answer", "forced", "waits", "errors");
  out += line;
  out += judged ? "    judge\n" : "\n";
  for (const auto& p : s["points"]) {
    std::string acc = "-", ci = "-";
    if (!p["accuracy"].is_null()) {
      std::snprintf(line, sizeof line, "%.1f%%", 100 * p["accuracy"].get<double>());
      acc = line;
      std::snprintf(line, sizeof line, "[%.1f, %.1f]", 100 * p["accuracy_ci95"][0].get<double>(),
                    100 * p["accuracy_ci95"][1].get<double>());
      ci = line;
    }
    std::snprintf(line, sizeof line, "%-22s %9s %17s %10.1f %10.1f %9.1f %7lld %6lld %6lld",
                  p["label"].get<std::string>().c_str(), acc.c_str(), ci.c_str(),
                  p["mean_thinking_tokens"].get<double>(), p["mean_engine_thinking_tokens"].get<double>(),
                  p["mean_answer_tokens"].get<double>(),
                  (long long)p["forced_ends"].get<int64_t>(), (long long)p["waits"].get<int64_t>(),
                  (long long)p["errors"].get<int64_t>());
    out += line;
    if (judged) {
      std::string j = "-";
      if (p.contains("judge_accuracy") && !p["judge_accuracy"].is_null()) {
        std::snprintf(line, sizeof line, "%.1f%%", 100 * p["judge_accuracy"].get<double>());
        j = line;
      }
      std::snprintf(line, sizeof line, " %8s", j.c_str());
      out += line;
    }
    out += "\n";
    if (p.contains("maj_at_k")) {
      std::string mv = "  ";
      for (auto it = p["maj_at_k"].begin(); it != p["maj_at_k"].end(); ++it) {
        std::snprintf(line, sizeof line, " maj@%s %.1f%% cov@%s %.1f%%", it.key().c_str(), 100 * it->get<double>(),
                      it.key().c_str(), 100 * p["cov_at_k"][it.key()].get<double>());
        mv += line;
      }
      out += mv + "\n";
    }
  }
  out += "\n";
  std::snprintf(line, sizeof line, "%-18s %8s %22s %12s\n", "method", "Control", "Scaling (pts/1k tok)", "Performance");
  out += line;
  for (const auto& m : s["methods"]) {
    auto f = [](const json& v, double scale, const char* fmt) {
      if (v.is_null()) return std::string("-");
      char b[64];
      std::snprintf(b, sizeof b, fmt, v.get<double>() * scale);
      return std::string(b);
    };
    std::snprintf(line, sizeof line, "%-18s %8s %22s %12s\n", m["method"].get<std::string>().c_str(),
                  f(m["control"], 100, "%.0f%%").c_str(), f(m["scaling"], 1, "%.2f").c_str(),
                  f(m["performance"], 100, "%.1f%%").c_str());
    out += line;
  }
  out += "\n" + s["noise"]["text"].get<std::string>() + "\n";
  if (!s["complete"].get<bool>())
    out += "INCOMPLETE: " + std::to_string(s["errors"].get<int64_t>()) + " samples failed and " +
           std::to_string(s["missing"].get<int64_t>()) +
           " are missing; accuracy is over the samples that finished (rerun with --resume to retry them)\n";
  return out;
}

}  // namespace s1::eval
