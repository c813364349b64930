/**
 * Waiting on a Promise with Python's `join(timeout)` semantics, and the one
 * validator of every `timeout` option.
 *
 * @module
 */

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
