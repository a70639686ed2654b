#!/usr/bin/env bash
# Sets up a fresh machine, builds everything and runs every test (unit, real mpirun jobs,
# real Slurm jobs, examples, compile-fail checks, consumer projects). CTest starts a single-node
# Slurm for the Slurm tests and stops it after them; the trap stops it if ctest is interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
rm -rf build/tests/jobs
export BURLA_SLURM_DIR="$PWD/build/tests/slurm-state"
trap "'$PWD/slurm/scripts/stop-local-slurm.sh' >/dev/null 2>&1 || true" EXIT
cd build
ctest --output-on-failure -j "$(nproc)" < /dev/null
