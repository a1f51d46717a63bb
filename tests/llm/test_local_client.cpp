// The local engine behind the Client interface, on a tiny random-weight Qwen2.5-shaped
// model with the real tokenizer: greedy text equals the engine's own greedy decode,
// stop strings cut, max_tokens and seeds behave.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "backend/backend.h"
#include "decode/generator.h"
#include "llm/client.h"
#include "llm/engine.h"
#include "support/tiny_model.h"

namespace {

const std::string& tiny_dir() {
  static s1::test::TinyModelDir d("llm", 11);
  return d.path();
}

s1::llm::Client& client() {
  static auto c = [] {
    s1::llm::LocalOptions o;
    o.model_path = tiny_dir();
    o.threads = 1;
    o.max_context = 512;
    return s1::llm::make_local_client(o);
  }();
  return *c;
}

}  // namespace

TEST(LocalClient, GreedyRawCompletionEqualsEngineDecode) {
  s1::llm::Request req;
  req.prompt = "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n";
  req.max_tokens = 12;
  s1::llm::Response r = client().complete(req);
  EXPECT_EQ(r.completion_tokens, 12);
  EXPECT_EQ(r.finish_reason, "length");

  // The same generation through the engine directly.
  auto eng = s1::llm::Engine::open(tiny_dir(), {1, "", ""});
  auto ids = eng.tokenizer.encode(req.prompt);
  EXPECT_EQ(r.prompt_tokens, int64_t(ids.size()));
  s1::KVCache kv(*eng.model, 64);
  s1::GenerateParams gp;
  gp.max_new_tokens = 12;
  gp.sampling.temperature = 0;
  gp.stop_ids = eng.stop_ids;
  gp.valid_vocab = eng.valid_vocab;
  auto g = s1::generate(*eng.model, kv, ids, gp);
  EXPECT_EQ(r.text, eng.tokenizer.decode(g.output_ids));
}

TEST(LocalClient, StopStringEndsGenerationAndIsCut) {
  s1::llm::Request req;
  req.prompt = "Count: 1, 2, 3,";
  req.max_tokens = 10;
  auto full = client().complete(req);
  ASSERT_GE(full.text.size(), 2u);
  // Stop at the text's second character: generation ends there, nothing after it is kept.
  req.stop = {full.text.substr(1, 1)};
  auto cut = client().complete(req);
  EXPECT_EQ(cut.finish_reason, "stop");
  EXPECT_EQ(cut.stop, req.stop[0]);
  EXPECT_EQ(cut.text, full.text.substr(0, full.text.find(req.stop[0])));
  EXPECT_LE(cut.completion_tokens, full.completion_tokens);
}

TEST(LocalClient, ChatMessagesGoThroughTheTemplate) {
  s1::llm::Request chat;
  chat.messages = {{"user", "Hello"}};
  chat.max_tokens = 6;
  auto a = client().complete(chat);
  auto eng = s1::llm::Engine::open(tiny_dir(), {1, "", ""});
  s1::llm::Request raw;
  raw.prompt = eng.chat_template.apply(nlohmann::json::array({{{"role", "user"}, {"content", "Hello"}}}), true);
  raw.max_tokens = 6;
  auto b = client().complete(raw);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.prompt_tokens, b.prompt_tokens);
}

TEST(LocalClient, SeedReproducesSampling) {
  s1::llm::Request req;
  req.prompt = "Once upon a time";
  req.max_tokens = 16;
  req.temperature = 1.0;
  req.seed = 5;
  auto a = client().complete(req), b = client().complete(req);
  EXPECT_EQ(a.text, b.text);
  req.seed = 6;
  auto c = client().complete(req);
  EXPECT_NE(a.text, c.text);
}

TEST(LocalClient, BadRequestsAreClientErrors) {
  s1::llm::Request req;
  req.prompt = "";
  try {
    client().complete(req);
    FAIL() << "an empty prompt must fail";
  } catch (const s1::llm::ClientError& e) {
    EXPECT_FALSE(e.retryable);
  }
  req.prompt = std::string(4000, 'a') + " b c d e f g h i j k l m n o p q r s t u v w x y z";
  for (int i = 0; i < 6; ++i) req.prompt += req.prompt;
  EXPECT_THROW(client().complete(req), s1::llm::ClientError);
}

TEST(MakeClient, RejectsUnknownSpecs) {
  EXPECT_THROW(s1::llm::make_client("ftp://x"), s1::Error);
  EXPECT_THROW(s1::llm::make_client("local:"), s1::Error);
  EXPECT_THROW(s1::llm::make_client("local:/no/such/model"), s1::Error);
}
