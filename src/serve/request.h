// Request parsing and validation for the OpenAI-compatible endpoints, as one pure function:
// the JSON text of a POST body in, a validated request (or an OpenAI-style error) out. It
// reads nothing but its arguments (no files, no model), so it is fuzzed on its own
// (fuzz/fuzz_serve_request.cpp). What needs the model (tokenizing, the prompt's length in
// tokens, the template) is checked afterwards by the engine's caller (server.cpp).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "decode/sampler.h"
#include "serve/api_error.h"

namespace s1::serve {

enum class Endpoint { Chat, Completions };

struct RequestLimits {
  std::string model_id;              // the one model served (requests must name it)
  int64_t max_tokens_limit = 4096;   // max_tokens / max_completion_tokens above this: 400
  size_t max_messages = 512;
  size_t max_stop = 4;               // OpenAI's limit
  size_t max_stop_bytes = 256;       // per stop string
  size_t max_text_param_bytes = 256; // ignore_str, thinking_end_str
  int max_num_ignore = 64;
  size_t max_prompt_ids = 1 << 20;   // completions given as token ids
};

// s1's budget forcing for one request (src/control's BudgetConfig is built from this).
struct ThinkingParams {
  bool requested = false;               // any field below given: thinking is forced open and bounded
  std::optional<int64_t> max_thinking;  // nullopt: bounded by max_tokens only
  int64_t min_thinking = 0;
  int num_ignore = 0;
  std::optional<std::string> ignore_str;  // nullopt: "Wait"; "": only mask the end
  std::optional<std::string> end_str;     // text forced when the budget ends thinking
  std::optional<std::string> budget_mode; // "harness" (default) | "readme"
};

struct ParsedRequest {
  Endpoint endpoint = Endpoint::Chat;
  std::string model;
  nlohmann::json messages;  // chat: [{"role", "content": string}], content parts joined
  nlohmann::json template_kwargs = nlohmann::json::object();  // chat_template_kwargs (scalars only)
  std::optional<std::string> prompt_text;  // completions: a string prompt
  std::vector<int32_t> prompt_ids;         // completions: a prompt given as token ids
  bool stream = false;
  bool include_usage = false;              // stream_options.include_usage
  std::optional<int64_t> max_tokens;       // nullopt: the server's default (what the context allows)
  int64_t min_tokens = 0;                  // vLLM's extension: no end-of-sequence before this many tokens
  SamplingParams sampling;                 // temperature defaults to 1 (OpenAI)
  bool seed_given = false;
  std::vector<std::string> stop;
  ThinkingParams thinking;
};

using ParseResult = std::variant<ParsedRequest, ApiError>;

// Never throws; every problem is an ApiError naming the field (param) at fault. An unknown
// model is a 404 (code model_not_found), everything else a 400.
ParseResult parse_request(Endpoint endpoint, std::string_view body, const RequestLimits& limits);

}  // namespace s1::serve
