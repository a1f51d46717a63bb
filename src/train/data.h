// Training data: s1K-format JSONL (question, thinking_trajectories, attempt / solution)
// or rows with a ready "text" (the curation export, s1K_tokenized), turned into token
// ids and loss targets the way s1's sft.py does it: the model's chat template with
// s1's "<|im_start|>think" / "<|im_start|>answer" delimiters inside the assistant turn,
// loss only on the assistant turn (trl's DataCollatorForCompletionOnlyLM with
// response_template "<|im_start|>assistant\n"), sequences cut at the block size.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace s1::train {

struct DataOptions {
  int64_t block_size = 32768;
  std::string think_start = "<|im_start|>think";
  std::string answer_start = "<|im_start|>answer";
  std::string thinking_field = "thinking_trajectories";
  std::string answer_field = "attempt";  // falls back to "solution" when a row has no attempt
  // A row with both a ready "text" and s1K fields uses "text" (the curation export's
  // rendering) unless this is set: then the fields are rendered with this model's template.
  bool prefer_fields = false;
  nlohmann::json template_vars = nlohmann::json::object();
};

struct Example {
  std::vector<int32_t> ids;
  std::vector<int32_t> targets;  // targets[t] = ids[t+1] inside the assistant turn, else -100
  int64_t loss_tokens = 0;
  int64_t line = 0;              // 1-based line in the JSONL file
};

struct DataStats {
  int64_t rows = 0, truncated = 0, dropped_no_loss = 0, tokens = 0, loss_tokens = 0, longest = 0;
};

// The assistant turn of one s1K row (s1's data/tokenization.py::process_cot_example).
std::string s1_assistant_content(const nlohmann::json& row, const DataOptions& o, const std::string& what);

// What the template writes between the prompt and the assistant's content: the
// generation prompt ("<|im_start|>assistant\n" for ChatML), found by rendering a
// conversation with and without it.
std::string assistant_marker(const ChatTemplate& tpl, const nlohmann::json& vars);

// One row -> ids and targets (not yet cut to the block size). Throws s1::Error naming `what`.
Example encode_row(const nlohmann::json& row, const Tokenizer& tok, const ChatTemplate& tpl, const DataOptions& o,
                   const std::string& marker, const std::string& what);

// Every row of a JSONL file; rows longer than the block size are cut (counted), rows
// left with no loss token are dropped (counted). Throws on a bad line or an empty file.
std::vector<Example> load_examples(const std::string& path, const Tokenizer& tok, const ChatTemplate& tpl,
                                   const DataOptions& o, DataStats& stats);

}  // namespace s1::train
