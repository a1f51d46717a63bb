#include "tokenizer/pretokenizer.h"

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace s1::tok {

std::string_view builtin_pattern(PreTokenizer pre) {
  switch (pre) {
    case PreTokenizer::Qwen2:
      return R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    case PreTokenizer::Llama3:
      return R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    case PreTokenizer::Gpt2:
    case PreTokenizer::SmolLM:  // after its digit split
      return R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
  }
  return {};
}

std::string onig_to_pcre2(std::string_view p) {
  // Unicode White_Space, written for use inside a character class.
  static constexpr std::string_view kSpace =
      R"(\x{9}-\x{D}\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";
  std::string out;
  out.reserve(p.size() + 64);
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char e = p[++i];
      if (e == 's') {
        out += in_class ? std::string(kSpace) : "[" + std::string(kSpace) + "]";
      } else if (e == 'S' && !in_class) {
        out += "[^" + std::string(kSpace) + "]";
      } else {
        out += c;
        out += e;
      }
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal member, not the end of the class.
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (in_class && c == '[' && i + 1 < p.size() && p[i + 1] == ':') {
      size_t end = p.find(":]", i + 2);  // POSIX class such as [:alpha:]
      if (end != std::string_view::npos) {
        out.append(p.substr(i, end + 2 - i));
        i = end + 1;
        continue;
      }
    }
    if (in_class && c == ']') in_class = false;
    out += c;
  }
  return out;
}

namespace {

// One match-data block per thread, shared by all regexes: only the whole-match
// offsets are read, and they are read before the next match runs.
pcre2_match_data* thread_match_data() {
  struct Holder {
    pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
    ~Holder() { pcre2_match_data_free(md); }
  };
  thread_local Holder h;
  return h.md;
}

}  // namespace

SplitRegex::SplitRegex(std::string_view onig_pattern, const std::string& where) {
  std::string pat = onig_to_pcre2(onig_pattern);
  int err = 0;
  PCRE2_SIZE off = 0;
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pat.data()), pat.size(), PCRE2_UTF | PCRE2_UCP, &err, &off,
                        nullptr);
  if (!code_) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    fail(where, ": pre-tokenizer regex does not compile (", reinterpret_cast<const char*>(msg), " at offset ", off,
         "): ", onig_pattern);
  }
  // JIT is an optimisation: without it (unsupported CPU, no executable memory) the
  // interpreter gives the same matches.
  jit_ = pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE) == 0;
}

SplitRegex::~SplitRegex() { pcre2_code_free(code_); }

bool SplitRegex::find(std::string_view subject, size_t start, size_t& mstart, size_t& mend) const {
  pcre2_match_data* md = thread_match_data();
  auto subj = reinterpret_cast<PCRE2_SPTR>(subject.data());
  int rc;
  if (jit_) {
    rc = pcre2_jit_match(code_, subj, subject.size(), start, 0, md, nullptr);
    // The JIT stack is small; retry deep backtracking in the heap-based interpreter.
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
      rc = pcre2_match(code_, subj, subject.size(), start, PCRE2_NO_JIT | PCRE2_NO_UTF_CHECK, md, nullptr);
  } else {
    rc = pcre2_match(code_, subj, subject.size(), start, PCRE2_NO_UTF_CHECK, md, nullptr);
  }
  // No match, or a resource limit hit on pathological input: the rest of the text
  // becomes one piece (still encoded losslessly by byte-level BPE).
  if (rc < 0) return false;
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
  mstart = ov[0];
  mend = ov[1];
  return true;
}

void PreTokenizerPipeline::add_regex_split(std::string_view onig_pattern, const std::string& where) {
  steps_.push_back({std::make_unique<SplitRegex>(onig_pattern, where)});
}

void PreTokenizerPipeline::add_prefix_space() { steps_.push_back({nullptr}); }

size_t PreTokenizerPipeline::next_char_len(std::string_view text, size_t i) {
  return i < text.size() ? utf8_next(text, i).len : 1;
}

void PreTokenizerPipeline::run(size_t step, std::string_view text,
                               const std::function<void(std::string_view)>& emit) const {
  if (text.empty()) return;
  if (step == steps_.size()) {
    emit(text);
    return;
  }
  const Step& s = steps_[step];
  if (!s.regex) {
    if (text.front() == ' ') return run(step + 1, text, emit);
    std::string prefixed = " ";
    prefixed += text;
    return run(step + 1, prefixed, emit);
  }
  split_isolated(*s.regex, text, [&](std::string_view piece) { run(step + 1, piece, emit); });
}

}  // namespace s1::tok
