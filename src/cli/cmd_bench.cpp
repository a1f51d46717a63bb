// s1 bench: prefill and decode speed of a model on this machine, next to the memory
// read bandwidth measured here with the same thread count. Decode is bandwidth-bound:
// each token reads every weight once plus the KV cache up to its position, so
// achieved GB/s = bytes per token x tokens/s, counted as calm and yalm count it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>

#include "backend/cpu/membw.h"
#include "backend/profiled_backend.h"
#include "cli/common.h"
#include "core/error.h"

namespace s1::cli {
namespace {

struct BenchOptions {
  std::string model;
  int64_t prompt = 512, gen = 128;
  std::string positions = "512,4096";
  int threads = 0;
  bool json = false, profile = false, plain_read = false;
  std::string quant;
  std::string kv_cache = "auto";
};

// One pass of `threads` threads over the memory the last decoded token read
// (Model::decode_reads), shared out as decode shares it, timed: how fast that token
// could have gone if reading were all it did, with no arithmetic and no waits between
// its layers.
void plain_read_pass(const Model& model, const KVCache& kv, int threads, double& secs, double& bytes) {
  const Model::DecodeReads reads = model.decode_reads(kv);
  std::vector<cpu::MemRegion> regions;
  for (const Backend::Region& r : reads.weights) regions.push_back({r.data, r.bytes, -1});
  for (size_t h = 0; h < reads.kv_heads.size(); ++h)
    for (const Backend::Region& r : reads.kv_heads[h]) regions.push_back({r.data, r.bytes, int(h)});
  for (const cpu::MemRegion& r : regions) bytes += double(r.bytes);
  secs += cpu::time_plain_read(regions, threads).seconds;
}

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

int run_bench(const BenchOptions& o) {
  std::shared_ptr<Backend> be = make_cpu_backend(o.threads);
  const int threads = be->threads();
  std::shared_ptr<ProfiledBackend> prof;
  if (o.profile) be = prof = std::make_shared<ProfiledBackend>(be);
  LoadOptions lo = load_options(o.quant);
  if (o.kv_cache == "f32") lo.kv_cache = LoadOptions::KvCache::F32;
  if (o.kv_cache == "bf16") lo.kv_cache = LoadOptions::KvCache::BF16;
  auto model = Model::load(o.model, be, lo);
  const ModelConfig& c = model->config();
  std::vector<int64_t> positions;
  for (int32_t p : parse_id_list(o.positions)) positions.push_back(p);
  if (o.prompt <= 0 || o.gen <= 0) fail("--prompt and --gen must be positive");

  if (!o.json) std::fprintf(stderr, "measuring read bandwidth (%d threads)...\n", threads);
  // On a shared VM the bandwidth two threads get moves between levels (~36 / ~63 GB/s
  // here) within seconds, so one reading at the start says little about a decode run a
  // minute later. The probe is read before the prefill, and before and after each
  // stretch of decoding (a quarter of --gen); each stretch is compared with the higher of
  // the readings around it (a low reading would flatter us).
  cpu::BandwidthProbe probe(threads);
  auto bw = probe.measure(5);
  std::vector<double> bw_samples = {bw.gbps};
  const double peak = cpu::measure_fma_peak_gflops(threads);

  std::mt19937 rng(1);
  std::uniform_int_distribution<int32_t> tok(0, int32_t(std::min<int64_t>(c.vocab_size, 150000) - 1));
  std::vector<int32_t> prompt(size_t(o.prompt));
  for (auto& t : prompt) t = tok(rng);
  std::vector<float> logits(size_t(c.vocab_size));

  // Prefill (one warm-up pass on a short prompt first: page faults of the mmap).
  {
    KVCache warm(*model, 16);
    model->forward(warm, std::span<const int32_t>(prompt.data(), std::min<size_t>(8, prompt.size())), logits.data());
  }
  if (!o.json) std::fprintf(stderr, "prefill %lld tokens...\n", (long long)o.prompt);
  KVCache kv(*model, o.prompt + 1);
  double t0 = now_s();
  model->forward(kv, prompt, logits.data());
  const double prefill_secs = now_s() - t0;
  const double prefill_tps = double(o.prompt) / prefill_secs;
  // The prefill's arithmetic: every layer matrix for every token, the output head for the
  // last token only (its logits are the ones returned), and attention (q.k and p.v over
  // the positions up to each token's own).
  double layer_params = 0;
  for (const auto& L : model->weights().layers)
    for (const WeightMatrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down})
      layer_params += double(m->rows) * double(m->cols);
  const double head_params = double(model->weights().lm_head.rows) * double(model->weights().lm_head.cols);
  const double attention_flops =
      4.0 * double(c.q_dim()) * double(c.layers) * (double(o.prompt) * double(o.prompt + 1) / 2.0);
  const double prefill_flops = 2.0 * layer_params * double(o.prompt) + 2.0 * head_params + attention_flops;

