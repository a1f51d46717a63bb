// Who generates the samples: the local engine (budget forcing inside the decoding loop,
// control/run.h) or any OpenAI-compatible completions endpoint (budget forcing by
// continuation requests, as s1's harness drives vLLM). Both fill the same SampleRecord
// fields: prompt, output and its parts, Waits, forced end, the generator's token counts.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "control/budget_config.h"
#include "eval/plan.h"
#include "eval/sample.h"

namespace s1 {
class Tokenizer;
namespace llm {
struct Engine;
class Client;
}  // namespace llm
}  // namespace s1

namespace s1::eval {

// Generation settings shared by every sample of a sweep.
struct GenOptions {
  control::Delimiters delimiters;
  int num_ignore = 0;
  std::string ignore_str = "Wait";
  control::BudgetMode mode = control::BudgetMode::Harness;
  int64_t min_thinking = 0;
  int64_t answer_limit = 32768;  // tokens after the end delimiter (s1's max_gen_toks)
  double temperature = 0.0;
  double top_p = 1.0;
  int reject_tries = 64;
  float end_bias = 0;  // testing: push random-weight models to end thinking (local only)
};

class Backend {
 public:
  virtual ~Backend() = default;
  // One sample of `prompt_text` (the chat-templated prompt). `max_thinking` is the thinking
  // cap for a controlled point (a budget, or the "auto" budget for prompt-only methods).
  // Throws on failure (the sweep records the error).
  virtual SampleRecord generate(const std::string& prompt_text, const PointSettings& point, int64_t max_thinking,
                                uint64_t seed) = 0;
  // Samples may be generated from several threads at once.
  virtual bool concurrent() const = 0;
  virtual std::string id() const = 0;
  // The context the "auto" budget is computed from (s1: max_gen_toks = 32768).
  virtual int64_t context_tokens() const = 0;
};

// The engine must outlive the backend. ctx: KV cache size (the context).
std::unique_ptr<Backend> make_local_backend(llm::Engine& engine, const GenOptions& opts, int64_t ctx);

// Continuation requests through `client` (raw prompts); `tok` (a tokenizer-only folder
// is enough) counts the thinking budget's tokens when the server reports none and the
// injected strings. context: the server's max_model_len for "auto".
std::unique_ptr<Backend> make_endpoint_backend(std::unique_ptr<llm::Client> client, const Tokenizer& tok,
                                               const GenOptions& opts, int64_t context);

// The stop strings of the thinking phase, s1's until_thinking: the family's stops plus the
// answer phase's stops, without duplicates.
std::vector<std::string> thinking_stops(const control::Delimiters& d, const std::vector<std::string>& answer_stops);

}  // namespace s1::eval
