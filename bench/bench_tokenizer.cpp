// Encode/decode throughput of the Qwen2.5 tokenizer on MATH500 solutions (the rows
// of qwen2.5-encode.jsonl whose source is "math500.solution"), in bytes of text/s.
#include <benchmark/benchmark.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"

namespace {

const std::string kDir = std::string(S1_TEST_DATA) + "/reference/tokenizer/qwen2.5";

const s1::Tokenizer& tokenizer() {
  static const s1::Tokenizer t = s1::Tokenizer::from_hf_folder(kDir);
  return t;
}

// source == "" selects every row.
std::vector<std::string> texts(const std::string& source) {
  std::vector<std::string> out;
  std::ifstream f(std::string(S1_TEST_DATA) + "/reference/tokenizer/qwen2.5-encode.jsonl");
  for (std::string line; std::getline(f, line);) {
    auto j = nlohmann::json::parse(line);
    if (source.empty() || j["source"] == source) out.push_back(j["text"].get<std::string>());
  }
  return out;
}

const std::vector<std::string>& math500_solutions() {
  static const auto t = texts("math500.solution");
  return t;
}

int64_t total_bytes(const std::vector<std::string>& v) {
  int64_t n = 0;
  for (const auto& s : v) n += static_cast<int64_t>(s.size());
  return n;
}

// Steady state: the word cache already holds the texts' words.
void BM_EncodeMath500(benchmark::State& state) {
  const auto& tok = tokenizer();
  const auto& t = math500_solutions();
  int64_t ids = 0;
  for (auto _ : state)
    for (const auto& s : t) {
      auto v = tok.encode(s, state.range(0) != 0);
      ids += static_cast<int64_t>(v.size());
      benchmark::DoNotOptimize(v.data());
    }
  state.SetBytesProcessed(state.iterations() * total_bytes(t));
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(ids), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EncodeMath500)->Arg(0)->Arg(1)->ArgName("special_as_text")->Unit(benchmark::kMillisecond);

// First pass over the texts with an empty word cache (a fresh tokenizer each time).
void BM_EncodeMath500ColdCache(benchmark::State& state) {
  const auto& t = math500_solutions();
  for (auto _ : state) {
    state.PauseTiming();
    auto tok = s1::Tokenizer::from_hf_folder(kDir);
    state.ResumeTiming();
    for (const auto& s : t) benchmark::DoNotOptimize(tok.encode(s).data());
  }
  state.SetBytesProcessed(state.iterations() * total_bytes(t));
}
BENCHMARK(BM_EncodeMath500ColdCache)->Iterations(3)->Unit(benchmark::kMillisecond);

void BM_EncodeAllRows(benchmark::State& state) {
  const auto& tok = tokenizer();
  static const auto t = texts("");
  for (auto _ : state)
    for (const auto& s : t) benchmark::DoNotOptimize(tok.encode(s).data());
  state.SetBytesProcessed(state.iterations() * total_bytes(t));
}
BENCHMARK(BM_EncodeAllRows)->Unit(benchmark::kMillisecond);

// The pre-tokenizer regex split alone (PCRE2 JIT), to see its share of encode().
void BM_PreTokenizeMath500(benchmark::State& state) {
  s1::tok::PreTokenizerPipeline pipe;
  pipe.add_regex_split(s1::tok::builtin_pattern(s1::PreTokenizer::Qwen2), "bench");
  const auto& t = math500_solutions();
  int64_t words = 0;
  for (auto _ : state)
    for (const auto& s : t) pipe.split(s, [&](std::string_view) { ++words; });
  benchmark::DoNotOptimize(words);
  state.SetBytesProcessed(state.iterations() * total_bytes(t));
}
BENCHMARK(BM_PreTokenizeMath500)->Unit(benchmark::kMillisecond);

void BM_DecodeMath500(benchmark::State& state) {
  const auto& tok = tokenizer();
  std::vector<std::vector<int32_t>> ids;
  for (const auto& s : math500_solutions()) ids.push_back(tok.encode(s));
  for (auto _ : state)
    for (const auto& v : ids) benchmark::DoNotOptimize(tok.decode(v).data());
  state.SetBytesProcessed(state.iterations() * total_bytes(math500_solutions()));
}
BENCHMARK(BM_DecodeMath500)->Unit(benchmark::kMillisecond);

void BM_LoadTokenizerJson(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(s1::Tokenizer::from_hf_folder(kDir).vocab_size());
}
BENCHMARK(BM_LoadTokenizerJson)->Iterations(2)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
