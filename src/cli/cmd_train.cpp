// s1 train: supervised fine-tuning with the s1 recipe (src/train).
#include <cstdio>

#include "cli/common.h"
#include "core/error.h"
#include "train/trainer.h"

namespace s1::cli {

void add_train(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& cmds) {
  struct Opts {
    std::string model, chat_template;
    std::vector<std::string> template_vars;
    int threads = 0;
    train::TrainConfig t;
  };
  auto o = std::make_shared<Opts>();
  train::TrainConfig& t = o->t;
  CLI::App* c = app.add_subcommand("train", "Fine-tune a model on s1K-format JSONL with the s1 recipe (f32, CPU)");
  c->add_option("-m,--model", o->model, "Base model: a Hugging Face folder")->required();
  c->add_option("--data", t.data_path, "JSONL: question + thinking_trajectories + attempt (or solution), or text")->required();
  c->add_option("--out", t.out_dir, "Output folder: exported model, train_log.jsonl, loss.svg, checkpoint")->required();
  c->add_option("--epochs", t.epochs, "Epochs")->capture_default_str()->check(CLI::PositiveNumber);
  c->add_option("--lr", t.lr, "Peak learning rate (cosine to 0 after warmup)")->capture_default_str();
  c->add_option("--batch", t.batch, "Global batch: examples per optimizer step")->capture_default_str()->check(CLI::PositiveNumber);
  c->add_option("--micro-batch", t.micro_batch, "Examples per forward/backward (gradients accumulate to --batch)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  c->add_option("--block-size", t.data.block_size, "Longest sequence in tokens; longer ones are cut (and counted)")
      ->capture_default_str();
  c->add_option("--warmup-ratio", t.warmup_ratio, "Warmup steps as a fraction of all steps")->capture_default_str();
  c->add_option("--lr-schedule", t.schedule, "cosine (to 0, the s1 recipe) or constant after warmup")
      ->capture_default_str()->check(CLI::IsMember({"cosine", "constant"}));
  c->add_option("--max-grad-norm", t.max_grad_norm, "Gradient-norm clipping (0: off)")->capture_default_str();
  c->add_option("--weight-decay", t.adam.weight_decay, "AdamW weight decay")->capture_default_str();
  c->add_option("--beta1", t.adam.beta1, "AdamW beta1")->capture_default_str();
  c->add_option("--beta2", t.adam.beta2, "AdamW beta2")->capture_default_str();
  c->add_option("--adam-eps", t.adam.eps, "AdamW epsilon")->capture_default_str();
  c->add_flag("--decay-biases", t.adam.decay_biases, "Apply weight decay to biases too (transformers' Trainer does not)");
  c->add_option("--seed", t.seed, "Seed of the data order")->capture_default_str();
  c->add_option("--save-every", t.save_every, "Checkpoint every N optimizer steps (0: only at the end)")->capture_default_str();
  c->add_option("--max-steps", t.max_steps, "Stop after N steps of the schedule (0: all); resume continues")->capture_default_str();
  c->add_flag("--resume", t.resume, "Continue from OUT/checkpoint.safetensors");
  c->add_flag("--checkpoint-activations", t.checkpoint_activations,
              "Keep only layer inputs and recompute each layer in the backward pass (long sequences)");
  c->add_option("--export-dtype", t.export_dtype, "Dtype of the exported weights: same (as the base), f32, bf16, f16")
      ->capture_default_str()->check(CLI::IsMember({"same", "f32", "bf16", "f16"}));
  c->add_option("--chat-template", o->chat_template, "Override the model's chat template: chatml or a .jinja file");
  c->add_option("--template-var", o->template_vars, "Extra chat-template variable KEY=JSON (repeatable)");
  c->add_option("--think-start", t.data.think_start, "Thinking delimiter inside the assistant turn")->capture_default_str();
  c->add_option("--answer-start", t.data.answer_start, "Answer delimiter inside the assistant turn")->capture_default_str();
  c->add_option("--thinking-field", t.data.thinking_field, "JSONL field with the thinking trace")->capture_default_str();
  c->add_option("--answer-field", t.data.answer_field, "JSONL field with the answer (falls back to solution)")->capture_default_str();
  c->add_flag("--use-fields", t.data.prefer_fields,
              "Render rows from question / thinking / answer with this model's template even when they carry a \"text\"");
  c->add_option("-t,--threads", o->threads, "CPU threads (default: all cores)")->check(CLI::NonNegativeNumber);
  c->add_flag("-q,--quiet", t.quiet, "Only errors on the terminal (the log file is still written)");
  cmds.emplace_back(c, [o] {
    LoadOptions lo;
    lo.streamed_copy = false;  // the weights are read once, into the f32 parameters
    auto model = Model::load(o->model, make_cpu_backend(o->threads), lo);
    Tokenizer tok = load_tokenizer(o->model);
    ChatTemplate tpl = load_chat_template(o->model, &tok, o->chat_template);
    o->t.data.template_vars = parse_template_vars(o->template_vars);
    train::run_training(o->t, std::move(model), tok, tpl);
    return 0;
  });
}

}  // namespace s1::cli
