"""multiprocessing Queue / JoinableQueue throughput between processes.

Only the transfer is timed. Children are started first, build their data,
report on a ready queue and block on a start Event; the parent starts the
clock as it sets the Event and stops it once the work is verifiably done:
  * Queue cases: the consumer child has received every item and says so on a
    done queue (the parent only coordinates, it never touches the items);
  * JoinableQueue case: all producers are joined and q.join() has returned,
    i.e. every item got its task_done().
The Pipe case times round trips (send, the child's recv and send, recv) of a
small string over multiprocessing.Pipe() to a spawn child, after a warm-up.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import time
from multiprocessing.managers import BaseManager

from _bench import (
    WAIT_TIMEOUT,
    call_with_timeout,
    emit,
    join_all,
    log,
    parse_args,
    repetitions,
    result,
    stop_all,
    wait_ready,
)

# fork keeps set-up cheap and lets children inherit the pre-built item lists
# without pickling them; start-up is not timed, so the choice does not change
# the numbers being measured.
CTX = mp.get_context("fork")


def small_items(count: int) -> list[str]:
    return [f"item-{i:05d}" for i in range(count)]


def kib_items(count: int) -> list[str]:
    # Distinct strings (not one object repeated) so nothing can be shared or
    # cached between puts; the numbered prefix keeps them exactly 1024 chars.
    pad = "x" * 1024
    return [f"{i:08d}{pad}"[:1024] for i in range(count)]


BYTES = 64 * 1024


def make_bytes(i: int) -> bytes:
    """A fresh 64 KiB bytes object, numbered (big-endian) in its first 4 bytes,
    as the Deno side's Uint8Array; built in the producer, as there."""
    return i.to_bytes(4, "big") + bytes(BYTES - 5) + bytes((i & 0xFF,))


def bytes_producer(q, count, ready, start) -> None:
    ready.put("producer")
    if not start.wait(WAIT_TIMEOUT):
        raise SystemExit(2)
    put = q.put
    for i in range(count):
        put(make_bytes(i))


def bytes_consumer(q, count, ready, start, done) -> None:
    ready.put("consumer")
    if not start.wait(WAIT_TIMEOUT):
        raise SystemExit(2)
    get = q.get
    for i in range(count):
        item = get()
        if (len(item) != BYTES or int.from_bytes(item[:4], "big") != i
                or item[-1] != i & 0xFF):
            raise AssertionError(f"item {i} is not the bytes put as number {i}")
    done.put({"received": count})


def bytes_run(count: int) -> float:
    q, ready, done, start = CTX.Queue(), CTX.Queue(), CTX.Queue(), CTX.Event()
    procs = [
        CTX.Process(target=bytes_producer, args=(q, count, ready, start), daemon=True),
        CTX.Process(target=bytes_consumer, args=(q, count, ready, start, done), daemon=True),
    ]
    try:
        for p in procs:
            p.start()
        wait_ready(ready, len(procs))
        t0 = time.perf_counter()
        start.set()
        report = done.get(timeout=WAIT_TIMEOUT)
        elapsed = time.perf_counter() - t0
        join_all(procs)
    finally:
        stop_all(procs)
    if report != {"received": count}:
        raise AssertionError(f"consumer saw {report}, expected {count} items")
    return count / elapsed


def echoer(conn, count) -> None:
    recv, send = conn.recv, conn.send
    for _ in range(count):
        send(recv())


def pipe_run(round_trips: int, warmup: int) -> float:
    """Microseconds per round trip over multiprocessing.Pipe() to a spawn child."""
    ctx = mp.get_context("spawn")
    here, there = ctx.Pipe()
    proc = ctx.Process(target=echoer, args=(there, warmup + round_trips), daemon=True)
    message = f"item-{42:05d}"
    try:
        proc.start()
        there.close()
        # The first round trips also wait for the child to start: not timed.
        for _ in range(warmup):
            here.send(message)
            if not here.poll(WAIT_TIMEOUT) or here.recv() != message:
                raise AssertionError("the pipe echoed another value")
        send, recv = here.send, here.recv
        t0 = time.perf_counter()
        for _ in range(round_trips):
            send(message)
            if recv() != message:
                raise AssertionError("the pipe echoed another value")
        elapsed = time.perf_counter() - t0
        join_all([proc])
    finally:
        stop_all([proc])
    return elapsed * 1e6 / round_trips