  const WeightStats ws = weight_stats(c, model->weights());
  // A decode step reads every matrix (lm_head included; the embedding table only one row).
  const bool separate_head = model->weights().lm_head.data != model->weights().embed.data;
  const double weight_bytes = double(ws.bytes) - (separate_head ? double(model->weights().embed.bytes()) : 0.0);
  const double kv_bytes_per_pos = double(KVCache(*model, 1).bytes_per_token());

  nlohmann::json decode = nlohmann::json::array();
  for (int64_t pos : positions) {
    if (!o.json) std::fprintf(stderr, "decode %lld tokens at position %lld...\n", (long long)o.gen, (long long)pos);
    KVCache dkv(*model, pos + o.gen + 1);
    dkv.fill_zeros_for_benchmark(pos);
    int32_t id = prompt[0];
    model->forward(dkv, std::span<const int32_t>(&id, 1), logits.data());  // warm-up step
    if (prof) prof->reset();
    const int64_t stretches = std::min<int64_t>(4, o.gen);
    double before = probe.measure().gbps;
    bw_samples.push_back(before);
    double secs = 0, read = 0, allowed = 0;  // seconds decoding, bytes read, bytes the probes allowed
    double plain_secs = 0, plain_bytes = 0;    // --plain-read's passes
    for (int64_t s = 0; s < stretches; ++s) {
      const int64_t n = o.gen * (s + 1) / stretches - o.gen * s / stretches;
      double kv_read = 0, dt = 0;
      for (int64_t i = 0; i < n; ++i) {
        kv_read += kv_bytes_per_pos * double(dkv.pos() + 1);
        id = tok(rng);
        const double t1 = now_s();
        model->forward(dkv, std::span<const int32_t>(&id, 1), logits.data());
        dt += now_s() - t1;
        // After each token, one pass over the memory it read: the same minute of this
        // machine, so a change of its read rate shows in both.
        if (o.plain_read) plain_read_pass(*model, dkv, threads, plain_secs, plain_bytes);
      }
      const double after = probe.measure().gbps;
      bw_samples.push_back(after);
      secs += dt;
      read += weight_bytes * double(n) + kv_read;
      allowed += dt * std::max(before, after) * 1e9;
      before = after;
    }
    const double tps = double(o.gen) / secs;
    const double bytes_per_token = read / double(o.gen);
    const double gbps = bytes_per_token * tps / 1e9;
    nlohmann::json entry = {{"position", pos},
                            {"tokens_per_s", tps},
                            {"bytes_per_token", bytes_per_token},
                            {"gbps", gbps},
                            {"read_bandwidth_gbps", allowed / secs / 1e9},
                            {"pct_of_bandwidth", 100.0 * read / allowed}};
    if (o.plain_read) {
      entry["plain_read_gbps"] = plain_bytes / plain_secs / 1e9;
      entry["pct_of_plain_read"] = 100.0 * (read / secs) / (plain_bytes / plain_secs);
    }
    if (prof) {
      nlohmann::json ops = nlohmann::json::array();
      std::vector<std::pair<std::string, ProfiledBackend::Stat>> by_time(prof->stats().begin(), prof->stats().end());
      std::sort(by_time.begin(), by_time.end(), [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
      for (const auto& [name, st] : by_time) {
        ops.push_back({{"op", name},
                       {"calls_per_token", double(st.calls) / double(o.gen)},
                       {"ms_per_token", 1e3 * st.seconds / double(o.gen)},
                       {"share_of_token", st.seconds / secs},
                       {"gbps", st.seconds > 0 && st.bytes > 0 ? st.bytes / st.seconds / 1e9 : 0.0}});
      }
      entry["profile"] = ops;
    }
    decode.push_back(entry);
  }
  for (double g : bw_samples) bw.gbps = std::max(bw.gbps, g);

  nlohmann::ordered_json j;
  j["model"] = o.model;
  j["architecture"] = c.architecture_name;
  j["weight_dtype"] = dtype_name(model->weights().layers.empty() ? model->weights().embed.dtype : model->weights().layers[0].wq.dtype);
  j["kv_cache_dtype"] = model->kv_bf16() ? "bf16" : "f32";
  j["kv_bytes_per_position"] = kv_bytes_per_pos;
  j["parameters"] = ws.params;
  j["weight_bytes_per_token"] = weight_bytes;
  j["threads"] = threads;
  j["read_bandwidth_gbps"] = bw.gbps;
  j["read_bandwidth_samples_gbps"] = bw_samples;
  j["prefill_tokens"] = o.prompt;
  j["prefill_tokens_per_s"] = prefill_tps;
  j["prefill_gflops"] = prefill_flops / prefill_secs / 1e9;
  j["fma_peak_gflops"] = peak;
  j["prefill_pct_of_peak"] = peak > 0 ? 100.0 * j["prefill_gflops"].get<double>() / peak : 0.0;
  j["decode"] = decode;
  if (o.json) {
    std::cout << j.dump() << "\n";
  } else {
    std::printf("model            %s (%s, %.0f M params, %s)\n", o.model.c_str(), c.architecture_name.c_str(),
                ws.params / 1e6, j["weight_dtype"].get<std::string>().c_str());
    std::printf("threads          %d\n", threads);
    std::printf("kv cache         %s, %.0f bytes per position\n", j["kv_cache_dtype"].get<std::string>().c_str(), kv_bytes_per_pos);
    std::printf("read bandwidth   %.1f GB/s at most (measured %zu times, %zu MiB buffer; lowest %.1f)\n", bw.gbps,
                bw_samples.size(), bw.bytes >> 20, *std::min_element(bw_samples.begin(), bw_samples.end()));
    std::printf("f32 FMA peak     %.1f GFLOP/s (measured)\n", peak);
    std::printf("prefill          %.1f tok/s over %lld tokens (%.1f GFLOP/s = %.1f%% of peak: 2 x layer params per token, attention, one head row)\n",
                prefill_tps, (long long)o.prompt, j["prefill_gflops"].get<double>(), j["prefill_pct_of_peak"].get<double>());
    for (const auto& d : decode)
      std::printf("decode @%-7lld  %.2f tok/s, %.1f MB/token, %.1f GB/s = %.1f%% of the %.1f GB/s measured around it\n",
                  (long long)d["position"].get<int64_t>(), d["tokens_per_s"].get<double>(),
                  d["bytes_per_token"].get<double>() / 1e6, d["gbps"].get<double>(), d["pct_of_bandwidth"].get<double>(),
                  d["read_bandwidth_gbps"].get<double>());
    for (const auto& d : decode)
      if (d.contains("plain_read_gbps"))
        std::printf("plain read @%-5lld  %.1f GB/s reading the same memory after each token: decode at %.1f%% of it\n",
                    (long long)d["position"].get<int64_t>(), d["plain_read_gbps"].get<double>(),
                    d["pct_of_plain_read"].get<double>());
    for (const auto& d : decode) {
      if (!d.contains("profile")) continue;
      std::printf("\nprofile @%lld (per token; timing each call slows decode a little)\n", (long long)d["position"].get<int64_t>());
      std::printf("  %-44s %6s %8s %7s %7s\n", "op", "calls", "ms", "share", "GB/s");
      for (const auto& p : d["profile"])
        std::printf("  %-44s %6.1f %8.3f %6.1f%% %7.1f\n", p["op"].get<std::string>().c_str(),
                    p["calls_per_token"].get<double>(), p["ms_per_token"].get<double>(),
                    100.0 * p["share_of_token"].get<double>(), p["gbps"].get<double>());
    }
  }
  return 0;
}

}  // namespace

void add_bench(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* c = app.add_subcommand("bench", "Measure prefill / decode speed against this machine's memory bandwidth");
  c->add_option("-m,--model", o->model, "Model: a Hugging Face folder or a .gguf file")->required();
  c->add_option("--prompt", o->prompt, "Prefill length in tokens")->capture_default_str();
  c->add_option("--gen", o->gen, "Decoded tokens per position")->capture_default_str();
  c->add_option("--positions", o->positions, "Decode at these context positions (comma list)")->capture_default_str();
  c->add_option("-t,--threads", o->threads, "Threads (default: all cores)");
  c->add_flag("--json", o->json, "Print one JSON object");
  c->add_flag("--profile", o->profile, "Time each kind of op during decode (ms and GB/s per token)");
  c->add_flag("--plain-read", o->plain_read,
              "After each decoded token, time one plain read of the memory it read (weights, KV cache) and report "
              "decode as a % of that rate");
  add_quant_option(c, o->quant);
  c->add_option("--kv-cache", o->kv_cache,
                "KV cache elements: auto (bf16 where the CPU has AVX512-BF16 and the weights are not f32), f32, bf16")
      ->check(CLI::IsMember({"auto", "f32", "bf16"}))
      ->capture_default_str();
  cmds.emplace_back(c, [o] { return run_bench(*o); });
}

}  // namespace s1::cli
