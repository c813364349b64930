"""multiprocessing.Pool and concurrent.futures.ProcessPoolExecutor: the Python side of bench/pool.ts.

Every pool uses the `spawn` start method (the like-for-like of a Deno child,
which is always a fresh runtime) and 2 workers. Pools are started and warmed
up (every worker has run a task) before anything is timed; start-up is
`process_start`'s subject.

- "Pool.map 200k squares": `pool.map(square, range(200_000))` with the
  default chunksize (len / (4 * workers), rounded up: 8 chunks of 25,000), in
  items/s.
- "Pool.apply no-op round trip": sequential `pool.apply(noop)`, in µs per call
  (each sample is the mean of a batch of calls).
- "ProcessPoolExecutor 20k submits": 20,000 `executor.submit(noop)`, then
  `f.result()` of every future, in tasks/s from the first submit.
- "CPU-bound speed-up, 16 tasks on 2 workers": 16 × fib(27) (about 30 ms
  each here) run in-process one after the other, divided by the same 16 on
  the pool (`map`, chunksize 1): 2 is the ideal on 2 cores.

    python3 bench/python/pool.py [--quick]
"""

from __future__ import annotations

import multiprocessing as mp
import time
from concurrent.futures import ProcessPoolExecutor

from _bench import WAIT_TIMEOUT, emit, log, parse_args, repetitions, result

WORKERS = 2
FIB_N = 27


def square(n: int) -> int:
    return n * n


def noop() -> None:
    return None


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def map_rate(pool, items: int) -> float:
    data = range(items)
    t0 = time.perf_counter()
    out = pool.map_async(square, data).get(WAIT_TIMEOUT)
    elapsed = time.perf_counter() - t0
    if len(out) != items or out[-1] != (items - 1) ** 2:
        raise AssertionError(f"map returned {len(out)} results")
    return items / elapsed


def apply_us(pool, calls: int) -> float:
    t0 = time.perf_counter()
    for _ in range(calls):
        pool.apply_async(noop).get(WAIT_TIMEOUT)
    return (time.perf_counter() - t0) / calls * 1e6


def submit_rate(executor, tasks: int) -> float:
    t0 = time.perf_counter()
    futures = [executor.submit(noop) for _ in range(tasks)]
    for f in futures:
        f.result(WAIT_TIMEOUT)
    return tasks / (time.perf_counter() - t0)


def speedup(pool, tasks: int) -> float:
    t0 = time.perf_counter()
    local = [fib(FIB_N) for _ in range(tasks)]
    sequential = time.perf_counter() - t0
    t0 = time.perf_counter()
    remote = pool.map_async(fib, [FIB_N] * tasks, chunksize=1).get(WAIT_TIMEOUT)
    parallel = time.perf_counter() - t0
    if remote != local:
        raise AssertionError("fib results differ")
    return sequential / parallel


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    reps = repetitions(args.quick)
    items = 20_000 if args.quick else 200_000
    calls = 200 if args.quick else 1_000
    tasks = 2_000 if args.quick else 20_000
    ctx = mp.get_context("spawn")
    results = []
    log("pool:")
    with ctx.Pool(WORKERS) as pool:
        # Warm-up: both workers have started and run a task.
        pool.map_async(square, range(WORKERS * 4), chunksize=1).get(WAIT_TIMEOUT)
        results.append(result(
            "Pool.map 200k squares", "items/s",
            [map_rate(pool, items) for _ in range(reps)],
            {"items": items, "workers": WORKERS, "chunksize": "default"},
        ))
        results.append(result(
            "Pool.apply no-op round trip", "µs",
            [apply_us(pool, calls) for _ in range(reps)],
            {"calls_per_sample": calls},
        ))
        pool.map_async(fib, [20] * WORKERS, chunksize=1).get(WAIT_TIMEOUT)
        results.append(result(
            "Pool CPU-bound speed-up, 16 tasks on 2 workers", "×",
            [speedup(pool, 16) for _ in range(max(3, reps - 2))],
            {"task": f"fib({FIB_N})", "tasks": 16, "workers": WORKERS},
        ))
    with ProcessPoolExecutor(WORKERS, mp_context=ctx) as executor:
        for f in [executor.submit(noop) for _ in range(WORKERS * 4)]:
            f.result(WAIT_TIMEOUT)
        results.append(result(
            "ProcessPoolExecutor 20k submits", "tasks/s",
            [submit_rate(executor, tasks) for _ in range(reps)],
            {"tasks": tasks, "workers": WORKERS},
        ))
    emit("pool", results, start_method="spawn")


if __name__ == "__main__":
    main()