def producer(q, items, ready, start) -> None:
    ready.put("producer")
    if not start.wait(WAIT_TIMEOUT):
        raise SystemExit(2)
    put = q.put
    for item in items:
        put(item)
    # Returning joins the queue's feeder thread, so by the time this process
    # has exited every item has been written to the pipe.


def consumer(q, count, ready, start, done) -> None:
    ready.put("consumer")
    if not start.wait(WAIT_TIMEOUT):
        raise SystemExit(2)
    get = q.get
    chars = 0
    item = None
    for _ in range(count):
        item = get()
        chars += len(item)
    done.put({"received": count, "chars": chars, "last": item})


def pair_run(q, items: list, take, expected: dict) -> float:
    """Items/s of `items` through `q` from a producer process to a consumer process running
    `take`, from the start Event to the consumer's report (which must be `expected`)."""
    ready, done, start = CTX.Queue(), CTX.Queue(), CTX.Event()
    procs = [
        CTX.Process(target=producer, args=(q, items, ready, start), daemon=True),
        CTX.Process(target=take, args=(q, len(items), ready, start, done), daemon=True),
    ]
    try:
        for p in procs:
            p.start()
        wait_ready(ready, len(procs))
        t0 = time.perf_counter()
        start.set()
        report = done.get(timeout=WAIT_TIMEOUT)
        elapsed = time.perf_counter() - t0
        join_all(procs)
    finally:
        stop_all(procs)
    if report != expected:
        raise AssertionError(f"consumer saw {report}, expected {expected}")
    return len(items) / elapsed


def queue_run(items: list[str], maxsize: int = 0) -> float:
    # Single producer, so FIFO order means the last item must be the last one put.
    expected = {"received": len(items), "chars": sum(map(len, items)), "last": items[-1]}
    return pair_run(CTX.Queue(maxsize), items, consumer, expected)


class PriorityManager(BaseManager):
    """A manager serving queue.PriorityQueue: how Python shares one between processes
    (multiprocessing has no PriorityQueue of its own)."""


PriorityManager.register("PriorityQueue", queue.PriorityQueue)


def priority_entries(count: int) -> list[tuple[int, str]]:
    """(priority, item) entries, priorities cycling through 0..99 (as the Deno side's)."""
    return [(i % 100, f"item-{i:05d}") for i in range(count)]


def priority_consumer(q, count, ready, start, done) -> None:
    ready.put("consumer")
    if not start.wait(WAIT_TIMEOUT):
        raise SystemExit(2)
    get = q.get
    chars = 0
    for _ in range(count):
        priority, item = get()
        chars += len(item)
    done.put({"received": count, "chars": chars})


def priority_run(entries: list[tuple[int, str]]) -> float:
    """Entries/s through a manager's PriorityQueue from a producer process to a consumer process."""
    manager = PriorityManager(ctx=CTX)
    manager.start()
    try:
        expected = {"received": len(entries), "chars": sum(len(item) for _, item in entries)}
        return pair_run(manager.PriorityQueue(), entries, priority_consumer, expected)
    finally:
        manager.shutdown()


def jq_consumer(q, ready, start, counts) -> None:
    ready.put("consumer")
    if not start.wait(WAIT_TIMEOUT):
        raise SystemExit(2)
    get, task_done = q.get, q.task_done
    received = 0
    while True:
        item = get()
        task_done()
        if item is None:
            break
        received += 1
    counts.put(received)


