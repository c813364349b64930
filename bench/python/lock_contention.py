"""multiprocessing.Lock acquire/release across processes, and the seed's ticket race.

Workers are started first, report on a ready queue and block on a start
Event; the clock runs from setting the Event until every worker is joined.
Process start-up is therefore excluded, but process exit (cheap with fork) is
included, which is negligible next to the measured loops.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import tempfile
import time

from _bench import (
    WAIT_TIMEOUT,
    emit,
    join_all,
    log,
    parse_args,
    repetitions,
    result,
    stop_all,
    wait_ready,
)

# Start-up is not timed, so fork is used only because it is the quickest way
# to get the workers waiting.
CTX = mp.get_context("fork")


def lock_worker(lock, iterations, ready, start) -> None:
    ready.put(os.getpid())
    if not start.wait(WAIT_TIMEOUT):
        raise SystemExit(2)
    # Bound methods: measure the lock, not the attribute lookups.
    acquire, release = lock.acquire, lock.release
    done = 0
    for _ in range(iterations):
        acquire()
        done += 1  # the whole critical section: a process-local int
        release()
    if done != iterations:
        raise SystemExit(1)


def run_workers(target, args_for, count: int) -> float:
    """Start `count` workers, release them together, return seconds until all
    are joined. args_for(ready, start) builds each worker's arguments."""
    ready, start = CTX.Queue(), CTX.Event()
    procs = [CTX.Process(target=target, args=args_for(ready, start), daemon=True)
             for _ in range(count)]
    try:
        for p in procs:
            p.start()
        wait_ready(ready, count)
        t0 = time.perf_counter()
        start.set()
        join_all(procs)
        return time.perf_counter() - t0
    finally:
        stop_all(procs)


def lock_rate(processes: int, iterations: int) -> float:
    lock = CTX.Lock()
    elapsed = run_workers(
        lock_worker, lambda ready, start: (lock, iterations, ready, start), processes)
    return processes * iterations / elapsed


# --- The seed's ticket race (16-模拟抢票), without its sleeps -----------------

def _read_count(db_path: str) -> int:
    with open(db_path, encoding="utf-8") as f:
        return json.load(f)["count"]


def _write_count(db_path: str, count: int) -> None:
    # search() reads without the lock, so an in-place open("w") would let it
    # see a truncated, empty file (JSONDecodeError; the seed's sleeps only
    # hide that race). Writing a temp file and renaming it over the db is
    # atomic, so a reader sees either the old or the new contents.
    tmp_path = f"{db_path}.{os.getpid()}.tmp"
    with open(tmp_path, "w", encoding="utf-8") as f:
        json.dump({"count": count}, f)
    os.replace(tmp_path, db_path)


def ticket_buyer(db_path, lock, ready, start, outcomes) -> None:
    ready.put(os.getpid())
    if not start.wait(WAIT_TIMEOUT):
        raise SystemExit(2)
    _read_count(db_path)  # search(): look at the tickets left, outside the lock
    with lock:  # get(): the read-modify-write must be serialised
        count = _read_count(db_path)
        bought = count > 0
        if bought:
            _write_count(db_path, count - 1)
    outcomes.put(bought)


def ticket_race(buyers: int, tmp: str) -> tuple[float, dict]:
    db_path = os.path.join(tmp, "db.json")
    _write_count(db_path, 1)
    lock, outcomes = CTX.Lock(), CTX.Queue()
    elapsed = run_workers(
        ticket_buyer, lambda ready, start: (db_path, lock, ready, start, outcomes), buyers)
    sold = sum(outcomes.get(timeout=WAIT_TIMEOUT) for _ in range(buyers))
    check = {"sold": sold, "final_count": _read_count(db_path)}
    if check != {"sold": 1, "final_count": 0}:
        raise AssertionError(f"ticket race broken: {check}")
    return elapsed * 1e3, check


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    reps = repetitions(args.quick)
    iterations = 100_000 if args.quick else 1_000_000

    results = []
    for case, processes in (("uncontended 1 process", 1), ("4 processes contending", 4)):
        log(f"{case} ({iterations} iterations per process):")
        rates = [lock_rate(processes, iterations) for _ in range(reps)]
        results.append(result(case, "ops/s", rates, {
            "processes": processes, "iterations_per_process": iterations,
            "body": "acquire(); local += 1; release()",
        }))

    case, buyers = "ticket race, 10 processes", 10
    log(f"{case}:")
    samples, checks = [], []
    with tempfile.TemporaryDirectory(prefix="bench-tickets-") as tmp:
        for _ in range(reps):
            ms, check = ticket_race(buyers, tmp)
            samples.append(ms)
            checks.append(check)
    results.append(result(case, "ms", samples, {
        "processes": buyers, "initial_count": 1,
        "sold": [c["sold"] for c in checks],
        "final_count": [c["final_count"] for c in checks],
    }))
    emit("lock_contention", results)


if __name__ == "__main__":
    main()
