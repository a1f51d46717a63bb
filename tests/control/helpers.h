// Shared by the control tests: the real Qwen2.5 tokenizer, a tiny random-weight model
// that carries it, and a scripted driver that runs a controller through the exact loop
// of decode/generator.cpp with a "model" that wants a scripted token at each step.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "control/budget_forcing.h"
#include "core/error.h"
#include "model/model.h"
#include "support/tiny_model.h"
#include "tokenizer/tokenizer.h"

namespace s1::control::test {

inline const Tokenizer& qwen() {
  static Tokenizer t = Tokenizer::from_hf_folder(std::string(S1_REPO_DATA) + "/tokenizers/qwen2.5");
  return t;
}
inline std::shared_ptr<const TokenTraits> qwen_traits() {
  static auto t = TokenTraits::build(qwen());
  return t;
}
inline std::vector<int32_t> ids(const std::string& s) { return qwen().encode(s); }
inline int32_t id1(const std::string& s) {
  auto v = ids(s);
  EXPECT_EQ(v.size(), 1u) << s;
  return v.empty() ? -1 : v[0];
}
inline const int32_t kImStart = 151644, kImEnd = 151645, kEot = 151643;

inline const std::string& tiny_model_dir() { return s1::test::tiny_model_dir(); }
inline Model& tiny_model() {
  // One thread: the model is tiny, and OpenMP threads slow to a crawl on a busy machine.
  static std::unique_ptr<Model> m = Model::load(tiny_model_dir(), make_cpu_backend(1));
  return *m;
}

struct ScriptRun {
  std::vector<int32_t> out;
  std::string stop;
};

// The generator's loop with logits from `wants`: the wanted token gets 10, a fallback
// ("x") 5, every other token 0; greedy. `wants(out)` sees the output so far.
inline ScriptRun run_script(Controller& c, const std::vector<int32_t>& prompt,
                            const std::function<int32_t(const std::vector<int32_t>&)>& wants,
                            const std::vector<int32_t>& stop_ids = {kImEnd, kEot}, int64_t max_new = 10000) {
  const int64_t V = 151936;
  const int32_t fallback = qwen().encode("x")[0];
  std::vector<float> logits(V);
  auto refill = [&](const std::vector<int32_t>& out) {
    std::fill(logits.begin(), logits.end(), 0.0f);
    logits[size_t(fallback)] = 5;
    logits[size_t(wants(out))] = 10;
  };
  auto is_stop = [&](int32_t id) { return std::find(stop_ids.begin(), stop_ids.end(), id) != stop_ids.end(); };
  ScriptRun r;
  c.on_prompt(prompt);
  refill(r.out);
  while (true) {
    if (int64_t(r.out.size()) >= max_new) {
      r.stop = "length";
      break;
    }
    if (auto why = c.stop_reason()) {
      r.stop = *why;
      break;
    }
    std::optional<int32_t> forced = c.forced_token();
    int32_t id;
    if (forced) {
      id = *forced;
    } else {
      c.shape_logits(logits);
      id = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
      if (logits[size_t(id)] == -std::numeric_limits<float>::infinity()) throw std::runtime_error("all masked");
      if ((is_stop(id) && !c.allow_stop(id)) || !c.accept_sampled(id)) {
        logits[size_t(id)] = -std::numeric_limits<float>::infinity();
        continue;
      }
    }
    r.out.push_back(id);
    c.on_token(id, forced.has_value());
    if (!forced && is_stop(id)) {
      r.stop = "eos";
      break;
    }
    if (auto why = c.stop_reason()) {
      r.stop = *why;
      break;
    }
    refill(r.out);
  }
  return r;
}

inline GenerateResult as_result(const ScriptRun& s) {
  GenerateResult g;
  g.output_ids = s.out;
  g.stop_reason = s.stop;
  return g;
}

inline BudgetConfig s1_config() {
  BudgetConfig c;
  c.eos_ids = {kImEnd, kEot};
  c.answer_limit = 8;
  return c;
}

// The prompt s1 is evaluated with (Qwen's default system prompt), as ids.
inline std::vector<int32_t> chat_prompt(const std::string& q = "How many r in raspberry?") {
  return ids("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
             "<|im_start|>user\n" + q + "<|im_end|>\n<|im_start|>assistant\n");
}

inline bool complete_utf8(const std::string& s) { return utf8_pending(0, s) == 0; }

}  // namespace s1::control::test
