#!/usr/bin/env bash
# Sets up a fresh machine and runs Burla's hello example on the local backend (mpirun).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
exec ./build/examples/hello
