#!/usr/bin/env bash
# Fuzzes the readers of job files (job.ini, inputs.bin/.index, the journal, result values) with
# libFuzzer: builds tests/fuzz with clang (ASan + UBSan) into a directory of its own, writes
# seed corpora, and runs each target. A crash, a sanitizer report, an input running past
# 10 s or an allocation over 512 MiB fails the run; the input is kept in DIR/crashes/ and the
# command that replays it is printed.
#
#   bash scripts/fuzz.sh [--build-dir DIR] [--time SECONDS] [--build-only | --no-build]
#                        [--seed-job JOB_DIR]... [TARGET...]
#
# TARGET: job_spec, input_file, journal, decode_value (default: all). DIR defaults to
# build-fuzz, SECONDS (per target) to 60. --seed-job adds a job directory's files to the seeds,
# e.g. one left by running build/examples/hello. The corpus grows in DIR/corpus/ across runs.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build-fuzz seconds=60 build=1 run=1 jobs=() targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) dir="$2"; shift 2 ;;
    --time) seconds="$2"; shift 2 ;;
    --build-only) run=0; shift ;;
    --no-build) build=0; shift ;;
    --seed-job) jobs+=("$(realpath "$2")"); shift 2 ;;
    job_spec|input_file|journal|decode_value) targets+=("$1"); shift ;;
    *) echo "fuzz.sh: unknown argument '$1' (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(job_spec input_file journal decode_value)

if [ "$build" = 1 ]; then
  cxx="${BURLA_FUZZ_CXX:-$(command -v clang++-14 || command -v clang++ || true)}"
  if [ -z "$cxx" ]; then
    echo "fuzz.sh: clang++ is not installed; bash scripts/setup.sh installs it (clang-14, libclang-rt-14-dev)" >&2
    exit 1
  fi
  cmake -S tests/fuzz -B "$dir" -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
  cmake --build "$dir" -j "$(nproc)"
  rm -rf "$dir/seeds"
  "$dir/make_seeds" "$dir/seeds" "${jobs[@]}"
fi
[ "$run" = 1 ] || exit 0

mkdir -p "$dir/crashes" "$dir/logs"
status=0
for t in "${targets[@]}"; do
  [ -x "$dir/fuzz_$t" ] || { echo "fuzz.sh: $dir/fuzz_$t is not built (run without --no-build)" >&2; exit 1; }
  mkdir -p "$dir/corpus/$t"
  log="$dir/logs/$t.log"
  # The corpus directory comes first: what libFuzzer finds is added there, never to the seeds.
  if "$dir/fuzz_$t" "$dir/corpus/$t" "$dir/seeds/$t" -max_total_time="$seconds" -timeout=10 \
       -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1 \
       -artifact_prefix="$dir/crashes/$t-" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz $t: ${runs:-?} runs in ${seconds} s, no crash ($(ls "$dir/corpus/$t" | wc -l) inputs in the corpus)"
  else
    status=1
    echo "fuzz $t: FAILED; the end of $log:" >&2
    tail -n 60 "$log" >&2
    artifact=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n 1)
    [ -z "$artifact" ] || echo "fuzz $t: replay with: $dir/fuzz_$t $artifact" >&2
  fi
done
exit $status
