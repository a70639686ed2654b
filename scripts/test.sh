#!/usr/bin/env bash
# Sets up a fresh machine, builds everything and runs every test (unit, real mpirun jobs,
# real Slurm jobs on a single-node Slurm and on a virtual 3-node cluster, examples, compile-fail
# checks, consumer projects). CTest starts both Slurms for their tests and stops them after; the
# trap stops them if ctest is interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
# A second build checks the layers: each a shared library linked with --no-undefined (a layer
# that uses one it does not declare fails to link), warnings as errors, and the unit tests under
# AddressSanitizer and UBSan. Unoptimized: it compiles in far less time, and its tests are short.
cmake -S . -B build-layers -DCMAKE_BUILD_TYPE=Debug -DBURLA_SEPARATE_LAYERS=ON -DBURLA_WERROR=ON \
  -DBURLA_SANITIZE=address,undefined -DBURLA_BUILD_BENCH=OFF >/dev/null
cmake --build build-layers -j "$(nproc)" --target unit_tests burla_cli >/dev/null
(cd build-layers && ctest -L unit -j "$(nproc)" --output-on-failure < /dev/null)

rm -rf build/tests/jobs build/tests/jobs-vcluster
export BURLA_SLURM_DIR="$PWD/build/tests/slurm-state" BURLA_VCLUSTER_DIR="$PWD/build/tests/vcluster-state"
trap "'$PWD/slurm/scripts/stop-local-slurm.sh' >/dev/null 2>&1 || true; '$PWD/slurm/scripts/stop-vcluster.sh' >/dev/null 2>&1 || true" EXIT
cd build
ctest --output-on-failure -j "$(nproc)" -LE vcluster < /dev/null
# The virtual cluster's tests run on their own: they take its nodes down and up.
ctest --output-on-failure -j "$(nproc)" -L vcluster < /dev/null
