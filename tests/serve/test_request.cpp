// parse_request: the JSON body of a request in, a validated request or an OpenAI error out.
#include <gtest/gtest.h>

#include "serve/request.h"

namespace s1::serve {
namespace {

RequestLimits limits() {
  RequestLimits l;
  l.model_id = "tiny";
  l.max_tokens_limit = 512;
  return l;
}

ParsedRequest ok(Endpoint ep, const std::string& body) {
  ParseResult r = parse_request(ep, body, limits());
  if (auto* e = std::get_if<ApiError>(&r)) ADD_FAILURE() << body << " -> " << e->message;
  return std::holds_alternative<ParsedRequest>(r) ? std::get<ParsedRequest>(r) : ParsedRequest{};
}

ApiError err(Endpoint ep, const std::string& body) {
  ParseResult r = parse_request(ep, body, limits());
  if (std::holds_alternative<ParsedRequest>(r)) {
    ADD_FAILURE() << "accepted: " << body;
    return {};
  }
  return std::get<ApiError>(r);
}

const std::string kChat = R"("model":"tiny","messages":[{"role":"user","content":"hi"}])";

TEST(ServeRequest, ChatWithEverySamplingField) {
  auto r = ok(Endpoint::Chat, "{" + kChat +
                                  R"(,"temperature":0.5,"top_p":0.9,"top_k":40,"min_p":0.05,"seed":7,"max_tokens":64,
                                      "stop":["END","\n\n"],"stream":true,"stream_options":{"include_usage":true}})");
  EXPECT_EQ(r.messages.size(), 1u);
  EXPECT_FLOAT_EQ(r.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 0.9f);
  EXPECT_EQ(r.sampling.top_k, 40);
  EXPECT_FLOAT_EQ(r.sampling.min_p, 0.05f);
  EXPECT_EQ(r.sampling.seed, 7u);
  EXPECT_TRUE(r.seed_given);
  EXPECT_EQ(r.max_tokens, 64);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"END", "\n\n"}));
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_FALSE(r.thinking.requested);
}

TEST(ServeRequest, DefaultsFollowOpenAI) {
  auto r = ok(Endpoint::Chat, "{" + kChat + "}");
  EXPECT_FLOAT_EQ(r.sampling.temperature, 1.0f);
  EXPECT_FALSE(r.max_tokens.has_value());
  EXPECT_FALSE(r.stream);
  EXPECT_FALSE(r.seed_given);
  // null means "not set"
  auto n = ok(Endpoint::Chat, "{" + kChat + R"(,"temperature":null,"stop":null,"max_tokens":null})");
  EXPECT_FLOAT_EQ(n.sampling.temperature, 1.0f);
}

TEST(ServeRequest, ContentPartsAndDeveloperRole) {
  auto r = ok(Endpoint::Chat, R"({"model":"tiny","messages":[{"role":"developer","content":"be brief"},
      {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]})");
  EXPECT_EQ(r.messages[0]["role"], "system");
  EXPECT_EQ(r.messages[1]["content"], "ab");
  EXPECT_EQ(err(Endpoint::Chat, R"({"model":"tiny","messages":[{"role":"user","content":[{"type":"image_url"}]}]})").param,
            "messages[0].content");
}

TEST(ServeRequest, BudgetFieldsAndAliases) {
  auto r = ok(Endpoint::Chat, "{" + kChat +
                                  R"(,"max_thinking_tokens":32,"min_thinking_tokens":8,"num_ignore":2,
                                      "ignore_str":"Hmm","thinking_end_str":"</think>","budget_mode":"readme"})");
  EXPECT_TRUE(r.thinking.requested);
  EXPECT_EQ(r.thinking.max_thinking, 32);
  EXPECT_EQ(r.thinking.min_thinking, 8);
  EXPECT_EQ(r.thinking.num_ignore, 2);
  EXPECT_EQ(r.thinking.ignore_str, "Hmm");
  EXPECT_EQ(r.thinking.end_str, "</think>");
  EXPECT_EQ(r.thinking.budget_mode, "readme");
  EXPECT_EQ(ok(Endpoint::Chat, "{" + kChat + R"(,"thinking_token_budget":16})").thinking.max_thinking, 16);   // vLLM
  EXPECT_EQ(ok(Endpoint::Chat, "{" + kChat + R"(,"thinking_budget_tokens":24})").thinking.max_thinking, 24);  // llama.cpp
  auto unlimited = ok(Endpoint::Chat, "{" + kChat + R"(,"thinking_budget_tokens":-1})");
  EXPECT_TRUE(unlimited.thinking.requested);
  EXPECT_FALSE(unlimited.thinking.max_thinking.has_value());
  EXPECT_EQ(ok(Endpoint::Chat, "{" + kChat + R"(,"max_thinking_tokens":16,"thinking_token_budget":16})").thinking.max_thinking, 16);
  EXPECT_EQ(err(Endpoint::Chat, "{" + kChat + R"(,"max_thinking_tokens":16,"thinking_token_budget":17})").param,
            "thinking_token_budget");
  EXPECT_EQ(err(Endpoint::Chat, "{" + kChat + R"(,"max_thinking_tokens":8,"min_thinking_tokens":9})").param,
            "min_thinking_tokens");
  EXPECT_EQ(err(Endpoint::Chat, "{" + kChat + R"(,"budget_mode":"fast"})").param, "budget_mode");
  EXPECT_EQ(err(Endpoint::Chat, "{" + kChat + R"(,"ignore_str":7})").param, "ignore_str");
}

