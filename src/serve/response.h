// OpenAI's response shapes: whole responses and stream chunks of /v1/chat/completions and
// /v1/completions, usage with completion_tokens_details.reasoning_tokens, and the
// Server-Sent Events framing ("data: {...}\n\n", "data: [DONE]\n\n").
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "serve/generation.h"
#include "serve/request.h"

namespace s1::serve {

struct ResponseMeta {
  Endpoint endpoint = Endpoint::Chat;
  std::string id;       // "chatcmpl-..." / "cmpl-..."
  int64_t created = 0;  // unix seconds
  std::string model;
};

nlohmann::json usage_json(const Outcome& o);
// The whole response of a non-streamed request.
nlohmann::json response_json(const ResponseMeta& m, const Outcome& o);
// Stream chunks: the first (role), one per delta, the last (finish_reason), the usage one.
nlohmann::json first_chunk(const ResponseMeta& m, bool include_usage);
nlohmann::json delta_chunk(const ResponseMeta& m, const std::string& reasoning, const std::string& content,
                           bool include_usage);
nlohmann::json final_chunk(const ResponseMeta& m, const std::string& finish_reason, bool include_usage);
nlohmann::json usage_chunk(const ResponseMeta& m, const Outcome& o);

// "data: <json>\n\n" (invalid UTF-8 replaced, never thrown on).
std::string sse(const nlohmann::json& j);
inline const char* sse_done() { return "data: [DONE]\n\n"; }
std::string dump(const nlohmann::json& j);

}  // namespace s1::serve
