/**
 * A counting semaphore in shared memory, the state of a `Semaphore` created
 * on a process's main thread: that process's threads operate on it
 * directly, and its hub operates on the same words for other processes, so
 * there is one count for everyone and a release wakes waiters everywhere
 * (`Atomics.notify` reaches the hub's helper thread too).
 *
 * Words: [permits, permits returned for a holder that died (the next
 * acquirers learn it), shared with another process (0/1)].
 *
 * @module
 */

import { waitWhileEqual } from "./futex_wait.ts";

/** Free permits. */
export const COUNT = 0;
/** Permits released on behalf of a dead holder and not yet handed out. */
export const DIED = 1;
/** 1 once the semaphore has been sent to another process. */
export const SHARED = 2;
/** Number of Int32 words. */
export const WORDS = 3;

/** Takes a permit if one is free now; `undefined` if none, else whether its holder had died. */
export function tryTake(words: Int32Array): boolean | undefined {
  for (;;) {
    const c = Atomics.load(words, COUNT);
    if (c <= 0) return undefined;
    if (Atomics.compareExchange(words, COUNT, c, c - 1) === c) break;
  }
  for (;;) {
    const d = Atomics.load(words, DIED);
    if (d <= 0) return false;
    if (Atomics.compareExchange(words, DIED, d, d - 1) === d) return true;
  }
}

/**
 * Waits for a permit (`timeout` ms at most; `undefined` waits forever).
 *
 * @returns `undefined` on timeout, else whether the permit's holder had died.
 */
export async function take(
  words: Int32Array,
  timeout?: number,
  signal?: AbortSignal,
): Promise<boolean | undefined> {
  signal?.throwIfAborted();
  const deadline = timeout === undefined ? Infinity : performance.now() + timeout;
  for (;;) {
    const got = tryTake(words);
    if (got !== undefined) return got;
    const left = deadline - performance.now();
    if (left <= 0) return undefined;
    if (
      !(await waitWhileEqual(words, COUNT, 0, deadline === Infinity ? undefined : left, signal))
    ) {
      return undefined;
    }
  }
}

/**
 * Returns `n` permits and wakes the waiters (all of them: each re-checks, so
 * an abandoned wait can never swallow a wake-up).
 *
 * @param died Whether they are returned for a holder that died.
 * @throws {Error} If `bound` is given and would be exceeded (nothing is released).
 */
export function give(words: Int32Array, n: number, bound?: number, died = false): void {
  if (bound !== undefined) {
    for (;;) {
      const c = Atomics.load(words, COUNT);
      if (c + n > bound) {
        throw new Error("Cannot release semaphore: semaphore released too many times");
      }
      if (Atomics.compareExchange(words, COUNT, c, c + n) === c) break;
    }
  } else {
    Atomics.add(words, COUNT, n);
  }
  if (died) Atomics.add(words, DIED, n);
  Atomics.notify(words, COUNT);
}
