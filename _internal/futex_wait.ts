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
