"""threading: Thread start+join latency, Lock throughput, and the seed's 100-thread counter.

CPython threads share one GIL, so the "contended" Lock cases never run two
critical sections in parallel: their cost is blocked acquirers dropping the
GIL and being woken again (convoys), on top of the GIL switch interval. They
are kept because that is what a threaded Python program actually pays.
"""

from __future__ import annotations

import sys
import threading
import time

from _bench import WAIT_TIMEOUT, emit, log, parse_args, repetitions, result


def noop() -> None:
    pass


def thread_start_join(count: int) -> list[float]:
    samples = []
    for _ in range(count):
        t0 = time.perf_counter()
        t = threading.Thread(target=noop)
        t.start()
        t.join()
        samples.append((time.perf_counter() - t0) * 1e3)
    return samples


def lock_loop(lock: threading.Lock, iterations: int) -> int:
    # Bound methods: measure the lock, not the attribute lookups.
    acquire, release = lock.acquire, lock.release
    done = 0
    for _ in range(iterations):
        acquire()
        done += 1  # the whole critical section: a thread-local int
        release()
    return done


def uncontended_rate(iterations: int) -> float:
    lock = threading.Lock()
    t0 = time.perf_counter()
    lock_loop(lock, iterations)
    return iterations / (time.perf_counter() - t0)


def contended_rate(threads: int, total_iterations: int) -> float:
    """Split total_iterations over `threads` threads released together, so
    the rate is comparable with the single-thread case."""
    lock = threading.Lock()
    per_thread = total_iterations // threads
    ready = threading.Barrier(threads + 1, timeout=WAIT_TIMEOUT)
    start = threading.Event()
    done: list[int] = []

    def worker() -> None:
        ready.wait()
        if start.wait(WAIT_TIMEOUT):
            done.append(lock_loop(lock, per_thread))

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for t in workers:
        t.start()
    ready.wait()
    t0 = time.perf_counter()
    start.set()
    for t in workers:
        t.join(WAIT_TIMEOUT)
    elapsed = time.perf_counter() - t0
    if sum(done) != per_thread * threads:
        raise AssertionError(f"threads did {sum(done)} iterations, expected {per_thread * threads}")
    return per_thread * threads / elapsed


def hundred_thread_counter(threads: int) -> tuple[float, int]:
    """The seed's 26-互斥锁 program minus its sleep: each thread decrements a
    shared counter once under a Lock. Creating, starting and joining the
    threads is the program, so all of it is timed."""
    lock = threading.Lock()
    counter = [threads]

    def task() -> None:
        with lock:
            counter[0] -= 1

    t0 = time.perf_counter()
    workers = [threading.Thread(target=task) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(WAIT_TIMEOUT)
    elapsed_ms = (time.perf_counter() - t0) * 1e3
    if counter[0] != 0:
        raise AssertionError(f"counter ended at {counter[0]}, expected 0")
    return elapsed_ms, counter[0]


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    reps = repetitions(args.quick)
    starts = 20 if args.quick else 200
    iterations = 200_000 if args.quick else 1_000_000
    env = {"switch_interval_s": sys.getswitchinterval()}

    results = []
    log("threads:")
    results.append(result("thread start+join", "ms", thread_start_join(starts), {
        "per": "thread, construct+start+join",
    }))
    results.append(result(
        "Lock uncontended acquire/release", "ops/s",
        [uncontended_rate(iterations) for _ in range(reps)],
        {"threads": 1, "iterations": iterations, **env},
    ))
    for threads in (2, 4):
        results.append(result(
            f"Lock contended, {threads} threads", "ops/s",
            [contended_rate(threads, iterations) for _ in range(reps)],
            {"threads": threads, "iterations_total": iterations, **env},
        ))
    runs = [hundred_thread_counter(100) for _ in range(reps)]
    results.append(result("100-thread counter", "ms", [ms for ms, _ in runs], {
        "threads": 100, "initial_n": 100, "final_n": [n for _, n in runs],
        "timed": "construct+start+join of all 100 threads",
    }))
    emit("threads", results)


if __name__ == "__main__":
    main()
