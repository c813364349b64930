/**
 * Waiting on a Promise with Python's `join(timeout)` semantics.
 *
 * @module
 */

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
    const timer = timeout === undefined ? undefined : setTimeout(done, Math.max(0, timeout));
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
