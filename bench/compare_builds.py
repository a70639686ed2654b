#!/usr/bin/python3
"""Compares two builds of bench_map on one workload, runs alternating so that the machine's
drift hits both alike. Prints, per build, the whole-process wall time (exec to exit) and the CPU
time of the process and all it waited for (mpirun, the ranks, their call processes).

  bench/compare_builds.py [-n RUNS] [--workload "square 1000000"] OLD/bench_map NEW/bench_map

Build the old commit in a worktree first, the same way (RelWithDebInfo):
  git worktree add /tmp/old COMMIT && cmake -S /tmp/old -B /tmp/old/build \\
      -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build /tmp/old/build --target bench_map
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--runs", type=int, default=21)
    ap.add_argument("--workload", default="square 1000000")
    ap.add_argument("builds", nargs="+", help="bench_map executables")
    args = ap.parse_args()
    jobs = tempfile.mkdtemp(prefix="burla-compare-")
    env = dict(os.environ, BURLA_BACKEND="local", BURLA_JOBS_DIR=jobs)
    if os.geteuid() == 0:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    wall = {b: [] for b in args.builds}
    cpu = {b: [] for b in args.builds}
    try:
        for i in range(args.runs):
            for b in args.builds:
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.perf_counter()
                r = subprocess.run([b] + args.workload.split(), env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
                t = time.perf_counter() - t0
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                if r.returncode != 0:
                    sys.exit(f"{b} failed (exit {r.returncode}):\n{r.stderr.decode()[-2000:]}")
                wall[b].append(t)
                cpu[b].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
                for entry in os.listdir(jobs):  # each run writes tens of MB
                    shutil.rmtree(os.path.join(jobs, entry), ignore_errors=True)
            print(f"run {i + 1}/{args.runs}", file=sys.stderr)
    finally:
        shutil.rmtree(jobs, ignore_errors=True)
    print(f"{args.workload}, {args.runs} alternating runs each; seconds")
    print("| build | wall median | wall mean | wall min | CPU median |")
    print("|---|---|---|---|---|")
    for b in args.builds:
        w, c = wall[b], cpu[b]
        print(f"| {b} | {statistics.median(w):.3f} | {statistics.mean(w):.3f} | {min(w):.3f} | "
              f"{statistics.median(c):.3f} |")


if __name__ == "__main__":
    main()