TEST(ServeRequest, Completions) {
  EXPECT_EQ(ok(Endpoint::Completions, R"({"model":"tiny","prompt":"Once"})").prompt_text, "Once");
  EXPECT_EQ(ok(Endpoint::Completions, R"({"model":"tiny","prompt":["Once"]})").prompt_text, "Once");
  EXPECT_EQ(ok(Endpoint::Completions, R"({"model":"tiny","prompt":[1,2,3]})").prompt_ids, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(err(Endpoint::Completions, R"({"model":"tiny","prompt":["a","b"]})").param, "prompt");
  EXPECT_EQ(err(Endpoint::Completions, R"({"model":"tiny","prompt":[-1]})").param, "prompt");
  EXPECT_EQ(err(Endpoint::Completions, R"({"model":"tiny"})").param, "prompt");
}

TEST(ServeRequest, MalformedAndWrongTypes) {
  auto bad = err(Endpoint::Chat, "{not json");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.code, "invalid_json");
  EXPECT_EQ(err(Endpoint::Chat, "[1,2]").status, 400);
  EXPECT_EQ(err(Endpoint::Chat, "").status, 400);
  EXPECT_EQ(err(Endpoint::Chat, "{" + kChat + R"(,"temperature":"hot"})").param, "temperature");
  EXPECT_EQ(err(Endpoint::Chat, "{" + kChat + R"(,"temperature":3})").param, "temperature");
  EXPECT_EQ(err(Endpoint::Chat, "{" + kChat + R"(,"max_tokens":1.5})").param, "max_tokens");
  EXPECT_EQ(err(Endpoint::Chat, "{" + kChat + R"(,"max_tokens":0})").param, "max_tokens");
  EXPECT_EQ(err(Endpoint::Chat, "{" + kChat + R"(,"stream":"yes"})").param, "stream");
  EXPECT_EQ(err(Endpoint::Chat, "{" + kChat + R"(,"stop":[1]})").param, "stop");
  EXPECT_EQ(err(Endpoint::Chat, "{" + kChat + R"(,"stop":["a","b","c","d","e"]})").param, "stop");
  EXPECT_EQ(err(Endpoint::Chat, "{" + kChat + R"(,"seed":"x"})").param, "seed");
  EXPECT_EQ(err(Endpoint::Chat, R"({"model":"tiny","messages":"hi"})").param, "messages");
  EXPECT_EQ(err(Endpoint::Chat, R"({"model":"tiny","messages":[]})").param, "messages");
  EXPECT_EQ(err(Endpoint::Chat, R"({"model":"tiny","messages":[{"role":"wizard","content":"x"}]})").param,
            "messages[0].role");
  EXPECT_EQ(err(Endpoint::Chat, R"({"messages":[{"role":"user","content":"x"}]})").param, "model");
  EXPECT_EQ(err(Endpoint::Chat, R"({"model":5,"messages":[{"role":"user","content":"x"}]})").param, "model");
}

TEST(ServeRequest, LimitsAndUnsupported) {
  auto big = err(Endpoint::Chat, "{" + kChat + R"(,"max_tokens":513})");
  EXPECT_EQ(big.status, 400);
  EXPECT_EQ(big.param, "max_tokens");
  EXPECT_EQ(ok(Endpoint::Chat, "{" + kChat + R"(,"max_completion_tokens":512})").max_tokens, 512);
  EXPECT_EQ(err(Endpoint::Chat, "{" + kChat + R"(,"n":2})").param, "n");
  EXPECT_EQ(ok(Endpoint::Chat, "{" + kChat + R"(,"n":1})").messages.size(), 1u);
  EXPECT_EQ(err(Endpoint::Chat, "{" + kChat + R"(,"logprobs":true})").param, "logprobs");
  EXPECT_EQ(err(Endpoint::Chat, "{" + kChat + R"(,"tools":[{"type":"function"}]})").param, "tools");
  EXPECT_EQ(err(Endpoint::Chat, "{" + kChat + R"(,"presence_penalty":0.5})").param, "presence_penalty");
  EXPECT_EQ(err(Endpoint::Chat, "{" + kChat + R"(,"chat_template_kwargs":{"messages":1}})").param, "chat_template_kwargs");
}

TEST(ServeRequest, UnknownModelIs404) {
  auto e = err(Endpoint::Chat, R"({"model":"gpt-4","messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(e.status, 404);
  EXPECT_EQ(e.code, "model_not_found");
  EXPECT_EQ(e.param, "model");
  auto body = error_body(e);
  EXPECT_TRUE(body["error"].contains("message"));
  EXPECT_TRUE(body["error"].contains("type"));
  EXPECT_TRUE(body["error"].contains("param"));
  EXPECT_TRUE(body["error"].contains("code"));
}

TEST(ServeRequest, DeepNestingIsAnErrorNotACrash) {
  std::string deep = "{" + kChat + R"(,"x":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  ok(Endpoint::Chat, deep);  // unknown fields are ignored, however deep
  EXPECT_EQ(err(Endpoint::Chat, std::string(200000, '[')).status, 400);
}

}  // namespace
}  // namespace s1::serve
