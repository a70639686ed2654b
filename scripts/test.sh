#!/usr/bin/env bash
# Sets up a fresh machine, builds everything and runs every test (unit, real mpirun jobs,
# examples, compile-fail checks, consumer projects).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
rm -rf build/tests/jobs
cd build
ctest --output-on-failure -j "$(nproc)" < /dev/null
