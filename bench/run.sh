#!/usr/bin/env bash
# Side-by-side benchmark: burla (build/bench/bench_map) and mpi4py.futures (bench/peer_mpi4py.py),
# in one run on this machine, 1 master + 2 workers each. Prints a Markdown report on stdout;
# progress goes to stderr.
#   bash bench/run.sh [BUILD_DIR]        (default build; REPEAT=5 repetitions, env overrides)
set -euo pipefail

BUILD=${1:-build}
REPEAT=${REPEAT:-5}
PY=/usr/bin/python3 # Debian's python, which has mpi4py and h5py (not a pyenv one on PATH)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH=$(cd "$BUILD" && pwd)/bench/bench_map
PEER=$HERE/peer_mpi4py.py
N_SLEEP=2000
SEED=42
PEER_SLOW_LIMIT=60 # seconds; a peer configuration slower than this once is not repeated

[[ -x $BENCH ]] || { echo "run.sh: $BENCH not found; build first: cmake -S . -B build && make -C build -j3" >&2; exit 1; }
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: REPEAT must be a positive integer" >&2; exit 1; }
"$PY" -c 'import mpi4py.futures, h5py' || { echo "run.sh: $PY lacks mpi4py or h5py" >&2; exit 1; }

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
WORK=$(mktemp -d)
BURLA_JOBS_DIR=$(mktemp -d)
export BURLA_JOBS_DIR
cleanup() { rm -rf "$WORK" "$BURLA_JOBS_DIR"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TSV=$WORK/figures.tsv # one figure a line: config <tab> field <tab> value
: >"$TSV"
log() { echo "[run.sh $(date +%T)] $*" >&2; }
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$TSV"; }

# measure CONFIG LIMIT_S CMD...: runs CMD once; records its whole-process wall time (exec to
# exit), the peak RSS /usr/bin/time reports, and every key=value it prints on stdout.
# Returns 124 if it ran past LIMIT_S; any other failure ends the script.
measure() {
  local config=$1 limit=$2 t0 t1 rc=0
  shift 2
  t0=$(date +%s.%N)
  /usr/bin/time -f %M -o "$WORK/rss" timeout "$limit" "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
  t1=$(date +%s.%N)
  if ((rc == 124)); then
    log "$config: still running after ${limit}s, stopped"
    return 124
  elif ((rc != 0)); then
    echo "run.sh: failed (exit $rc): $*" >&2
    cat "$WORK/out" "$WORK/err" >&2
    exit 1
  fi
  record "$config" wall "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')"
  record "$config" tree_rss_kb "$(tail -n 1 "$WORK/rss")"
  local kv
  for kv in $(cat "$WORK/out"); do
    [[ $kv == *=* ]] && record "$config" "${kv%%=*}" "${kv#*=}"
  done
  return 0
}

# burla CONFIG ARGS...: bench_map ARGS, plus the attributes of its job's results.h5.
burla() {
  local config=$1
  shift
  [[ -z $(ls -A "$BURLA_JOBS_DIR") ]] || { echo "run.sh: $BURLA_JOBS_DIR not empty" >&2; exit 1; }
  # burla writes its job to disk (the peer writes nothing): start each run with the gigabytes
  # the large-results runs left in the page cache written out, not being written meanwhile.
  if [[ $config == *large* ]]; then fresh_page_cache; else sync; fi
  measure "$config" 600 "$BENCH" "$@"
  local dirs=("$BURLA_JOBS_DIR"/*)
  ((${#dirs[@]} == 1)) || { echo "run.sh: expected one job directory, got ${#dirs[@]}" >&2; exit 1; }
  "$PY" - "${dirs[0]}/results.h5" >"$WORK/attrs" <<'EOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    assert f.attrs["state"] == "completed" and f.attrs["n_failed"] == 0, dict(f.attrs)
    print(f"work_seconds={f.attrs['work_seconds']}")
    print(f"master_peak_rss_kb={f.attrs['master_peak_rss_kb']}")
EOF
  local kv
  while read -r kv; do record "$config" "${kv%%=*}" "${kv#*=}"; done <"$WORK/attrs"
  record "$config" job_dir_bytes "$(du -sb "${dirs[0]}" | cut -f1)" # what the job leaves on disk
  rm -rf "${dirs[0]}"
}

# fresh_page_cache: written data on disk and the page cache emptied (as root), before each
# measurement of gigabytes: a page cache full of earlier runs' files makes every write reclaim
# first (dd of 2 GB: 0.4 s into an empty page cache, 2-7 s into a full one).
fresh_page_cache() {
  sync
  if [[ -w /proc/sys/vm/drop_caches ]]; then echo 1 >/proc/sys/vm/drop_caches; fi
}

# dd_limit CONFIG MB: writing MB megabytes once, with dd, to the directory burla's jobs go to.
dd_limit() {
  fresh_page_cache
  measure "$1" 600 dd if=/dev/zero of="$BURLA_JOBS_DIR/dd.bin" bs=1M count="$2" status=none
  rm -f "$BURLA_JOBS_DIR/dd.bin"
}

# peer CONFIG LIMIT_S ARGS...: peer_mpi4py.py ARGS on 1 master + 2 workers.
peer() {
  local config=$1 limit=$2
  shift 2
  if [[ $config == *large* ]]; then fresh_page_cache; fi
  measure "$config" "$limit" mpiexec -n 3 --oversubscribe "$PY" -m mpi4py.futures "$PEER" "$@"
}

# --- an empty MPI job: what every burla job costs before its first call ---
cat >"$WORK/empty.c" <<'EOF'
#include <mpi.h>
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Finalize();
  return 0;
}
EOF
mpicc -O2 -o "$WORK/empty" "$WORK/empty.c"
# Started as burla's local backend starts its job (libburla/src/local_backend.cpp).
EMPTY_JOB=(mpirun -np 3 --oversubscribe --bind-to none --enable-recovery --mca pml ob1 --mca btl self,vader "$WORK/empty")
LARGE10K_REPEAT=${LARGE10K_REPEAT:-3} # 10,000 results of 1 MB: about a minute a repetition, both sides

# --- the sleep list, generated exactly as bench_map does (same compiler, same libstdc++) ---
cat >"$WORK/sleeps.cpp" <<'EOF'
// sleeps list N SEED : the N sleep lengths (us) bench_map uses, one a line
// sleeps serial FILE [SLACK_NS] : sleeps them one after another (with that timer slack, if
//                                  given); prints elapsed_seconds=
#include <sys/prctl.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>
int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "";
  if (what == "list" && argc == 4) {
    std::mt19937 rng(std::stoul(argv[3]));
    std::uniform_int_distribution<int> us(0, 2000);
    for (unsigned long i = 0, n = std::stoul(argv[2]); i < n; ++i) std::printf("%d\n", us(rng));
    return 0;
  }
  if (what == "serial" && (argc == 3 || argc == 4)) {
    if (argc == 4 && ::prctl(PR_SET_TIMERSLACK, std::stoul(argv[3])) != 0) return 1;
    std::vector<int> in;
    std::ifstream f(argv[2]);
    for (int x; f >> x;) in.push_back(x);
    const auto t0 = std::chrono::steady_clock::now();
    for (int x : in) std::this_thread::sleep_for(std::chrono::microseconds(x));
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("elapsed_seconds=%.4f n=%zu\n", t, in.size());
    return 0;
  }
  return 2;
}
EOF
"${CXX:-g++}" -std=c++20 -O2 -o "$WORK/sleeps" "$WORK/sleeps.cpp"
SLEEPS=$WORK/sleeps.txt
"$WORK/sleeps" list "$N_SLEEP" "$SEED" >"$SLEEPS"
record ideal sum_seconds "$(awk '{ s += $1 } END { printf "%.6f", s * 1e-6 }' "$SLEEPS")"

# --- measurements -------------------------------------------------------------------------
log "achievable ideal: the $N_SLEEP sleeps serially, one process (C++ and Python)"
measure serial.cpp 60 "$WORK/sleeps" serial "$SLEEPS"
measure serial.cpp.slack1us 60 "$WORK/sleeps" serial "$SLEEPS" 1000 # as burla's workers set it
measure serial.py 60 "$PY" "$PEER" serial "$SLEEPS"

SQ_CHUNKS=(1000 10000 100000)
SLEEP_CHUNKS=(1 10 25 100)
SLOW_SKIPPED="" # peer configurations dropped after a first run past PEER_SLOW_LIMIT

# One repetition runs every configuration once, so that drift on the machine hits all alike.
for ((rep = 1; rep <= REPEAT; rep++)); do
  log "repetition $rep/$REPEAT"
  measure mpirun.true 60 mpirun -np 3 --oversubscribe /bin/true
  measure mpirun.true.ob1 60 mpirun -np 3 --oversubscribe --mca pml ob1 /bin/true
  measure mpirun.init 60 mpirun -np 3 --oversubscribe "$PY" -c 'from mpi4py import MPI'
  measure mpirun.init.ob1 60 mpirun -np 3 --oversubscribe --mca pml ob1 "$PY" -c 'from mpi4py import MPI'
  # The data path's limit for trivial calls, and a burla job's fixed cost: the job of one call.
  measure empty.job 60 "${EMPTY_JOB[@]}"
  burla burla.square1 square 1

  burla burla.square1M square 1000000
  for cs in "${SQ_CHUNKS[@]}"; do peer "peer.square1M.cs$cs" 300 square 1000000 "$cs"; done

  burla burla.square100k square 100000
  for cs in "${SQ_CHUNKS[@]}"; do peer "peer.square100k.cs$cs" 300 square 100000 "$cs"; done
  # chunksize 1 on 100,000 calls is slow (~15 s); stopped at PEER_SLOW_LIMIT, and not repeated then.
  if [[ $SLOW_SKIPPED != *peer.square100k.cs1* ]]; then
    peer peer.square100k.cs1 "$PEER_SLOW_LIMIT" square 100000 1 || SLOW_SKIPPED+=" peer.square100k.cs1"
  fi

  burla burla.sleep sleep "$N_SLEEP" "$SEED"
  for cs in "${SLEEP_CHUNKS[@]}"; do peer "peer.sleep.cs$cs" 300 sleep "$SLEEPS" "$cs"; done

  dd_limit dd.2000MB 2000
  burla burla.large large 2000 1
  for cs in 1 10; do peer "peer.large.cs$cs" 300 large 2000 1 "$cs"; done

  # The data path (issue 11): trivial calls from 10^4 to 10^7 against the empty job; large
  # inputs; 10,000 large results (fewer repetitions).
  burla burla.square10k square 10000
  burla burla.square10M square 10000000
  burla burla.large_in large_in 2000 1
  peer peer.large_in.cs10 300 large_in 2000 1 10
  if ((rep <= LARGE10K_REPEAT)); then
    dd_limit dd.10000MB 10000
    burla burla.large10k large 10000 1
    peer peer.large10k.cs10 600 large 10000 1 10
  fi
done

# --- the report ---------------------------------------------------------------------------
# Machine description for the report's header.
{
  echo "nproc=$(nproc)"
  echo "cpu=$(LC_ALL=C lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)"
  echo "mem=$(free -g | awk '/^Mem:/ { print $2 " GiB" }')"
  echo "kernel=$(uname -r)"
  echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "ompi=$(mpirun --version 2>/dev/null | head -n 1)"
  echo "mpi4py=$("$PY" -c 'import mpi4py; print(mpi4py.__version__)')"
  echo "python=$("$PY" -c 'import platform; print(platform.python_version())')"
  echo "cxx=$("${CXX:-g++}" --version | head -n 1)"
  echo "build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null)"
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "repeat=$REPEAT"
  echo "slow_limit=$PEER_SLOW_LIMIT"
  echo "slow_skipped=$SLOW_SKIPPED"
} >"$WORK/machine"

"$PY" - "$TSV" "$WORK/machine" <<'EOF'
import collections, statistics, sys

fig = collections.defaultdict(list)
for line in open(sys.argv[1]):
    config, field, value = line.rstrip("\n").split("\t")
    try:
        fig[config, field].append(float(value))
    except ValueError:  # job_dir= and the like
        pass
m = dict(l.rstrip("\n").split("=", 1) for l in open(sys.argv[2]))

def vals(config, field, scale=1.0):
    return [v * scale for v in fig.get((config, field), [])]

def med(config, field, scale=1.0):
    return statistics.median(vals(config, field, scale))

def cell(v, unit="s", nd=3, extra=""):
    if not v:
        return "n/a"
    n = f", n={len(v)}" if len(v) != int(m["repeat"]) else ""
    return f"{statistics.median(v):.{nd}f} {unit}, {min(v):.{nd}f} {unit}{extra}{n}".replace(" ,", ",")

def best(prefix, chunks, field):
    runs = [(med(f"{prefix}.cs{c}", field), c) for c in chunks if vals(f"{prefix}.cs{c}", field)]
    return min(runs)[1]

half_sum = vals("ideal", "sum_seconds")[0] / 2            # ideal makespan on 2 workers
serial_cpp = vals("serial.cpp", "elapsed_seconds")[0]
serial_py = vals("serial.py", "elapsed_seconds")[0]
serial_slack = vals("serial.cpp.slack1us", "elapsed_seconds")[0]
achievable = serial_cpp / 2
achievable_slack = serial_slack / 2
n_sleep = 2000
over_cpp_us = (serial_cpp - 2 * half_sum) / n_sleep * 1e6
over_py_us = (serial_py - 2 * half_sum) / n_sleep * 1e6
over_slack_us = (serial_slack - 2 * half_sum) / n_sleep * 1e6

sq1m = best("peer.square1M", [1000, 10000, 100000], "wall")
sq100k = best("peer.square100k", [1, 1000, 10000, 100000], "wall")
sl = best("peer.sleep", [1, 10, 25, 100], "map_seconds")
lg = best("peer.large", [1, 10], "wall")

def row(name, b, p, cs=None):
    pc = p if cs is None or p == "n/a" else p + f", chunksize {cs}"
    print(f"| {name} | {b} | {pc} |")

print("## Side by side with mpi4py.futures\n")
print(f"Measured with `bash bench/run.sh` ({m['repeat']} repetitions of each measurement, "
      f"interleaved; each cell is *median, min*).\n")
print(f"- Machine: {m['nproc']} CPUs ({m['cpu']}), {m['mem']}, {m['os']}, Linux {m['kernel']}")
print(f"- {m['ompi']}; mpi4py {m['mpi4py']} on Python {m['python']}; {m['cxx']}, "
      f"burla built {m['build_type'] or '(unknown build type)'}")
print(f"- Date: {m['date']}")
print("- Both sides run 1 master + 2 workers with mpirun on this machine: burla's `bench_map` "
      "(bench/bench_map.cpp) starts its own `mpirun -np 3`; the peer is "
      "`mpiexec -n 3 --oversubscribe /usr/bin/python3 -m mpi4py.futures bench/peer_mpi4py.py`.\n")

print("| workload | burla (median, min) | mpi4py.futures best (median, min, chunksize) |")
print("|---|---|---|")
P = "peer.square1M.cs%d" % sq1m
row("square 1,000,000 doubles: whole process", cell(vals("burla.square1M", "wall")), cell(vals(P, "wall")), sq1m)
row("square 1,000,000 doubles: map", cell(vals("burla.square1M", "map_seconds")), cell(vals(P, "map_seconds")), sq1m)
P = "peer.square100k.cs%d" % sq100k
row("square 100,000 doubles: whole process", cell(vals("burla.square100k", "wall")), cell(vals(P, "wall")), sq100k)
row("square 100,000 doubles: map", cell(vals("burla.square100k", "map_seconds")), cell(vals(P, "map_seconds")), sq100k)
P = "peer.sleep.cs%d" % sl
row("2,000 sleeps of 0-2 ms: makespan", cell(vals("burla.sleep", "work_seconds")), cell(vals(P, "map_seconds")), sl)
row(f"2,000 sleeps: makespan / ideal ({half_sum:.3f} s)",
    cell(vals("burla.sleep", "work_seconds", 1 / half_sum), "×"), cell(vals(P, "map_seconds", 1 / half_sum), "×"), sl)
row(f"2,000 sleeps: makespan / achievable ideal ({achievable:.3f} s)",
    cell(vals("burla.sleep", "work_seconds", 1 / achievable), "×"), cell(vals(P, "map_seconds", 1 / achievable), "×"), sl)
row(f"2,000 sleeps: makespan / achievable ideal with 1 µs timer slack ({achievable_slack:.3f} s)",
    cell(vals("burla.sleep", "work_seconds", 1 / achievable_slack), "×"),
    cell(vals(P, "map_seconds", 1 / achievable_slack), "×"), sl)
row("2,000 sleeps: whole process", cell(vals("burla.sleep", "wall")), cell(vals(P, "wall")), sl)
P = "peer.large.cs%d" % lg
row("2,000 results of 1 MB: whole process", cell(vals("burla.large", "wall")), cell(vals(P, "wall")), lg)
row("2,000 results of 1 MB: master (rank 0) peak RSS",
    cell(vals("burla.large", "master_peak_rss_kb", 1 / 1024), "MiB", 0),
    cell(vals(P, "peak_rss_kb", 1 / 1024), "MiB", 0) + " (rank 0 is the caller too)", lg)
row("2,000 results of 1 MB: caller's peak RSS (`/usr/bin/time -f %M`)",
    cell(vals("burla.large", "tree_rss_kb", 1 / 1024), "MiB", 0), cell(vals(P, "tree_rss_kb", 1 / 1024), "MiB", 0), lg)

MB = 1 << 20
print("\n### The data path (issue 11)\n")
print("Whole process, *median, min*; the limit is measured in the same repetitions: `dd` of the "
      "same bytes to the jobs' directory for large data, an empty 3-rank MPI job started as burla "
      "starts its job for trivial calls. *Disk* is what the job directory holds after the job, "
      "over the bytes of its inputs and results.\n")
print("| workload | burla | limit | burla / limit (medians) | mpi4py.futures | disk | rank 0 peak RSS | caller peak RSS |")
print("|---|---|---|---|---|---|---|---|")
def ratio(a, b):
    return f"{statistics.median(a) / statistics.median(b):.2f}" if a and b else "n/a"
for name, cfg, limit, peer_cfg, payload in [
        ("2,000 results of 1 MB", "burla.large", "dd.2000MB", "peer.large.cs10", 2000 * (MB + 8)),
        ("10,000 results of 1 MB", "burla.large10k", "dd.10000MB", "peer.large10k.cs10", 10000 * (MB + 8)),
        ("2,000 inputs of 1 MB", "burla.large_in", "dd.2000MB", "peer.large_in.cs10", 2000 * (MB + 8)),
        ("10,000 trivial calls", "burla.square10k", "empty.job", None, 10000 * 16),
        ("100,000 trivial calls", "burla.square100k", "empty.job", "peer.square100k.cs%d" % sq100k, 100000 * 16),
        ("1,000,000 trivial calls", "burla.square1M", "empty.job", "peer.square1M.cs%d" % sq1m, 1000000 * 16),
        ("10,000,000 trivial calls", "burla.square10M", "empty.job", None, 10000000 * 16)]:
    b, l = vals(cfg, "wall"), vals(limit, "wall")
    disk = vals(cfg, "job_dir_bytes", 1 / payload)
    peer_cell = cell(vals(peer_cfg, "wall")) + ", chunksize " + peer_cfg.rsplit("cs", 1)[1] if peer_cfg else "not run"
    print(f"| {name} | {cell(b)} | {cell(l)} | {ratio(b, l)} | {peer_cell} | {cell(disk, '×', 2)} | "
          f"{cell(vals(cfg, 'master_peak_rss_kb', 1 / 1024), 'MiB', 0)} | "
          f"{cell(vals(cfg, 'caller_peak_rss_kb', 1 / 1024), 'MiB', 0)} |")
b_in, p_in = vals("burla.large_in", "inputs_seconds"), vals("peer.large_in.cs10", "inputs_seconds")
if b_in and p_in:
    print(f"\n2,000 inputs of 1 MB: both programs build their 2 GB of inputs before the map, inside "
          f"the whole-process time: burla's bench_map in {cell(b_in)}, the peer in {cell(p_in)}. "
          f"burla's map alone (`remote_parallel_map`, from the call to the last result checked "
          f"in): {cell(vals('burla.large_in', 'map_seconds'))}, "
          f"{ratio(vals('burla.large_in', 'map_seconds'), vals('dd.2000MB', 'wall'))} times `dd`'s.")
print("\nTrivial calls: what each call adds to the empty job, and what each call costs from one row "
      "to the next (medians of whole-process time; differences under 20 ms are within this VM's "
      "drift between runs).\n")
print("| calls | burla | empty job | per call above it | per call from the row before |")
print("|---|---|---|---|---|")
empty = med("empty.job", "wall")
prev = None
for n, cfg in [(1, "burla.square1"), (10000, "burla.square10k"), (100000, "burla.square100k"),
               (1000000, "burla.square1M"), (10000000, "burla.square10M")]:
    if not vals(cfg, "wall"):
        continue
    w = med(cfg, "wall")
    above = f"{(w - empty) * 1e3:.0f} ms" if n == 1 else f"{(w - empty) / n * 1e9:.0f} ns"
    step = f"{(w - prev[1]) / (n - prev[0]) * 1e9:.0f} ns" if prev else ""
    print(f"| {n:,} | {w:.3f} s | {empty:.3f} s | {above} | {step} |")
    prev = (n, w)

print("\n### mpi4py.futures, every chunksize tried\n")
print("| workload | chunksize | whole process (median, min) | map (median, min) |")
print("|---|---|---|---|")
for name, prefix, chunks in [("square 1,000,000", "peer.square1M", [1000, 10000, 100000]),
                             ("square 100,000", "peer.square100k", [1, 1000, 10000, 100000]),
                             ("2,000 sleeps", "peer.sleep", [1, 10, 25, 100]),
                             ("2,000 results of 1 MB", "peer.large", [1, 10])]:
    for c in chunks:
        cfg = f"{prefix}.cs{c}"
        if cfg in m["slow_skipped"]:
            print(f"| {name} | {c} | not measured: still running after {m['slow_limit']} s, stopped | |")
        else:
            print(f"| {name} | {c} | {cell(vals(cfg, 'wall'))} | {cell(vals(cfg, 'map_seconds'))} |")

print("\n### For scale: starting 3 processes with mpirun\n")
print("| command | whole process (median, min) |")
print("|---|---|")
print(f"| `mpirun -np 3 --oversubscribe /bin/true` | {cell(vals('mpirun.true', 'wall'))} |")
print(f"| `mpirun -np 3 --oversubscribe --mca pml ob1 /bin/true` | {cell(vals('mpirun.true.ob1', 'wall'))} |")
print(f"| `mpirun -np 3 --oversubscribe /usr/bin/python3 -c 'from mpi4py import MPI'` | {cell(vals('mpirun.init', 'wall'))} |")
print(f"| same with `--mca pml ob1` | {cell(vals('mpirun.init.ob1', 'wall'))} |")

print("\n### Notes\n")
print("- *Whole process* is exec to exit of `bench_map` or of `mpiexec`, measured with `date +%s.%N` "
      "around it; both sides verify every result before exiting. It is the fair comparison: "
      "burla's *map* (`map_seconds`, printed by bench_map) includes starting its mpirun job and "
      "writing results.h5, while the peer's *map* is `executor.map` on a pool already started and "
      "warmed up by one call (the peer's processes were started by the `mpiexec` around it).")
print("- The peer's *best* chunksize is the one with the lowest median whole-process time "
      "(lowest median makespan for the sleeps); every chunksize tried is in the second table.")
print("- burla's job sets `OMPI_MCA_pml=ob1` and `OMPI_MCA_btl=self,vader` (unless the user set "
      "them); the peer runs with Open MPI's defaults, as a user would type it. `/bin/true` never "
      "calls `MPI_Init`, so the pml makes no difference to it; the `MPI_Init` rows show what the "
      "default transport probing costs every process started with `mpiexec`.")
print(f"- Sleeps: the 2,000 lengths are bench_map's own (`std::mt19937(42)`, "
      f"`std::uniform_int_distribution<int>(0, 2000)` µs, written out by a small C++ program "
      f"compiled by run.sh and read by the peer); they total {2 * half_sum:.3f} s, so the ideal "
      f"makespan on 2 workers is {half_sum:.3f} s. burla's makespan is results.h5's "
      f"`work_seconds` (first dispatch to last result); the peer's is its map time.")
print(f"- The kernel oversleeps every call: the same sleeps run one after another in one process "
      f"took {serial_cpp:.3f} s in C++ (`std::this_thread::sleep_for`, {over_cpp_us:.0f} µs over "
      f"per call) and {serial_py:.3f} s in Python (`time.sleep`, {over_py_us:.0f} µs per call); "
      f"half the C++ figure, {achievable:.3f} s, is the *achievable ideal* (measured once per run). "
      f"Most of that is the default 50 µs timer slack: burla's workers set theirs to 1 µs "
      f"(`prctl(PR_SET_TIMERSLACK)`, mpi_runner/src/worker.cpp), which is why burla can beat "
      f"that ideal; with 1 µs slack the serial run took {serial_slack:.3f} s "
      f"({over_slack_us:.0f} µs over per call), the last ideal row. The peer's workers keep the "
      f"default slack.")
print("- Large results: burla streams every result through a journal into results.h5 on disk "
      "(2 GB written once to results.h5; the journal holds where each result is), while "
      "mpi4py.futures keeps results in memory only; "
      "the master's peak RSS is results.h5's `master_peak_rss_kb` (burla) and the peer's own "
      "`getrusage` (its rank 0 is both caller and master). `/usr/bin/time -f %M` reports the "
      "largest process among the one it started and the descendants waited for "
      "(mpirun and, for the peer, all ranks), so it bounds the caller's peak RSS from above.")
print("- Before each burla run the script runs `sync` (not timed), so that the gigabytes the "
      "large-results runs leave in the page cache are not written back during the next run; the "
      "peer writes nothing to disk. Before each run of gigabytes (dd, burla and the peer) it also "
      "empties the page cache (`echo 1 > /proc/sys/vm/drop_caches`, as root): into a page cache "
      "full of earlier runs' files every write must reclaim first (dd of 2 GB took 0.4 s into an "
      "empty one, 2-7 s into a full one).")
sk = m["slow_skipped"].split()
if sk:
    print(f"- Not measured: {', '.join(sk)} (still running after {m['slow_limit']} s; stopped).")
n_slow = len(vals("peer.square100k.cs1", "wall"))
if 0 < n_slow < int(m["repeat"]):
    print(f"- peer chunksize 1 on 100,000 calls: {n_slow} repetitions only.")
print("- chunksize 1 on 1,000,000 calls was not tried for the peer: it takes minutes.")
EOF
