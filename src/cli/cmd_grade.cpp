// s1 grade: answer checking of JSONL lines {"response": ..., "gold": ...}. Every line is
// written back (its fields kept, in order) with "extracted", "correct" and "method" added;
// with --judge, also the LLM judge's "judge_correct" / "judge_answer" (reported apart).
// The whole input is validated before anything is written: a malformed line is one error
// naming its line number, and no partial output.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "cli/common.h"
#include "core/error.h"
#include "grading/grader.h"
#include "grading/judge.h"
#include "llm/client.h"

namespace s1::cli {

namespace {

struct GradeOpts {
  std::string input = "-";
  std::string out;
  std::string kind = "math";
  std::string judge;
  double judge_temperature = 0.0;
  std::string response_field = "response";
  std::string gold_field = "gold";
};

struct Line {
  size_t line_no = 0;
  nlohmann::ordered_json j;
  std::string response, gold;
  grading::AnswerKind kind = grading::AnswerKind::Math;
};

std::string field_text(const nlohmann::ordered_json& v, const std::string& name, size_t line_no, bool allow_number) {
  if (v.is_string()) return v.get<std::string>();
  if (allow_number && v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (allow_number && v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (allow_number && v.is_number_float()) return v.dump();
  fail("line ", line_no, ": \"", name, "\" must be a string", allow_number ? " or a number" : "", ", not ",
       v.type_name());
}

std::vector<Line> parse_lines(const std::string& text, const GradeOpts& o, grading::AnswerKind default_kind) {
  std::vector<Line> lines;
  std::istringstream in(text);
  std::string raw;
  size_t no = 0;
  while (std::getline(in, raw)) {
    ++no;
    if (raw.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank lines carry nothing
    Line l;
    l.line_no = no;
    try {
      l.j = nlohmann::ordered_json::parse(raw);
    } catch (const nlohmann::json::exception& e) {
      fail("line ", no, ": invalid JSON: ", e.what());
    }
    if (!l.j.is_object()) fail("line ", no, ": expected a JSON object, got ", l.j.type_name());
    if (!l.j.contains(o.response_field)) fail("line ", no, ": missing \"", o.response_field, "\"");
    if (!l.j.contains(o.gold_field)) fail("line ", no, ": missing \"", o.gold_field, "\"");
    l.response = field_text(l.j[o.response_field], o.response_field, no, false);
    l.gold = field_text(l.j[o.gold_field], o.gold_field, no, true);
    l.kind = default_kind;
    if (l.j.contains("kind")) {
      const auto& k = l.j["kind"];
      auto parsed = k.is_string() ? grading::parse_kind(k.get<std::string>()) : std::nullopt;
      if (!parsed) fail("line ", no, ": \"kind\" must be \"math\", \"integer\" or \"choice\", not ", k.dump());
      l.kind = *parsed;
    }
    lines.push_back(std::move(l));
  }
  return lines;
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

std::string percent(size_t a, size_t n) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f%%", n ? 100.0 * double(a) / double(n) : 0.0);
  return b;
}

int run_grade(const GradeOpts& o) {
  auto kind = grading::parse_kind(o.kind);
  if (!kind) fail("--kind must be math, integer or choice, not '", o.kind, "'");
  const std::string text = read_input(o.input);
  std::vector<Line> lines = parse_lines(text, o, *kind);

  std::unique_ptr<llm::Client> judge_client;
  if (!o.judge.empty()) judge_client = llm::make_client(o.judge);
  grading::JudgeOptions jopts;
  jopts.temperature = o.judge_temperature;

  size_t correct = 0, none = 0, judged = 0, judge_correct = 0, judge_errors = 0;
  // s1's judge sees the answers already extracted for the same question: lines with the same gold
  std::map<std::string, std::vector<std::string>> seen_answers;
  std::ostringstream out;
  for (auto& l : lines) {
    grading::Verdict v = grading::grade(l.response, l.gold, l.kind);
    l.j["extracted"] = v.extracted ? nlohmann::ordered_json(*v.extracted) : nlohmann::ordered_json(nullptr);
    l.j["correct"] = v.correct;
    l.j["method"] = v.method;
    correct += v.correct;
    none += !v.extracted;
    if (judge_client) {
      auto& previous = seen_answers[l.gold];
      std::optional<std::string> voted = v.extracted;  // what s1 keeps as this sample's answer
      if (l.kind == grading::AnswerKind::MultipleChoice ||
          (v.extracted && all_digits(*v.extracted) && all_digits(l.gold))) {
        // letters, and digit strings (s1 compares those as integers): nothing for a judge to map
        l.j["judge_correct"] = v.correct;
      } else {
        try {
          const std::string attempt = grading::judge_attempt(l.response, v.extracted);
          grading::JudgeResult r = grading::judge(*judge_client, attempt, grading::judge_options(l.gold, previous), jopts);
          l.j["judge_correct"] = r.correct;
          l.j["judge_reply"] = r.reply;
          voted = r.mapped;
        } catch (const Error& e) {  // recorded with its error, never dropped
          l.j["judge_correct"] = nullptr;
          l.j["judge_error"] = e.what();
          ++judge_errors;
        }
      }
      l.j["judge_answer"] = voted ? nlohmann::ordered_json(*voted) : nlohmann::ordered_json(nullptr);
      if (voted) previous.push_back(*voted);
      if (l.j["judge_correct"].is_boolean()) {
        ++judged;
        judge_correct += l.j["judge_correct"].get<bool>();
      }
    }
    out << l.j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }

  if (o.out.empty()) {
    std::cout << out.str();
    std::cout.flush();
  } else {
    const std::string tmp = o.out + ".tmp";
    {
      std::ofstream f(tmp, std::ios::binary);
      if (!f) fail("cannot write ", tmp);
      f << out.str();
      if (!f.flush()) fail("cannot write ", tmp);
    }
    std::filesystem::rename(tmp, o.out);
  }
  std::cerr << "s1 grade: " << lines.size() << " answers, " << correct << " correct ("
            << percent(correct, lines.size()) << "), " << none << " without an extracted answer\n";
  if (judge_client)
    std::cerr << "s1 grade: LLM judge " << judge_client->id() << ": " << judge_correct << " of " << judged
              << " correct (" << percent(judge_correct, judged) << "), " << judge_errors << " errors\n";
  return 0;
}

}  // namespace

void add_grade(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds) {
  auto o = std::make_shared<GradeOpts>();
  CLI::App* c = app.add_subcommand(
      "grade", "Check answers: JSONL lines {\"response\", \"gold\"} in, the same lines with \"extracted\", "
               "\"correct\", \"method\" out");
  c->add_option("input", o->input, "JSONL file, or - for standard input (default)");
  c->add_option("--kind", o->kind, "math (default), integer (AIME) or choice (GPQA letters); a line's \"kind\" wins")
      ->check(CLI::IsMember({"math", "integer", "choice"}));
  c->add_option("--out", o->out, "Write the lines here instead of standard output (written whole, at the end)");
  c->add_option("--judge", o->judge,
                "Also ask an LLM judge (s1's option-index prompt): local:PATH or http://host:port[/v1][#model]; "
                "reported as judge_correct, apart from correct");
  c->add_option("--judge-temperature", o->judge_temperature, "Judge sampling temperature (s1 used 0.5; default 0)");
  c->add_option("--response-field", o->response_field, "Field holding the response (default response)");
  c->add_option("--gold-field", o->gold_field, "Field holding the gold answer (default gold)");
  cmds.emplace_back(c, [o] { return run_grade(*o); });
}

}  // namespace s1::cli
