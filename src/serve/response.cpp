#include "serve/response.h"

namespace s1::serve {

using json = nlohmann::json;

namespace {
const char* object_name(const ResponseMeta& m, bool chunk) {
  if (m.endpoint == Endpoint::Chat) return chunk ? "chat.completion.chunk" : "chat.completion";
  return "text_completion";
}
json head(const ResponseMeta& m, bool chunk) {
  return {{"id", m.id}, {"object", object_name(m, chunk)}, {"created", m.created}, {"model", m.model},
          {"system_fingerprint", "s1.cpp"}};
}
json nullable(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }
}  // namespace

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }
std::string sse(const json& j) { return "data: " + dump(j) + "\n\n"; }

json usage_json(const Outcome& o) {
  return {{"prompt_tokens", o.prompt_tokens},
          {"completion_tokens", o.completion_tokens},
          {"total_tokens", o.prompt_tokens + o.completion_tokens},
          {"completion_tokens_details", {{"reasoning_tokens", o.reasoning_tokens}}}};
}

json response_json(const ResponseMeta& m, const Outcome& o) {
  json j = head(m, false);
  json choice;
  if (m.endpoint == Endpoint::Chat) {
    choice = {{"index", 0},
              {"message", {{"role", "assistant"}, {"content", o.content}, {"reasoning_content", nullable(o.reasoning)}}},
              {"logprobs", nullptr},
              {"finish_reason", o.finish_reason}};
  } else {
    choice = {{"index", 0}, {"text", o.content}, {"logprobs", nullptr}, {"finish_reason", o.finish_reason}};
    if (!o.reasoning.empty()) choice["reasoning_content"] = o.reasoning;
  }
  j["choices"] = json::array({choice});
  j["usage"] = usage_json(o);
  if (!o.thinking.is_null()) j["thinking"] = o.thinking;  // s1's budget forcing record (extension)
  return j;
}

json first_chunk(const ResponseMeta& m, bool include_usage) {
  json j = head(m, true);
  json choice = m.endpoint == Endpoint::Chat
                    ? json{{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"logprobs", nullptr}, {"finish_reason", nullptr}}
                    : json{{"index", 0}, {"text", ""}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
  j["choices"] = json::array({choice});
  if (include_usage) j["usage"] = nullptr;
  return j;
}

json delta_chunk(const ResponseMeta& m, const std::string& reasoning, const std::string& content, bool include_usage) {
  json j = head(m, true);
  json choice;
  if (m.endpoint == Endpoint::Chat) {
    json delta = json::object();
    if (!reasoning.empty()) delta["reasoning_content"] = reasoning;
    if (!content.empty()) delta["content"] = content;
    choice = {{"index", 0}, {"delta", delta}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
  } else {
    choice = {{"index", 0}, {"text", content}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
    if (!reasoning.empty()) choice["reasoning_content"] = reasoning;
  }
  j["choices"] = json::array({choice});
  if (include_usage) j["usage"] = nullptr;
  return j;
}

json final_chunk(const ResponseMeta& m, const std::string& finish_reason, bool include_usage) {
  json j = head(m, true);
  json choice = m.endpoint == Endpoint::Chat
                    ? json{{"index", 0}, {"delta", json::object()}, {"logprobs", nullptr}, {"finish_reason", finish_reason}}
                    : json{{"index", 0}, {"text", ""}, {"logprobs", nullptr}, {"finish_reason", finish_reason}};
  j["choices"] = json::array({choice});
  if (include_usage) j["usage"] = nullptr;
  return j;
}

json usage_chunk(const ResponseMeta& m, const Outcome& o) {
  json j = head(m, true);
  j["choices"] = json::array();
  j["usage"] = usage_json(o);
  if (!o.thinking.is_null()) j["thinking"] = o.thinking;
  return j;
}

}  // namespace s1::serve
