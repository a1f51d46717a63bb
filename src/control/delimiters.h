// Thinking delimiters per model family: the text that opens a thinking block, the text
// that closes it, the tokens whose emission means "the model wants to stop thinking",
// and the text forced in when a budget ends thinking. Written as text (special tokens
// spelled out) and tokenized by the controller with special tokens recognized.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace s1::control {

enum class Family {
  S1,       // s1 / s1.1 (Qwen2.5 ChatML): <|im_start|>think ... <|im_start|>answer
  S1Steps,  // s1's step-conditional model with budget forcing: stops at "<|im_start|>0" (0 steps left)
  R1,       // DeepSeek-R1 (distills), QwQ, Qwen3: <think> ... </think>
  None,     // no thinking delimiters known
};

Family parse_family(std::string_view name);  // "s1", "s1-steps", "r1", "none"; throws s1::Error
const char* family_name(Family f);

struct Delimiters {
  std::string think_start;         // forced before thinking unless the prompt already opened the block
  std::string think_end;           // appended after the model ends thinking itself
  std::vector<std::string> stops;  // emitted during thinking = an attempt to end it (s1's until_thinking)
  std::string end_text;            // forced when a budget ends thinking, after "\n" unless the thinking ends in one
};

// s1: start "<|im_start|>think", end "<|im_start|>answer", stop "<|im_start|>",
//     end text "<|im_start|>answer\nFinal Answer:" (the harness's thinking_end_max).
// r1: start "<think>\n", end "</think>", stop "</think>", end text "</think>\n\n".
Delimiters family_delimiters(Family f);

// R1 when <think> and </think> are single tokens of the vocabulary (R1-Distill, QwQ,
// Qwen3) or the chat template writes them; S1 when the tokenizer knows <|im_start|>
// (ChatML: Qwen2.5 and the s1 models, SmolLM2); None otherwise.
Family detect_family(const std::string& template_source, const Tokenizer& tok);

}  // namespace s1::control
