/**
 * Waiting on a Promise with Python's `join(timeout)` semantics, and the one
 * validator of every `timeout` option.
 *
 * @module
 */

/**
 * Options of every call that can block: how long it may wait, and how to
 * cancel it (`Lock.acquire`, `Event.wait`, `Queue.get`, `Process.join`, ...).
 *
 * - `timeout`: when it passes, a call for which Python returns `False`
 *   resolves `false` (`acquire`, `wait`), one for which Python raises rejects
 *   (`Queue.get` with `Empty`, `Queue.put` with `Full`, `Barrier.wait` with
 *   `BrokenBarrierError`), and `join()` resolves (the process or thread may
 *   still be running).
 * - `signal`: the call rejects with `signal.reason` when it aborts; an
 *   already aborted signal rejects at once.
 * - Listeners and timers are removed when the call settles, and waiters are
 *   served in the order they came (FIFO).
 *
 * @example Wait at most 10 ms, or until aborted
 * ```ts
 * import { Event, Lock, type WaitOptions } from "@multiproc/multiproc";
 * import { equal, rejects } from "node:assert/strict";
 *
 * const ev = new Event();
 * const options: WaitOptions = { timeout: 10 };
 * equal(await ev.wait(options), false); // not set within 10 ms: Python's wait(0.01)
 * ev.set();
 * equal(await ev.wait(options), true);
 *
 * const lock = new Lock();
 * await lock.acquire();
 * equal(await lock.acquire({ timeout: 0 }), false); // Python's acquire(False)
 * await rejects(lock.acquire({ signal: AbortSignal.abort() })); // rejects at once
 * lock.release();
 * ```
 */
export interface WaitOptions {
  /**
   * Most milliseconds to wait (`0`: do not wait; `Infinity` or no timeout:
   * wait as long as it takes).
   *
   * @default {undefined}
   */
  timeout?: number;
  /**
   * Cancels the wait: the call rejects with `signal.reason`.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/** The longest delay `setTimeout` takes (a longer one fires at once); longer waits are unlimited. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Validates a `timeout` option: a non-negative number of milliseconds
 * (`Infinity` included), or `undefined` for no limit.
 *
 * @param timeout The option as given.
 * @param what What was attempted, e.g. `acquire lock`, for the message.
 * @throws {TypeError} If it is not a number, or is NaN.
 * @throws {RangeError} If it is negative.
 */
export function checkTimeout(timeout: unknown, what: string): void {
  if (timeout === undefined) return;
  if (typeof timeout !== "number") {
    throw new TypeError(
      `Cannot ${what} as timeout is not a number: received ${
        timeout === null ? "null" : typeof timeout
      }`,
    );
  }
  if (Number.isNaN(timeout)) {
    throw new TypeError(
      `Cannot ${what} as timeout is NaN: pass a number of milliseconds, or no timeout to wait without a limit`,
    );
  }
  if (timeout < 0) {
    throw new RangeError(
      `Cannot ${what} as timeout is negative: received ${timeout}; use 0 to not wait`,
    );
  }
}

/**
 * Resolves when `promise` settles or `timeout` ms pass (whichever is first;
 * the caller then checks the state itself, as after Python's `join`), and
 * rejects with the signal's reason if `signal` aborts first. Listeners and
 * timers are removed when it settles.
 */
export function waitAtMost(
  promise: Promise<unknown>,
  timeout?: number,
  signal?: AbortSignal,
): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const timer = timeout === undefined || timeout > MAX_TIMER_MS
      ? undefined
      : setTimeout(done, Math.max(0, timeout));
    const onAbort = () => {
      cleanup();
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(done, done);
    function cleanup() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
    function done() {
      cleanup();
      resolve();
    }
  });
}

/**
 * Settles like `promise`, but rejects with the signal's reason as soon as
 * `signal` aborts, leaving `promise` to settle on its own (a wait that
 * cannot be cancelled, such as `Atomics.waitAsync` or a futex call);
 * `onAbandon` runs then, so the caller can account for the abandoned wait.
 */
export function abandonOnAbort<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  onAbandon: () => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      onAbandon();
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then((value) => {
      signal.removeEventListener("abort", onAbort);
      resolve(value);
    });
  });
}
