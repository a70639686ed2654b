#!/usr/bin/env bash
# bench/capacity.sh [BUILD_DIR]: how many workers one master keeps busy. Runs calls that sleep (so
# that this machine's 2 cores are not what limits) on 8, 32 and 64 workers of a virtual 3-node
# cluster that declares 64 CPUs per node, for 1, 10 and 100 ms calls, and prints a Markdown table:
# the makespan (results.h5's work_seconds) against the ideal (calls x call time / workers), calls
# and batches per second, the master's CPU per batch (master_cpu_seconds / batches: polling for
# messages included) and its work per batch (master_work_seconds / batches). Starts its
# own virtual cluster (state in $BURLA_VCLUSTER_DIR, default /var/tmp/burla-capacity) and stops it.
# About 5 minutes; WORKERS="8 32" CALLS_MS="10" narrow it.
set -euo pipefail
build="$(cd "${1:-build}" && pwd)"
root="$(cd "$(dirname "$0")/.." && pwd)"
export BURLA_VCLUSTER_DIR="${BURLA_VCLUSTER_DIR:-/var/tmp/burla-capacity}"
VC_CPUS=64 VC_MEM_MB=65536 "$root/slurm/scripts/start-vcluster.sh" 3 >/dev/null
trap '"$root/slurm/scripts/stop-vcluster.sh" >/dev/null 2>&1 || true; rm -rf "$BURLA_JOBS_DIR"' EXIT
# shellcheck disable=SC1091
source "$BURLA_VCLUSTER_DIR/env.sh"
export BURLA_BACKEND=slurm BURLA_JOBS_DIR="$(mktemp -d /var/tmp/burla-capacity-jobs.XXXXXX)"
attr() { h5dump -a "/$2" "$1/results.h5" | awk '/\(0\):/ { print $2 }'; }

echo "| call | workers | calls | makespan (s) | ideal (s) | ideal / makespan | calls/s | batches/s | calls per batch | master CPU per batch (us) | master CPU busy | master work per batch (us) | master work busy |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for ms in ${CALLS_MS:-1 10 100}; do
  for w in ${WORKERS:-8 32 64}; do
    n=$((w * 2000 / ms))  # about 2 s of work at the ideal
    # Once in about ten 65-rank jobs Open MPI 4.1.4 crashes in MPI_Init here (docs/cluster.md): again.
    out="$("$build/bench/bench_map" capacity "$n" "$ms" "$w" 2>/dev/null)" ||
      out="$("$build/bench/bench_map" capacity "$n" "$ms" "$w")"
    dir="${out##*job_dir=}"
    ws="$(attr "$dir" work_seconds)" cpu="$(attr "$dir" master_cpu_seconds)" b="$(attr "$dir" batches)"
    work="$(attr "$dir" master_work_seconds)"
    awk -v ms="$ms" -v w="$w" -v n="$n" -v ws="$ws" -v cpu="$cpu" -v b="$b" -v work="$work" 'BEGIN {
      ideal = n * ms / 1000 / w
      printf "| %d ms | %d | %d | %.2f | %.2f | %.2f | %.0f | %.0f | %.1f | %.0f | %.0f%% | %.0f | %.0f%% |\n",
        ms, w, n, ws, ideal, ideal / ws, n / ws, b / ws, n / b, cpu / b * 1e6, cpu / ws * 100,
        work / b * 1e6, work / ws * 100 }'
  done
done
