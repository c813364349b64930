"""Helpers shared by the Python baseline benchmarks (standard library only).

Every benchmark script prints exactly one JSON line to stdout when it finishes;
everything else (progress, warnings) goes to stderr so that the Deno runner can
parse stdout without filtering.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import threading
from typing import Any, Callable, Iterable

# Upper bound for any single wait in the parent (children ready, work done,
# join). Generous for a noisy 2-core machine, but small enough that a hang
# turns into an error well inside the 60 s budget instead of a stuck CI job.
WAIT_TIMEOUT = 20.0


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="shrink sizes ~10x and use 3 repetitions (CI smoke run)",
    )
    return parser.parse_args()


def repetitions(quick: bool) -> int:
    return 3 if quick else 5


def log(*parts: Any) -> None:
    print(*parts, file=sys.stderr, flush=True)


def result(
    case: str,
    unit: str,
    samples: list[float],
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One entry of "results": the median, with the spread kept in detail.

    The machine is noisy, so the median is the headline number; min/max and
    the raw samples stay in detail to show how much the runs disagreed.
    """
    value = statistics.median(samples)
    log(f"  {case}: {value:.4g} {unit} (n={len(samples)}, "
        f"min={min(samples):.4g}, max={max(samples):.4g})")
    return {
        "case": case,
        "unit": unit,
        "value": _round(value),
        "n": len(samples),
        "detail": {
            "min": _round(min(samples)),
            "max": _round(max(samples)),
            "samples": [_round(s) for s in samples],
            **(detail or {}),
        },
    }


def emit(bench: str, results: list[dict[str, Any]], **extra: Any) -> None:
    line = {
        "bench": bench,
        "results": results,
        "python": platform.python_version(),
        **extra,
    }
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def _round(x: float) -> float:
    # Four significant digits is far beyond what a noisy machine can resolve,
    # and keeps the JSON readable.
    return float(f"{x:.4g}")


def wait_ready(ready_queue: Any, count: int) -> None:
    """Collect one ready message per child, failing instead of hanging."""
    for _ in range(count):
        ready_queue.get(timeout=WAIT_TIMEOUT)


def join_all(procs: Iterable[Any], timeout: float = WAIT_TIMEOUT) -> None:
    """Join every process; a child still alive after the timeout, or one that
    exited with a non-zero code, is an error (its numbers would be wrong)."""
    procs = list(procs)
    for p in procs:
        p.join(timeout)
    alive = [p for p in procs if p.is_alive()]
    if alive:
        raise TimeoutError(f"{len(alive)} child process(es) did not finish")
    failed = [(p.name, p.exitcode) for p in procs if p.exitcode != 0]
    if failed:
        raise RuntimeError(f"child process(es) failed: {failed}")


def stop_all(procs: Iterable[Any]) -> None:
    """Best-effort cleanup on the error path: nothing may outlive the script."""
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(2)
        if p.is_alive():
            p.kill()
            p.join(2)


def call_with_timeout(fn: Callable[[], Any], timeout: float = WAIT_TIMEOUT) -> None:
    """Run a blocking call that has no timeout parameter of its own
    (JoinableQueue.join) in a helper thread, so the caller can give up."""
    waiter = threading.Thread(target=fn, daemon=True)
    waiter.start()
    waiter.join(timeout)
    if waiter.is_alive():
        raise TimeoutError(f"{getattr(fn, '__qualname__', fn)} did not return")