def joinable_run(items_per_producer: int, producers: int, consumers: int) -> float:
    q, ready, counts, start = CTX.JoinableQueue(), CTX.Queue(), CTX.Queue(), CTX.Event()
    prods = [
        CTX.Process(
            target=producer,
            args=(q, [f"p{p}-{i:05d}" for i in range(items_per_producer)], ready, start),
        )
        for p in range(producers)
    ]
    # Daemon consumers, as in the seed: they can never keep the parent alive.
    cons = [
        CTX.Process(target=jq_consumer, args=(q, ready, start, counts), daemon=True)
        for _ in range(consumers)
    ]
    procs = prods + cons
    total = items_per_producer * producers
    try:
        for p in procs:
            p.start()
        wait_ready(ready, len(procs))
        t0 = time.perf_counter()
        start.set()
        join_all(prods)
        call_with_timeout(q.join)
        elapsed = time.perf_counter() - t0
        for _ in cons:
            q.put(None)
        received = sum(counts.get(timeout=WAIT_TIMEOUT) for _ in cons)
        join_all(cons)
    finally:
        stop_all(procs)
    if received != total:
        raise AssertionError(f"consumers received {received} items, expected {total}")
    return total / elapsed


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    reps = repetitions(args.quick)
    scale = 10 if args.quick else 1
    # Runs long enough (about a second a case) that start-up does not dominate either side.
    small_n, kib_n, jq_per_producer = (
        400_000 // scale, 300_000 // scale, 60_000 // scale)
    bytes_n, round_trips = 10_000 // scale, 2_000 // scale
    bounded_n, priority_n = 20_000 // scale, 20_000 // scale

    results = []
    for case, items in (
        ("Queue 1 producer -> 1 consumer, small str", small_items(small_n)),
        ("Queue 1 producer -> 1 consumer, 1 KiB str", kib_items(kib_n)),
    ):
        log(f"{case} ({len(items)} items):")
        rates = [queue_run(items) for _ in range(reps)]
        results.append(result(case, "items/s", rates, {
            "items": len(items), "item_chars": len(items[0]), "start_method": "fork",
        }))

    for maxsize, n in ((3, bounded_n), (1000, small_n)):
        case = f"Queue({maxsize}) 1 producer -> 1 consumer, small str"
        items = small_items(n)
        log(f"{case} ({n} items):")
        rates = [queue_run(items, maxsize) for _ in range(reps)]
        results.append(result(case, "items/s", rates, {
            "items": n, "maxsize": maxsize, "start_method": "fork",
        }))

    case = "Queue 1 producer -> 1 consumer, 64 KiB bytes"
    log(f"{case} ({bytes_n} items):")
    rates = [bytes_run(bytes_n) for _ in range(reps)]
    results.append(result(case, "items/s", rates, {
        "items": bytes_n, "item_bytes": BYTES, "start_method": "fork",
    }))

    case = "Pipe round trip"
    log(f"{case} ({round_trips} round trips):")
    times = [pipe_run(round_trips, 100) for _ in range(reps)]
    results.append(result(case, "µs", times, {
        "round_trips": round_trips, "warmup": 100, "message": f"item-{42:05d}",
        "start_method": "spawn",
    }))

    case = "JoinableQueue 3 producers / 2 consumers"
    log(f"{case} ({3 * jq_per_producer} items):")
    rates = [joinable_run(jq_per_producer, 3, 2) for _ in range(reps)]
    results.append(result(case, "items/s", rates, {
        "items": 3 * jq_per_producer, "item_chars": len(f"p0-{0:05d}"),
        "start_method": "fork", "stop": "producers joined, then q.join() returned",
    }))
    case = "PriorityQueue 1 producer -> 1 consumer, (priority, small str)"
    entries = priority_entries(priority_n)
    log(f"{case} ({priority_n} entries):")
    rates = [priority_run(entries) for _ in range(reps)]
    results.append(result(case, "items/s", rates, {
        "items": priority_n, "start_method": "fork",
        "queue": "queue.PriorityQueue served by a BaseManager",
    }))
    emit("queue_throughput", results)


if __name__ == "__main__":
    main()
