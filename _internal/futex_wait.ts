/**
 * Waiting on a word of shared memory without blocking the event loop, as
 * every blocking call of the library must (`Atomics.wait` would freeze the
 * main thread): `Atomics.waitAsync` in a loop, with a timeout, an abort
 * signal, and a timer that keeps the program alive meanwhile (a pending
 * `waitAsync` does not, but a blocking call should, as in Python).
 *
 * @module
 */

/**
 * Waits while `words[index] === value`.
 *
 * @returns `true` once the word differs, `false` if `timeout` ms passed first.
 * @throws {unknown} The signal's reason (as a rejection) if it aborts first.
 */
export async function waitWhileEqual(
  words: Int32Array,
  index: number,
  value: number,
  timeout?: number,
  signal?: AbortSignal,
): Promise<boolean> {
  signal?.throwIfAborted();
  const deadline = timeout === undefined ? Infinity : performance.now() + timeout;
  while (Atomics.load(words, index) === value) {
    const left = deadline - performance.now();
    if (left <= 0) return false;
    const waiting = Atomics.waitAsync(words, index, value, Math.min(left, 2 ** 31 - 1));
    if (!waiting.async) continue;
    const keepAlive = setTimeout(() => {}, 2 ** 31 - 1);
    let onAbort: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        if (signal) {
          onAbort = () => reject(signal.reason);
          signal.addEventListener("abort", onAbort, { once: true });
        }
        waiting.value.then(() => resolve());
      });
    } finally {
      clearTimeout(keepAlive);
      if (onAbort) signal!.removeEventListener("abort", onAbort);
    }
  }
  return true;
}

/** Word of a condition's sequence (see {@linkcode wakeSequence}). */
export const SEQ = 0;
/** Threads waiting on the sequence. */
export const SEQ_WAITERS = 1;
/** Aborted waits whose futex registration may linger (see {@linkcode wakeSequence}). */
export const SEQ_STALE = 2;

/**
 * Wakes up to `n` threads waiting for the sequence word to change (all
 * without `n`): a condition variable's notify. Waiters that had not yet gone
 * to sleep see the change and return too, like the spurious wake-ups Python
 * allows; after an aborted wait, whose registration may linger and swallow a
 * wake-up, everyone is woken.
 */
export function wakeSequence(words: Int32Array, n?: number): void {
  if (Atomics.load(words, SEQ_WAITERS) === 0) return;
  Atomics.add(words, SEQ, 1);
  if (n === undefined || Atomics.load(words, SEQ_STALE) > 0) {
    Atomics.store(words, SEQ_STALE, 0);
    Atomics.notify(words, SEQ);
  } else {
    Atomics.notify(words, SEQ, n);
  }
}
