// Reference fixtures: transformers' apply_chat_template output for the Qwen2.5 and
// DeepSeek-R1-Distill-Qwen templates (tests/data/reference/tokenizer/chat-templates.json),
// template discovery in Hugging Face folders, and the ChatML template.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "chat/chat_template.h"
#include "core/error.h"

namespace {

using nlohmann::json;

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string kData = S1_TEST_DATA;
// Repository-root data/ (older folder format: template inside tokenizer_config.json).
const std::string kRepoData = std::string(S1_TEST_DATA) + "/../../data";

json cases() { return json::parse(read(kData + "/reference/tokenizer/chat-templates.json")); }

std::string template_source(const std::string& name) {
  if (name == "qwen2.5") return s1::find_chat_template(kData + "/reference/tokenizer/qwen2.5");
  if (name == "deepseek-r1-distill-qwen") {
    return read(kData + "/llama.cpp-tokenizer/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja");
  }
  ADD_FAILURE() << "unknown template " << name;
  return "";
}

TEST(ChatTemplateReference, AllCasesMatchTransformers) {
  json all = cases();
  ASSERT_EQ(all.size(), 16u);
  int matched = 0;
  for (const auto& c : all) {
    const std::string name = c["template"];
    // The reference was rendered with the Qwen2.5 tokenizer, which has no bos_token:
    // {{ bos_token }} printed nothing there.
    s1::ChatTemplate t(template_source(name), "", "<|im_end|>");
    std::string got = t.apply(c["messages"], c["add_generation_prompt"].get<bool>());
    EXPECT_EQ(got, c["text"].get<std::string>())
        << name << " / " << c["conversation"] << " / add_generation_prompt=" << c["add_generation_prompt"];
    matched += got == c["text"].get<std::string>();
  }
  EXPECT_EQ(matched, 16);
}

TEST(ChatTemplateReference, QwenTemplateFromEveryFolderFormat) {
  const std::string jinja_file = read(kData + "/reference/tokenizer/qwen2.5/chat_template.jinja");
  // transformers 5 folder: chat_template.jinja
  EXPECT_EQ(s1::find_chat_template(kData + "/reference/tokenizer/qwen2.5"), jinja_file);
  // older folder: "chat_template" inside tokenizer_config.json
  const std::string old_format = s1::find_chat_template(kRepoData + "/tokenizers/qwen2.5");
  ASSERT_FALSE(old_format.empty());
  EXPECT_EQ(old_format, jinja_file);
  // llama.cpp's vendored copy of the same template
  EXPECT_EQ(read(kData + "/llama.cpp-tokenizer/Qwen-Qwen2.5-7B-Instruct.jinja"), jinja_file);

  s1::ChatTemplate t(old_format, "", "<|im_end|>");
  for (const auto& c : cases()) {
    if (c["template"] != "qwen2.5") continue;
    EXPECT_EQ(t.apply(c["messages"], c["add_generation_prompt"].get<bool>()), c["text"].get<std::string>());
  }
}

TEST(ChatTemplateReference, DeepSeekPrintsItsBosToken) {
  s1::ChatTemplate t(template_source("deepseek-r1-distill-qwen"), "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>");
  json msgs = json::array({{{"role", "user"}, {"content", "Hi"}}});
  EXPECT_EQ(t.apply(msgs, true), "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜><think>\n");
}

TEST(ChatTemplateReference, DeepSeekDropsReasoningOfEarlierTurns) {
  s1::ChatTemplate t(template_source("deepseek-r1-distill-qwen"), "", "");
  json msgs = json::array({{{"role", "user"}, {"content", "Q"}},
                           {{"role", "assistant"}, {"content", "<think>\nhmm\n</think>\n\nA"}},
                           {{"role", "user"}, {"content", "Q2"}}});
  EXPECT_EQ(t.apply(msgs, false), "<｜User｜>Q<｜Assistant｜>\n\nA<｜end▁of▁sentence｜><｜User｜>Q2");
}

TEST(FindChatTemplate, MissingFolderOrTemplateGivesEmpty) {
  EXPECT_EQ(s1::find_chat_template(kData + "/no-such-folder"), "");
  EXPECT_EQ(s1::find_chat_template(kData + "/llama.cpp-tokenizer"), "");
}

TEST(FindChatTemplate, ListOfNamedTemplatesTakesDefault) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / "s1_chat_find_template_test";
  fs::create_directories(dir);
  {
    std::ofstream out(dir / "tokenizer_config.json");
    out << R"({"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]})";
  }
  EXPECT_EQ(s1::find_chat_template(dir.string()), "D");
  fs::remove_all(dir);
}

TEST(ChatMl, StandardTemplate) {
  s1::ChatTemplate t(s1::ChatTemplate::chatml_source());
  json msgs = json::array({{{"role", "system"}, {"content", "S"}}, {{"role", "user"}, {"content", "Hi"}}});
  EXPECT_EQ(t.apply(msgs, false), "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n");
  EXPECT_EQ(t.apply(msgs, true),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(t.source(), s1::ChatTemplate::chatml_source());
}

TEST(ChatTemplate, MoveKeepsProgram) {
  s1::ChatTemplate a(s1::ChatTemplate::chatml_source());
  s1::ChatTemplate b(std::move(a));
  EXPECT_EQ(b.apply(json::array(), true), "<|im_start|>assistant\n");
}

TEST(ChatTemplate, ExtraVarsAndSpecialTokens) {
  s1::ChatTemplate t("{{ bos_token }}|{{ eos_token }}|{{ tools }}|{{ documents }}|{{ x }}|{{ add_generation_prompt }}",
                     "<s>", "</s>");
  EXPECT_EQ(t.apply(json::array(), true, {{"x", 5}}), "<s>|</s>|None|None|5|True");
  EXPECT_THROW(t.apply(json::array(), true, json::array()), s1::Error);
}

TEST(ChatTemplate, OrderedJsonKeepsKeyOrder) {
  s1::ChatTemplate t("{{ messages[0]|tojson }}");
  nlohmann::ordered_json msgs = nlohmann::ordered_json::array();
  msgs.push_back({{"role", "user"}, {"content", "x"}});
  EXPECT_EQ(t.apply_ordered(msgs, false), R"({"role": "user", "content": "x"})");
  EXPECT_EQ(t.apply(json::array({{{"role", "user"}, {"content", "x"}}}), false), R"({"content": "x", "role": "user"})");
}

TEST(ChatTemplate, HostileInputJsonIsRejectedNotCrashed) {
  s1::ChatTemplate t("{{ messages|tojson }}");
  json deep = "x";
  for (int i = 0; i < 1000; ++i) deep = json::array({deep});
  EXPECT_THROW(t.apply(json::array({{{"role", "user"}, {"content", deep}}}), false), s1::Error);
}

TEST(ChatTemplate, SyntaxErrorNamesLineAndColumn) {
  try {
    s1::ChatTemplate t("line one\n{% if x %}\n{{ x + }}\n{% endif %}");
    FAIL() << "expected a syntax error";
  } catch (const s1::Error& e) {
    EXPECT_THAT(e.what(), testing::HasSubstr("line 3, column 8"));
  }
}

TEST(ChatTemplate, RaiseExceptionCarriesMessage) {
  s1::ChatTemplate t("{% if messages|length == 0 %}{{ raise_exception('Conversation must not be empty') }}{% endif %}");
  try {
    t.apply(json::array(), false);
    FAIL() << "expected raise_exception to throw";
  } catch (const s1::Error& e) {
    EXPECT_THAT(e.what(), testing::HasSubstr("Conversation must not be empty"));
  }
}

}  // namespace
