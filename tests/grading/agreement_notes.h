// Reviewed disagreements with the other grader: tests/data/grading/agreement_notes.tsv,
// lines "idx<TAB>sample-or-*<TAB>ours|theirs|both|neither<TAB>why" ('#' starts a comment).
#pragma once
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"

namespace s1::grading::agreement {

struct Note {
  int idx = 0;
  int sample = -1;  // -1: every sample of the problem
  std::string right;  // who is right: "ours" | "theirs" | "both" | "neither"
  std::string why;
};

inline std::vector<Note> load_notes(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("cannot open ", path);
  std::vector<Note> out;
  std::string line;
  int no = 0;
  while (std::getline(in, line)) {
    ++no;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string part;
    while (std::getline(ss, part, '\t')) f.push_back(part);
    if (f.size() != 4) fail(path, ":", no, ": expected 4 tab-separated fields");
    Note n;
    n.idx = std::stoi(f[0]);
    n.sample = f[1] == "*" ? -1 : std::stoi(f[1]);
    n.right = f[2];
    n.why = f[3];
    out.push_back(n);
  }
  return out;
}

inline const Note* find_note(const std::vector<Note>& notes, int idx, int sample) {
  for (const auto& n : notes)
    if (n.idx == idx && (n.sample == -1 || n.sample == sample)) return &n;
  return nullptr;
}

}  // namespace s1::grading::agreement
