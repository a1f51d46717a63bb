#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "core/error.h"
#include "formats/safetensors.h"
#include "model/train_params.h"
#include "model/transformer_train.h"
#include "train/export.h"
#include "train/log.h"

namespace s1::train {
namespace fs = std::filesystem;

uint64_t peak_rss_bytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return uint64_t(std::stoull(line.substr(6))) * 1024;
  return 0;
}

namespace {

uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// The order of the examples in epoch `epoch`: a Fisher-Yates shuffle seeded by (seed, epoch),
// so a resumed run (or a rerun with the same seed) sees the same order.
std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> o(static_cast<size_t>(n));
  std::iota(o.begin(), o.end(), int64_t(0));
  uint64_t s = seed * 0x2545f4914f6cdd1dull + uint64_t(epoch) * 0x9e3779b97f4a7c15ull + 1;
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = int64_t((unsigned __int128)splitmix64(s) * uint64_t(i + 1) >> 64);
    std::swap(o[size_t(i)], o[size_t(j)]);
  }
  return o;
}

DType export_dtype(const std::string& name, const Model& m) {
  if (name == "f32") return DType::F32;
  if (name == "bf16") return DType::BF16;
  if (name == "f16") return DType::F16;
  if (name != "same") fail("--export-dtype must be same, f32, bf16 or f16, not '", name, "'");
  const DType d = m.weights().embed.dtype;
  return d == DType::BF16 || d == DType::F16 ? d : DType::F32;
}

void save_checkpoint(const std::string& path, const ParamLayout& lay, const float* params, const AdamW& opt,
                     const nlohmann::json& state) {
  const int64_t n = int64_t(lay.total());
  SafetensorsWriter w(path, {{"params", DType::F32, {n}}, {"adam_m", DType::F32, {n}}, {"adam_v", DType::F32, {n}}},
                      {{"format", "s1-train-checkpoint"}, {"s1_train_state", state.dump()}});
  w.write(params, size_t(n) * sizeof(float));
  w.write(opt.m.data(), size_t(n) * sizeof(float));
  w.write(opt.v.data(), size_t(n) * sizeof(float));
  w.finish();  // written as PATH.partial, renamed when complete
}

nlohmann::json load_checkpoint(const std::string& path, const ParamLayout& lay, float* params, AdamW& opt) {
  SafetensorsFile f(path);
  auto it = f.metadata().find("s1_train_state");
  if (it == f.metadata().end()) fail(path, ": not an s1 train checkpoint (no s1_train_state)");
  nlohmann::json st;
  try {
    st = nlohmann::json::parse(it->second);
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": bad s1_train_state: ", e.what());
  }
  for (const char* name : {"params", "adam_m", "adam_v"}) {
    const TensorInfo* t = nullptr;
    for (const auto& x : f.tensors())
      if (x.name == name) t = &x;
    if (!t || t->dtype != DType::F32 || t->numel() != int64_t(lay.total()))
      fail(path, ": tensor '", name, "' missing or not ", lay.total(), " f32 values (a checkpoint of another model?)");
    float* dst = std::strcmp(name, "params") == 0 ? params : std::strcmp(name, "adam_m") == 0 ? opt.m.data() : opt.v.data();
    std::memcpy(dst, t->data, t->nbytes);
  }
  return st;
}

}  // namespace

