// libFuzzer target for the server's request parser (src/serve/request.h): the input is a
// POST body, parsed for both endpoints. Any input must give a validated request or an
// OpenAI-style error — never an exception, crash, sanitizer report or hang — and what is
// accepted must respect the limits; the error body must serialize.
//
//   ./fuzz_serve_request -max_total_time=60 -timeout=5 fuzz/corpus/serve_request/
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "serve/request.h"

namespace {

void check(s1::serve::Endpoint ep, std::string_view body) {
  s1::serve::RequestLimits lim;
  lim.model_id = "m";
  lim.max_tokens_limit = 1024;
  auto r = s1::serve::parse_request(ep, body, lim);
  if (auto* e = std::get_if<s1::serve::ApiError>(&r)) {
    if (e->status < 400 || e->status > 499 || e->message.empty()) std::abort();
    (void)s1::serve::error_body(*e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  const auto& p = std::get<s1::serve::ParsedRequest>(r);
  if (p.model != "m") std::abort();
  if (p.max_tokens && (*p.max_tokens < 1 || *p.max_tokens > lim.max_tokens_limit)) std::abort();
  if (p.stop.size() > lim.max_stop) std::abort();
  if (p.thinking.max_thinking && p.thinking.min_thinking > *p.thinking.max_thinking) std::abort();
  if (p.thinking.num_ignore < 0 || p.thinking.num_ignore > lim.max_num_ignore) std::abort();
  if (!(p.sampling.temperature >= 0 && p.sampling.temperature <= 2)) std::abort();
  if (ep == s1::serve::Endpoint::Chat && (!p.messages.is_array() || p.messages.empty())) std::abort();
  if (ep == s1::serve::Endpoint::Completions && !p.prompt_text && p.prompt_ids.empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  check(s1::serve::Endpoint::Chat, body);
  check(s1::serve::Endpoint::Completions, body);
  return 0;
}
