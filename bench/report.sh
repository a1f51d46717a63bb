#!/usr/bin/env bash
# The numbers of the CPU-speed targets, on this machine: writes a random-weight
# Qwen2.5-0.5B-shaped bf16 model if missing, then runs `s1 bench` for bf16 and Q8_0
# with 2 threads and 1 thread. Run on a quiet machine; it prints one JSON line per run.
set -euo pipefail
cd "$(dirname "$0")/.."
S1=${S1:-./build/s1}
M=${MODEL:-models/qwen2.5-0.5b-bf16}
[ -f "$M/model.safetensors" ] || "$S1" make-model --shape qwen2.5-0.5b --dtype bf16 --out "$M"
for quant in none q8_0; do
  for t in 2 1; do
    echo "# quant=$quant threads=$t"
    "$S1" bench -m "$M" --prompt 512 --gen 64 --positions 512,4096 --threads "$t" --quant "$quant" --json
  done
done
