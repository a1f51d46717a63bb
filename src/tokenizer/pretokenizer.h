// Pre-tokenisation: splits normalised text into the "words" that BPE encodes one
// by one. A pipeline of steps, as tokenizer.json's pre_tokenizer describes it:
// regex splits (behaviour "Isolated": matches and the gaps between them both become
// pieces) and ByteLevel's optional prefix space. Each step refines the pieces of the
// previous one. Regexes are PCRE2 (UTF + UCP, JIT-compiled once at load time).
#pragma once
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace s1::tok {

// The split regexes of the built-in pre-tokenizers (Oniguruma syntax, as in tokenizer.json).
std::string_view builtin_pattern(PreTokenizer pre);

// Rewrites \s and \S of an Oniguruma pattern into explicit classes: PCRE2's UCP \s
// also matches U+180E, Oniguruma's (Unicode White_Space) does not.
std::string onig_to_pcre2(std::string_view pattern);

class SplitRegex {
 public:
  // Throws s1::Error naming `where` when the pattern does not compile.
  SplitRegex(std::string_view onig_pattern, const std::string& where);
  ~SplitRegex();
  SplitRegex(const SplitRegex&) = delete;
  SplitRegex& operator=(const SplitRegex&) = delete;

  // Next match in subject at or after `start`: false when there is none.
  bool find(std::string_view subject, size_t start, size_t& mstart, size_t& mend) const;

 private:
  pcre2_code* code_ = nullptr;
  bool jit_ = false;
};

class PreTokenizerPipeline {
 public:
  void add_regex_split(std::string_view onig_pattern, const std::string& where);
  void add_prefix_space();  // ByteLevel add_prefix_space: pieces get a leading ' '
  bool empty() const { return steps_.empty(); }

  // Calls emit(piece) for every piece of text, in order. Pieces are non-empty.
  template <typename F>
  void split(std::string_view text, F&& emit) const {
    // The usual pipeline (one regex, no prefix space) runs inline, without the
    // indirect call per piece of the general recursion.
    if (steps_.size() == 1 && steps_[0].regex) return split_isolated(*steps_[0].regex, text, emit);
    run(0, text, std::function<void(std::string_view)>(std::ref(emit)));
  }

 private:
  struct Step {
    std::unique_ptr<SplitRegex> regex;  // null: prefix-space step
  };
  template <typename F>
  static void split_isolated(const SplitRegex& re, std::string_view text, F&& emit) {
    size_t pos = 0, last = 0;
    while (pos < text.size()) {
      size_t ms, me;
      if (!re.find(text, pos, ms, me)) break;
      if (me <= ms) {  // empty match: contributes nothing, step over one character
        pos = ms + next_char_len(text, ms);
        continue;
      }
      if (ms > last) emit(text.substr(last, ms - last));  // Isolated: gaps are pieces too
      emit(text.substr(ms, me - ms));
      last = pos = me;
    }
    if (last < text.size()) emit(text.substr(last));
  }
  static size_t next_char_len(std::string_view text, size_t i);
  void run(size_t step, std::string_view text, const std::function<void(std::string_view)>& emit) const;
  std::vector<Step> steps_;
};

}  // namespace s1::tok
