"""Peer side of bench/run.sh: the same workloads as bench_map, on mpi4py.futures.

Run as 1 master + 2 workers, like burla's local jobs:
    mpiexec -n 3 --oversubscribe /usr/bin/python3 -m mpi4py.futures bench/peer_mpi4py.py square N CHUNKSIZE
    mpiexec ... bench/peer_mpi4py.py sleep SLEEP_LIST_FILE CHUNKSIZE
    mpiexec ... bench/peer_mpi4py.py large N MB CHUNKSIZE
    mpiexec ... bench/peer_mpi4py.py large_in N MB CHUNKSIZE
and, without mpiexec (one process, no pool):
    /usr/bin/python3 bench/peer_mpi4py.py serial SLEEP_LIST_FILE

Prints one line of key=value figures, like bench_map:
    pool_seconds  creating the executor and one round trip to a worker (warm-up, not in map_seconds)
    map_seconds   executor.map(...) called until the last result is consumed (results verified)
    peak_rss_kb   this process's (rank 0: the caller, which is also the master) peak RSS
    inputs_seconds  (large_in) building the inputs, before the map
"""

import resource
import sys
import time


def square(x):
    return x * x


def sleep_for_us(us):
    time.sleep(us * 1e-6)
    return us


def large(mb):
    return b"x" * (mb << 20)


def first_times_size(b):
    return len(b) * b[0]


def read_sleep_list(path):
    with open(path) as f:
        return [int(line) for line in f if line.strip()]


def peak_rss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    what = argv[1]

    if what == "serial":  # the sleeps one after another in this process: the achievable ideal
        us = read_sleep_list(argv[2])
        t0 = time.perf_counter()
        for x in us:
            sleep_for_us(x)
        elapsed = time.perf_counter() - t0
        print(f"elapsed_seconds={elapsed:.4f} sum_seconds={sum(us) * 1e-6:.4f} n={len(us)}")
        return 0

    from mpi4py.futures import MPIPoolExecutor

    t0 = time.perf_counter()
    with MPIPoolExecutor() as executor:
        executor.submit(int, 0).result()  # start the pool and reach a worker before timing
        pool_seconds = time.perf_counter() - t0
        extra = ""
        if what == "square":
            n, chunksize = int(argv[2]), int(argv[3])
            inputs = [float(i) for i in range(n)]
            t0 = time.perf_counter()
            out = list(executor.map(square, inputs, chunksize=chunksize))
            map_seconds = time.perf_counter() - t0
            if len(out) != n or any(o != x * x for o, x in zip(out, inputs)):
                print("wrong result", file=sys.stderr)
                return 1
        elif what == "sleep":
            us, chunksize = read_sleep_list(argv[2]), int(argv[3])
            t0 = time.perf_counter()
            out = list(executor.map(sleep_for_us, us, chunksize=chunksize))
            map_seconds = time.perf_counter() - t0
            if out != us:
                print("wrong result", file=sys.stderr)
                return 1
            extra = f" sum_seconds={sum(us) * 1e-6:.4f}"
        elif what == "large":
            n, mb, chunksize = int(argv[2]), int(argv[3]), int(argv[4])
            t0 = time.perf_counter()
            nbytes = 0
            for r in executor.map(large, [mb] * n, chunksize=chunksize):  # consumed as they come
                nbytes += len(r)
            map_seconds = time.perf_counter() - t0
            if nbytes != n * (mb << 20):
                print("wrong result", file=sys.stderr)
                return 1
            extra = f" bytes={nbytes}"
        elif what == "large_in":
            n, mb, chunksize = int(argv[2]), int(argv[3]), int(argv[4])
            t0 = time.perf_counter()
            inputs = [bytes([i % 100]) * (mb << 20) for i in range(n)]
            extra = f" inputs_seconds={time.perf_counter() - t0:.4f}"
            t0 = time.perf_counter()
            out = list(executor.map(first_times_size, inputs, chunksize=chunksize))
            map_seconds = time.perf_counter() - t0
            if out != [(i % 100) * (mb << 20) for i in range(n)]:
                print("wrong result", file=sys.stderr)
                return 1
        else:
            print(f"unknown workload {what!r}", file=sys.stderr)
            return 2
    print(f"map_seconds={map_seconds:.4f} pool_seconds={pool_seconds:.4f} peak_rss_kb={peak_rss_kb()}{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
