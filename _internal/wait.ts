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