TrainResult run_training(const TrainConfig& cfg, std::unique_ptr<Model> model_ptr, const Tokenizer& tok,
                         const ChatTemplate& tpl) {
  Model& model = *model_ptr;
  if (cfg.epochs < 1) fail("--epochs must be at least 1");
  if (cfg.batch < 1 || cfg.micro_batch < 1) fail("--batch and --micro-batch must be at least 1");
  if (cfg.micro_batch > cfg.batch) fail("--micro-batch (", cfg.micro_batch, ") exceeds --batch (", cfg.batch, ")");
  if (!(cfg.lr >= 0)) fail("--lr must be >= 0");
  if (!(cfg.warmup_ratio >= 0 && cfg.warmup_ratio <= 1)) fail("--warmup-ratio must be in [0, 1], got ", cfg.warmup_ratio);
  if (cfg.save_every < 0 || cfg.max_steps < 0) fail("--save-every and --max-steps must be >= 0");
  if (cfg.schedule != "cosine" && cfg.schedule != "constant") fail("--lr-schedule must be cosine or constant, not '", cfg.schedule, "'");
  if (!fs::is_directory(model.path()) || !fs::exists(fs::path(model.path()) / "config.json"))
    fail(model.path(), ": training needs a Hugging Face model folder (config.json + safetensors) to start from and export like");
  auto say = [&](const std::string& s) {
    if (!cfg.quiet) {
      std::printf("%s\n", s.c_str());
      std::fflush(stdout);
    }
  };
  fs::create_directories(cfg.out_dir);
  const std::string ckpt_path = (fs::path(cfg.out_dir) / "checkpoint.safetensors").string();
  const std::string log_path = (fs::path(cfg.out_dir) / "train_log.jsonl").string();
  if (!cfg.resume && fs::exists(ckpt_path))
    fail(cfg.out_dir, ": already holds a training checkpoint; pass --resume to continue it, or choose another --out");
  if (cfg.resume && !fs::exists(ckpt_path)) fail(ckpt_path, ": no checkpoint to resume from");
  const DType out_dtype = export_dtype(cfg.export_dtype, model);

  DataStats ds;
  const std::vector<Example> data = load_examples(cfg.data_path, tok, tpl, cfg.data, ds);
  say(cat("data: ", ds.rows, " rows, ", data.size(), " used; ", ds.truncated, " cut at the block size ",
          cfg.data.block_size, " (longest ", ds.longest, " tokens), ", ds.dropped_no_loss,
          " dropped with no loss tokens; ", ds.tokens, " tokens, ", ds.loss_tokens, " with loss"));

  const ModelConfig mc = model.config();
  const std::string base_path = model.path();
  ParamLayout lay(mc);
  for (const auto& name : model.tensors().names())
    if (!lay.find(name)) say(cat("note: tensor '", name, "' of the base model is not trained and not exported"));
  std::vector<float> params = load_params(model, lay), grads(lay.total(), 0.0f);
  std::unique_ptr<Backend> backend = make_cpu_backend(model.backend().threads());
  model_ptr.reset();  // from here on the f32 parameters are the model
  AdamW opt(lay, cfg.adam);
  const int th = backend->threads();
  TrainGraph graph(lay, *backend, cfg.checkpoint_activations);

  const int64_t N = int64_t(data.size());
  const int64_t spe = (N + cfg.batch - 1) / cfg.batch, total = spe * cfg.epochs;
  const int64_t warmup = warmup_steps(total, cfg.warmup_ratio);
  nlohmann::json state = {{"version", 1},          {"examples", N},      {"batch", cfg.batch},
                          {"epochs", cfg.epochs},  {"seed", cfg.seed},   {"lr", cfg.lr},
                          {"total_steps", total},  {"warmup", warmup},   {"params", lay.total()},
                          {"block_size", cfg.data.block_size}};
  int64_t start = 0;
  if (cfg.resume) {
    const nlohmann::json st = load_checkpoint(ckpt_path, lay, params.data(), opt);
    for (const char* k : {"examples", "batch", "epochs", "seed", "total_steps", "params", "block_size"})
      if (st.value(k, nlohmann::json()) != state[k])
        fail(ckpt_path, ": was written with ", k, " = ", st.value(k, nlohmann::json()).dump(), ", this run has ",
             state[k].dump(), " (resume with the same data and options)");
    try {
      start = st.at("step").get<int64_t>();
      opt.steps_taken = st.at("adam_steps").get<int64_t>();
    } catch (const nlohmann::json::exception& e) {
      fail(ckpt_path, ": bad s1_train_state: ", e.what());
    }
    if (start < 0 || start > total || opt.steps_taken < 0) fail(ckpt_path, ": bad s1_train_state: step ", start, " of ", total);
    truncate_log(log_path, start);
    say(cat("resumed from ", ckpt_path, " at step ", start, " of ", total));
  } else {
    std::error_code ec;
    fs::remove(log_path, ec);
  }
  const double gb = double(lay.total()) * 4 / 1e9;
  say(cat("model: ", arch_name(mc.arch), ", ", lay.total(), " parameters (f32 weights ", gb, " GB, gradients ", gb,
          " GB, AdamW moments ", 2 * gb, " GB); ", th, " threads",
          cfg.checkpoint_activations ? ", activation checkpointing" : ""));
  say(cat("schedule: ", spe, " steps/epoch x ", cfg.epochs, " epochs = ", total, " steps, warmup ", warmup,
          ", lr ", cfg.lr, cfg.schedule == "cosine" ? " cosine to 0" : " constant", ", global batch ", cfg.batch,
          " (micro-batch ", cfg.micro_batch, ")"));

  const int64_t end = cfg.max_steps > 0 ? std::min(total, start + cfg.max_steps) : total;
  auto checkpoint = [&](int64_t steps_done) {
    nlohmann::json st = state;
    st["step"] = steps_done;
    st["adam_steps"] = opt.steps_taken;
    st["next_epoch_order"] = epoch_order(N, cfg.seed, steps_done / spe);  // for inspection; recomputed from the seed
    save_checkpoint(ckpt_path, lay, params.data(), opt, st);
  };

  TrainResult res;
  res.total_steps = total;
  std::vector<int64_t> order;
  int64_t order_epoch = -1;
  double tok_sum = 0, time_sum = 0;
  const auto t_start = std::chrono::steady_clock::now();
  for (int64_t s = start; s < end; ++s) {
    const auto t0 = std::chrono::steady_clock::now();
    const int64_t epoch = s / spe;
    if (epoch != order_epoch) {
      order = epoch_order(N, cfg.seed, epoch);
      order_epoch = epoch;
    }
    const int64_t i0 = (s % spe) * cfg.batch, i1 = std::min(N, i0 + cfg.batch);
    int64_t valid = 0, tokens = 0;
    for (int64_t i = i0; i < i1; ++i) {
      valid += data[size_t(order[size_t(i)])].loss_tokens;
      tokens += int64_t(data[size_t(order[size_t(i)])].ids.size());
    }
    std::fill(grads.begin(), grads.end(), 0.0f);
    double sum = 0;
    for (int64_t m0 = i0; m0 < i1; m0 += cfg.micro_batch) {
      std::vector<TrainSequence> seqs;
      for (int64_t i = m0; i < std::min(i1, m0 + cfg.micro_batch); ++i) {
        const Example& ex = data[size_t(order[size_t(i)])];
        seqs.push_back({ex.ids, ex.targets});
      }
      sum += graph.forward_backward(params.data(), grads.data(), seqs, float(1.0 / double(valid)));
    }
    const double loss = sum / double(valid);
    const double norm = cfg.max_grad_norm > 0 ? clip_grad_norm(grads.data(), grads.size(), cfg.max_grad_norm, th)
                                              : grad_norm(grads.data(), grads.size(), th);
    const double lr = cfg.schedule == "constant" ? cosine_lr(std::min(s, warmup), total, warmup, cfg.lr)
                                                 : cosine_lr(s, total, warmup, cfg.lr);
    opt.step(params.data(), grads.data(), lr, th);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    tok_sum += double(tokens);
    time_sum += dt;
    const uint64_t rss = peak_rss_bytes();
    nlohmann::json rec = {{"step", s + 1},
                          {"epoch", double(s + 1) / double(spe)},
                          {"loss", loss},
                          {"lr", lr},
                          {"grad_norm", norm},
                          {"tokens", tokens},
                          {"loss_tokens", valid},
                          {"tokens_per_s", double(tokens) / dt},
                          {"step_s", dt},
                          {"activation_mb", double(graph.activation_bytes()) / 1e6},
                          {"peak_rss_mb", double(rss) / 1e6}};
    append_log(log_path, rec);
    if (!cfg.quiet) {
      std::printf("step %lld/%lld  epoch %.2f  loss %.4f  lr %.3g  grad_norm %.3f  %.1f tok/s  peak RSS %.0f MB\n",
                  (long long)(s + 1), (long long)total, double(s + 1) / double(spe), loss, lr, norm,
                  double(tokens) / dt, double(rss) / 1e6);
      std::fflush(stdout);
    }
    res.last_loss = loss;
    res.steps_done = s + 1;
    if (cfg.save_every > 0 && (s + 1) % cfg.save_every == 0 && s + 1 < end) checkpoint(s + 1);
  }
  if (end > start || !fs::exists(ckpt_path)) checkpoint(end);
  res.steps_done = end;
  res.tokens_per_s = time_sum > 0 ? tok_sum / time_sum : 0;
  export_hf_folder(base_path, cfg.out_dir, lay, params.data(), out_dtype);
  res.exported = true;
  const std::string svg = (fs::path(cfg.out_dir) / "loss.svg").string();
  write_loss_svg(log_path, svg);
  res.peak_rss_bytes = peak_rss_bytes();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  say(cat("done: ", end, " of ", total, " steps in ", wall, " s, ", res.tokens_per_s, " tokens/s, peak RSS ",
          double(res.peak_rss_bytes) / 1e6, " MB; model exported to ", cfg.out_dir, " (",
          dtype_name(out_dtype), "), log ", log_path, ", curve ", svg));
  return res;
}

}  // namespace s1::train
