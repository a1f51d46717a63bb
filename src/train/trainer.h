// `s1 train`: supervised fine-tuning with the s1 recipe (s1-reference §5) on the CPU in
// f32. One model definition: the parameters are the loaded Model's tensors, the pass is
// model/transformer_train.h. Resumable: DIR/checkpoint.safetensors holds the weights,
// AdamW's moments and the loop state (step, seed, data order), written atomically.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "chat/chat_template.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "train/data.h"
#include "train/optimizer.h"

namespace s1::train {

struct TrainConfig {
  std::string data_path, out_dir;
  int64_t epochs = 5;
  double lr = 1e-5;
  int64_t batch = 16;       // examples per optimizer step (global batch)
  int64_t micro_batch = 1;  // examples per forward/backward (laid end to end)
  double warmup_ratio = 0.05;
  std::string schedule = "cosine";  // cosine (s1) | constant (after the same warmup; for tests and probes)
  double max_grad_norm = 1.0;  // <= 0: no clipping
  uint64_t seed = 42;
  int64_t save_every = 0;  // optimizer steps between checkpoints; 0: only at the end
  int64_t max_steps = 0;   // stop after this many steps of the schedule (benchmarks); 0: all
  bool resume = false;
  bool checkpoint_activations = false;
  std::string export_dtype = "same";  // same | f32 | bf16 | f16
  bool quiet = false;
  AdamWConfig adam;
  DataOptions data;
};

struct TrainResult {
  int64_t steps_done = 0, total_steps = 0;
  double last_loss = 0, tokens_per_s = 0;
  uint64_t peak_rss_bytes = 0;
  bool exported = false;
};

// Trains `model` (a Hugging Face folder's model) on cfg.data_path, writing the log,
// checkpoints and, at the end, the exported model folder into cfg.out_dir. The model is
// released once its weights are copied into the f32 parameters (its file mapping would
// otherwise stay resident next to them).
TrainResult run_training(const TrainConfig& cfg, std::unique_ptr<Model> model, const Tokenizer& tok,
                         const ChatTemplate& tpl);

// Peak resident memory of this process (VmHWM), bytes; 0 where unknown.
uint64_t peak_rss_bytes();

}  // namespace s1::train
