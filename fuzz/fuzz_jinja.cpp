// libFuzzer target for the chat-template interpreter: the input is a template. It is
// parsed, then rendered with a small fixed conversation (and the variables
// apply_chat_template passes). s1::Error is the expected way to reject input; a crash,
// hang, sanitizer report or any other exception is a bug.
//
//   ./fuzz_jinja -max_total_time=60 -timeout=5 corpus/   (seed corpus: real templates)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "chat/jinja.h"
#include "core/error.h"

namespace {

using s1::jinja::Value;

const s1::jinja::Vars& fixed_vars() {
  static const s1::jinja::Vars vars = [] {
    auto messages = nlohmann::json::parse(R"([
      {"role": "system", "content": "You are helpful."},
      {"role": "user", "content": "Hi <b>there</b> \u00e9"},
      {"role": "assistant", "content": "<think>\nhmm\n</think>\n\nHello!",
       "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"x": [1, 2.5, null, true]}}}]},
      {"role": "tool", "content": "{\"ok\": 1}"},
      {"role": "user", "content": ["part", {"type": "text", "text": "t"}]}])");
    auto tools = nlohmann::json::parse(R"([{"type": "function", "function": {"name": "f", "description": "d",
      "parameters": {"type": "object", "properties": {"x": {"type": "array"}}, "required": ["x"]}}}])");
    s1::jinja::Vars v;
    v.emplace_back("messages", Value::from_json(messages));
    v.emplace_back("tools", Value::from_json(tools));
    v.emplace_back("documents", Value::none());
    v.emplace_back("add_generation_prompt", Value::boolean(true));
    v.emplace_back("bos_token", Value::string("<s>"));
    v.emplace_back("eos_token", Value::string("</s>"));
    v.emplace_back("enable_thinking", Value::boolean(false));
    v.emplace_back("date_string", Value::string("26 Nov 2026"));
    return v;
  }();
  return vars;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  // Tighter than the defaults so that every input finishes well inside -timeout.
  s1::jinja::Limits limits;
  limits.max_output_bytes = 1 << 20;
  limits.max_items = 1 << 16;
  limits.max_loop_iterations = 100000;
  limits.max_steps = 2'000'000;
  try {
    s1::jinja::Program program(source);
    (void)program.render(fixed_vars(), limits);
  } catch (const s1::Error&) {
    // rejected input: fine
  }
  return 0;
}
