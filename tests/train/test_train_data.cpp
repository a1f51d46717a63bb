// Training data: s1's sequence format through the real Qwen2.5 tokenizer and chat
// template (tests/data/reference/tokenizer/qwen2.5), loss masking, truncation, errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "chat/chat_template.h"
#include "core/error.h"
#include "model/transformer_train.h"
#include "tokenizer/tokenizer.h"
#include "train/data.h"

namespace s1::train {
namespace {

const std::string kTok = std::string(S1_TEST_DATA) + "/reference/tokenizer/qwen2.5";

struct Fixture {
  Tokenizer tok = Tokenizer::from_hf_folder(kTok);
  ChatTemplate tpl{find_chat_template(kTok)};
};
Fixture& fx() {
  static Fixture f;
  return f;
}

const std::string kSystem = "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n";

// The assistant turn starts right after "<|im_start|>assistant\n": targets before it are -100.
int64_t first_target(const Example& ex) {
  for (size_t t = 0; t < ex.targets.size(); ++t)
    if (ex.targets[t] != kIgnoreIndex) return int64_t(t);
  return -1;
}

TEST(TrainData, S1FormatAndAssistantOnlyLoss) {
  auto& f = fx();
  DataOptions o;
  const auto row = nlohmann::json::parse(
      R"({"question": "What is 2+2?", "thinking_trajectories": ["step one", "step two  "], "attempt": "4", "solution": "ignored"})");
  const std::string marker = assistant_marker(f.tpl, o.template_vars);
  EXPECT_EQ(marker, "<|im_start|>assistant\n");
  Example ex = encode_row(row, f.tok, f.tpl, o, marker, "row");
  const std::string assistant = "<|im_start|>think\nstep one\nstep two\n<|im_start|>answer\nAnswer: 4<|im_end|>\n";
  EXPECT_EQ(f.tok.decode(ex.ids), kSystem + "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n" + assistant);
  const int64_t b = first_target(ex) + 1;  // first token that carries loss
  ASSERT_GT(b, 0);
  EXPECT_EQ(f.tok.decode(std::span(ex.ids).subspan(size_t(b))), assistant);
  // Every later position has its next token as target; the last has none.
  for (size_t t = size_t(b) - 1; t + 1 < ex.ids.size(); ++t) EXPECT_EQ(ex.targets[t], ex.ids[t + 1]);
  EXPECT_EQ(ex.targets.back(), kIgnoreIndex);
  EXPECT_EQ(ex.loss_tokens, int64_t(ex.ids.size()) - b);

  // The same conversation as a pre-rendered "text" row (the curation export) gives the same ids and targets.
  const auto text_row = nlohmann::json{{"text", f.tok.decode(ex.ids)}};
  Example ex2 = encode_row(text_row, f.tok, f.tpl, o, marker, "row");
  EXPECT_EQ(ex2.ids, ex.ids);
  EXPECT_EQ(ex2.targets, ex.targets);

  // A row with both: "text" wins, unless the fields are asked for (another model's template).
  auto both = row;
  both["text"] = "<|im_start|>user\nother<|im_end|>\n<|im_start|>assistant\nsomething else<|im_end|>\n";
  EXPECT_NE(encode_row(both, f.tok, f.tpl, o, marker, "row").ids, ex.ids);
  o.prefer_fields = true;
  EXPECT_EQ(encode_row(both, f.tok, f.tpl, o, marker, "row").ids, ex.ids);
}

TEST(TrainData, AnswerRulesAndThinkingAsString) {
  DataOptions o;
  // "Answer:" already present: kept as is; a string trajectory; solution when no attempt.
  auto r1 = nlohmann::json::parse(R"({"question": "q", "thinking_trajectories": " t ", "attempt": "Answer: 5 "})");
  EXPECT_EQ(s1_assistant_content(r1, o, "r"), "<|im_start|>think\nt\n<|im_start|>answer\nAnswer: 5");
  auto r2 = nlohmann::json::parse(R"({"question": "q", "thinking_trajectories": ["a", "b"], "solution": "7"})");
  EXPECT_EQ(s1_assistant_content(r2, o, "r"), "<|im_start|>think\na\nb\n<|im_start|>answer\nAnswer: 7");
}

std::string write_jsonl(const std::string& name, const std::string& text) {
  auto p = std::filesystem::temp_directory_path() / ("s1-train-data-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(p) << text;
  return p.string();
}

TEST(TrainData, TruncationAndDroppedRowsAreCounted) {
  auto& f = fx();
  const std::string short_row = R"({"question": "short", "thinking_trajectories": ["x"], "attempt": "1"})";
  const std::string long_row =
      R"({"question": "a much longer question that has many more words in it than the block allows, )"
      R"(so many words that its prompt alone is longer than the whole first example", "thinking_trajectories": ["x"], "attempt": "1"})";
  DataOptions o;
  const std::string marker = assistant_marker(f.tpl, o.template_vars);
  const Example full = encode_row(nlohmann::json::parse(short_row), f.tok, f.tpl, o, marker, "r");
  const int64_t len = int64_t(full.ids.size()), prompt = first_target(full) + 1;
  ASSERT_LT(prompt + 2, len);
  const std::string path = write_jsonl("trunc.jsonl", short_row + "\n\n" + long_row + "\n");
  o.block_size = len;  // the first row fits exactly; the second row's prompt alone is longer
  DataStats st;
  auto ex = load_examples(path, f.tok, f.tpl, o, st);
  EXPECT_EQ(st.rows, 2);
  EXPECT_EQ(st.truncated, 1);
  EXPECT_EQ(st.dropped_no_loss, 1);
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].line, 1);
  EXPECT_EQ(ex[0].targets, full.targets);

  o.block_size = len - 2;  // now the first row is cut inside its assistant turn: loss up to the cut
  DataStats st2;
  auto ex2 = load_examples(path, f.tok, f.tpl, o, st2);
  EXPECT_EQ(st2.truncated, 2);
  ASSERT_EQ(ex2.size(), 1u);
  EXPECT_EQ(int64_t(ex2[0].ids.size()), len - 2);
  EXPECT_EQ(ex2[0].targets.back(), kIgnoreIndex);
  EXPECT_EQ(ex2[0].loss_tokens, full.loss_tokens - 2);
  std::filesystem::remove(path);
}

TEST(TrainData, BadRowsNameTheLine) {
  auto& f = fx();
  DataOptions o;
  DataStats st;
  auto expect_error = [&](const std::string& text, const std::string& needle) {
    const std::string path = write_jsonl("bad.jsonl", text);
    try {
      load_examples(path, f.tok, f.tpl, o, st);
      ADD_FAILURE() << "no error for: " << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    std::filesystem::remove(path);
  };
  expect_error("{\"question\": \"q\", \"attempt\": \"1\"}\n", ":1: no \"thinking_trajectories\"");
  expect_error("\n{\"question\": \"q\", \"thinking_trajectories\": 3, \"attempt\": \"1\"}\n", ":2: \"thinking_trajectories\" must be");
  expect_error("{not json}\n", ":1: invalid JSON");
  expect_error("{\"text\": \"no assistant here\"}\n", "no assistant turn");
  expect_error("", "no training examples");
  expect_error("[1,2]\n", "not a JSON object");
}

}  // namespace
}  // namespace s1::train
