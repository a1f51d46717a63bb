#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test (GoogleTest under ctest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
# The real model for tests/gguf/test_smollm2.cpp (they skip, saying so, when it is absent).
bash scripts/fetch-smollm2.sh || echo "WARNING: could not fetch SmolLM2-135M-Instruct; its tests will be skipped" >&2
ctest --test-dir build --output-on-failure -j "$(nproc)"
