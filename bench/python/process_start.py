"""Process start+join latency with a trivial target, for "spawn" and "fork".

Unlike the throughput benchmarks, start-up IS the work here: each sample is
the wall time from Process.start() to join() returning, so it includes the
child interpreter's start-up and exit. Deno.Command starts a fresh runtime,
so "spawn" is the like-for-like comparison; "fork" is shown as the best case
Python can do on Linux.
"""

from __future__ import annotations

import multiprocessing as mp
import time

from _bench import emit, join_all, log, parse_args, repetitions, result


def noop() -> None:
    pass


def one_at_a_time(ctx: mp.context.BaseContext, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        p = ctx.Process(target=noop)
        t0 = time.perf_counter()
        p.start()
        p.join()
        samples.append((time.perf_counter() - t0) * 1e3)
        join_all([p])  # checks the exit code; p has already been joined
    return samples


def batch(ctx: mp.context.BaseContext, size: int, reps: int) -> list[float]:
    samples = []
    for _ in range(reps):
        procs = [ctx.Process(target=noop) for _ in range(size)]
        t0 = time.perf_counter()
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        samples.append((time.perf_counter() - t0) * 1e3)
        join_all(procs)
    return samples


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    reps = repetitions(args.quick)
    sequential = 5 if args.quick else 20
    batch_size = 10  # the case is defined by its size, so --quick only cuts reps

    results = []
    for method in ("spawn", "fork"):
        ctx = mp.get_context(method)
        # The first spawn also starts multiprocessing's resource tracker
        # process; keep that one-off cost out of the samples.
        warm_up = ctx.Process(target=noop)
        warm_up.start()
        join_all([warm_up])
        log(f"{method}:")
        results.append(result(
            f"{method} 1 at a time", "ms", one_at_a_time(ctx, sequential),
            {"per": "process, start+join"},
        ))
        results.append(result(
            f"{method} {batch_size} at once", "ms", batch(ctx, batch_size, reps),
            {"per": f"start {batch_size}, then join all {batch_size}"},
        ))
    emit("process_start", results)


if __name__ == "__main__":
    main()
