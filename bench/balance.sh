#!/usr/bin/env bash
# bench/balance.sh [BUILD_DIR]: do a few long calls spread over the workers? N calls of equal
# length T on W workers (N = W, W+1, 2W; T = 0.1 s, 1 s), and calls of skewed lengths, on the
# local backend (BURLA_BACKEND=slurm: the cluster SLURM_CONF names). Prints a Markdown table: the makespan (results.h5's work_seconds: first dispatch
# to last reply) against the ideal, which for equal lengths is ceil(N/W) x T and for skewed ones
# the best a scheduler that cannot know the lengths ahead does: each call, in input order, to
# the first worker free (the sum / W bound is shown beside it). About 1 minute.
set -euo pipefail
build="$(cd "${1:-build}" && pwd)"
export BURLA_BACKEND="${BURLA_BACKEND:-local}" BURLA_JOBS_DIR="$(mktemp -d /var/tmp/burla-balance-jobs.XXXXXX)"
trap 'rm -rf "$BURLA_JOBS_DIR"' EXIT
attr() { h5dump -a "/$2" "$1/results.h5" | awk '/\(0\):/ { print $2 }'; }
# The ranks the job had (hosts[r] for each): the local backend gives at most one worker a core.
workers_of() { h5dump -a /hosts "$1/results.h5" | sed -n '/DATA {/,/}/p' | grep -o '"[^"]*"' | awk 'END { print NR - 1 }'; }

row() {  # row WORKERS LABEL MS,MS,...
  local out dir ws
  out="$("$build/bench/bench_map" lengths "$1" "$3")"
  dir="${out##*job_dir=}"
  ws="$(attr "$dir" work_seconds)"
  awk -v w="$(workers_of "$dir")" -v label="$2" -v list="$3" -v ws="$ws" 'BEGIN {
    n = split(list, ms, ",")
    for (k = 1; k <= w; ++k) free[k] = 0
    for (i = 1; i <= n; ++i) {  # list scheduling in input order
      best = 1
      for (k = 2; k <= w; ++k) if (free[k] < free[best]) best = k
      free[best] += ms[i] / 1000; sum += ms[i] / 1000
    }
    ideal = 0
    for (k = 1; k <= w; ++k) if (free[k] > ideal) ideal = free[k]
    printf "| %d | %s | %d | %.3f | %.3f | %.3f | %+.1f%% |\n", w, label, n, ws, ideal, sum / w, (ws / ideal - 1) * 100 }'
}

repeat() { local out="$2"; for ((i = 1; i < $1; ++i)); do out+=",$2"; done; echo "$out"; }

echo "| workers | calls | N | makespan (s) | ideal (s) | sum / W (s) | over the ideal |"
echo "|---|---|---|---|---|---|---|"
for w in ${WORKERS:-2}; do
  for ms in 100 1000; do
    for n in "$w" "$((w + 1))" "$((2 * w))"; do row "$w" "$n x $ms ms" "$(repeat "$n" "$ms")"; done
  done
done
# Skewed: six calls of 0.3-2 s whose best schedule is the sum / 2, then 1 long call among short ones.
row 2 "0.3-2 s skewed" "2000,500,1500,1000,700,300"
row 2 "1 long, 9 short" "2000,100,100,100,100,100,100,100,100,100"
