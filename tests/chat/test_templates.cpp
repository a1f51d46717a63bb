// Real chat templates beyond the reference fixtures: Qwen3, Llama 3.2 and SmolLM2,
// transcribed into tests/data/chat-templates/ (see PROVENANCE.txt there). cases.json
// holds renderings by Python jinja2 3.1.6 configured as transformers does; the
// explicit tests below spell out the outputs that can be checked by reading the
// template.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <sstream>

#include "chat/chat_template.h"
#include "core/error.h"

namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

const std::string kDir = std::string(S1_TEST_DATA) + "/chat-templates/";

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

s1::ChatTemplate load(const std::string& name, const std::string& bos = "", const std::string& eos = "") {
  return s1::ChatTemplate(read(kDir + name), bos, eos);
}

const json kWeatherTool = json::parse(R"({"type": "function", "function": {"name": "get_weather",
  "description": "Get the weather in a city.", "parameters": {"type": "object",
  "properties": {"city": {"type": "string", "description": "City name"}}, "required": ["city"]}}})");

TEST(RealTemplates, MatchJinja2Renderings) {
  ojson cases = ojson::parse(read(kDir + "cases.json"));
  ASSERT_GE(cases.size(), 11u);
  for (const auto& c : cases) {
    s1::ChatTemplate t = load(c["tpl"], c["bos"], c["eos"]);
    EXPECT_EQ(t.apply_ordered(c["messages"], c["add_gen"].get<bool>(), c["extra"]), c["out"].get<std::string>())
        << c["name"];
  }
}

TEST(Qwen3, EnableThinkingFalseRendersEmptyThinkBlock) {
  auto t = load("qwen3.jinja");
  json msgs = json::array({{{"role", "user"}, {"content", "Hi"}}});
  EXPECT_EQ(t.apply(msgs, true, {{"enable_thinking", false}}),
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
  // enable_thinking=true, or not given: the model opens its own <think>
  EXPECT_EQ(t.apply(msgs, true, {{"enable_thinking", true}}), "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(t.apply(msgs, true), "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  // no generation prompt: nothing after the last turn
  EXPECT_EQ(t.apply(msgs, false, {{"enable_thinking", false}}), "<|im_start|>user\nHi<|im_end|>\n");
}

TEST(Qwen3, ReasoningOfEarlierTurnsIsDropped) {
  auto t = load("qwen3.jinja");
  json msgs = json::array({{{"role", "user"}, {"content", "2+2?"}},
                           {{"role", "assistant"}, {"content", "<think>\nadd\n</think>\n\n4"}},
                           {{"role", "user"}, {"content", "3+3?"}}});
  EXPECT_EQ(t.apply(msgs, false),
            "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n<|im_start|>user\n3+3?<|im_end|>\n");
}

TEST(Qwen3, ToolCallArgumentsAsJson) {
  auto t = load("qwen3.jinja");
  json msgs = json::array({{{"role", "user"}, {"content", "Weather?"}},
                           {{"role", "assistant"},
                            {"content", ""},
                            {"tool_calls", json::array({{{"function", {{"name", "get_weather"},
                                                                       {"arguments", {{"city", "Paris"}}}}}}})}}});
  std::string out = t.apply(msgs, false, {{"tools", json::array({kWeatherTool})}});
  EXPECT_THAT(out, testing::HasSubstr("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"));
  EXPECT_THAT(out, testing::StartsWith("<|im_start|>system\n# Tools\n\nYou may call one or more functions"));
}

TEST(Llama32, DateStringInSystemHeader) {
  auto t = load("llama-3.2.jinja", "<|begin_of_text|>", "<|eot_id|>");
  json msgs = json::array({{{"role", "system"}, {"content", " Be brief. "}}, {{"role", "user"}, {"content", "Hi\n"}}});
  EXPECT_EQ(t.apply(msgs, true, {{"date_string", "26 Nov 2026"}}),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
            "Cutting Knowledge Date: December 2023\nToday Date: 26 Nov 2026\n\n"
            "Be brief.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(Llama32, WithoutDateStringUsesStrftimeNow) {
  auto t = load("llama-3.2.jinja", "<|begin_of_text|>", "<|eot_id|>");
  json msgs = json::array({{{"role", "user"}, {"content", "Hi"}}});
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char today[64];
  std::strftime(today, sizeof today, "%d %b %Y", &tm);
  std::string out = t.apply(msgs, false);
  // (a render that straddles midnight would see another date; not worth guarding)
  EXPECT_THAT(out, testing::HasSubstr(std::string("Today Date: ") + today + "\n\n<|eot_id|>"));
}

TEST(Llama32, SingleToolCallOnly) {
  auto t = load("llama-3.2.jinja", "<|begin_of_text|>", "<|eot_id|>");
  json call = {{"function", {{"name", "f"}, {"arguments", json::object()}}}};
  json msgs = json::array({{{"role", "user"}, {"content", "x"}},
                           {{"role", "assistant"}, {"tool_calls", json::array({call, call})}}});
  try {
    t.apply(msgs, false, {{"date_string", "1 Jan 2025"}});
    FAIL() << "expected raise_exception";
  } catch (const s1::Error& e) {
    EXPECT_THAT(e.what(), testing::HasSubstr("This model only supports single tool-calls at once!"));
  }
}

TEST(Llama32, ToolsNeedAFirstUserMessage) {
  auto t = load("llama-3.2.jinja", "<|begin_of_text|>", "<|eot_id|>");
  json msgs = json::array({{{"role", "system"}, {"content", "S"}}});
  EXPECT_THROW(
      {
        try {
          t.apply(msgs, false, {{"date_string", "1 Jan 2025"}, {"tools", json::array({kWeatherTool})}});
        } catch (const s1::Error& e) {
          EXPECT_THAT(e.what(), testing::HasSubstr("Cannot put tools in the first user message"));
          throw;
        }
      },
      s1::Error);
}

TEST(SmolLM2, DefaultSystemPromptWhenNoneGiven) {
  auto t = load("smollm2.jinja");
  json msgs = json::array({{{"role", "user"}, {"content", "Hi"}}});
  EXPECT_EQ(t.apply(msgs, true),
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  json with_system = json::array({{{"role", "system"}, {"content", "S"}}, {{"role", "user"}, {"content", "Hi"}}});
  EXPECT_EQ(t.apply(with_system, false), "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n");
}

}  // namespace
