/**
 * `asCompleted()`: Python's `concurrent.futures.as_completed`.
 *
 * @module
 */

import { TimeoutError } from "../_internal/errors.ts";
import { checkTimeout } from "../_internal/wait.ts";
import type { Future } from "./future.ts";

/**
 * Options of {@linkcode asCompleted}.
 *
 * @example
 * ```ts
 * import { asCompleted, type AsCompletedOptions, Future } from "@multiproc/multiproc";
 * import { rejects } from "node:assert/strict";
 *
 * const options: AsCompletedOptions = { timeout: 5 };
 * const never = new Future(); // nothing will settle it
 * await rejects(Array.fromAsync(asCompleted([never], options)), { name: "TimeoutError" });
 * ```
 */
export interface AsCompletedOptions {
  /** Milliseconds from the call after which waiting for the next future throws `TimeoutError`. */
  timeout?: number;
}

/**
 * Yields the futures as they complete (finished or cancelled): those already
 * done first, each future once even if given twice.
 *
 * A `Future` is thenable, so TypeScript types the variable of
 * `for await (const future of asCompleted(futures))` as the future's result;
 * at run time it is the future: `await future` gives its result (or throws
 * its error) either way.
 *
 * @param futures The futures.
 * @param options `timeout`.
 * @returns The futures in completion order.
 * @throws {TimeoutError} When the timeout passes before every future is done.
 *
 * @example
 * ```ts
 * import { asCompleted, ThreadPoolExecutor } from "@multiproc/multiproc";
 * import { deepEqual } from "node:assert/strict";
 *
 * // examples/workers.ts: export function square(n) { return n * n; }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 * await using executor = new ThreadPoolExecutor({ maxWorkers: 2 });
 * const futures = [2, 3].map((n) => executor.submit(square, n));
 * const seen: unknown[] = [];
 * for await (const future of asCompleted(futures)) seen.push(await future);
 * deepEqual(seen.sort(), [4, 9]);
 * ```
 */
// deno-lint-ignore no-explicit-any
export function asCompleted<F extends Future<any>>(
  futures: Iterable<F>,
  options: AsCompletedOptions = {},
): AsyncIterableIterator<F> {
  const { timeout } = options;
  checkTimeout(timeout, "wait for futures to complete");
  const deadline = timeout === undefined || timeout === Infinity ? Infinity : Date.now() + timeout;
  const pending = new Set(futures);
  const total = pending.size;
  const finished: F[] = [];
  let wake: (() => void) | undefined;
  for (const future of pending) {
    future.addDoneCallback(() => {
      finished.push(future);
      wake?.();
    });
  }
  // Not an async generator: `yield` there would await each future (it is thenable).
  const next = async (): Promise<IteratorResult<F, undefined>> => {
    for (;;) {
      while (finished.length > 0) {
        const future = finished.shift()!;
        if (pending.delete(future)) return { value: future, done: false };
      }
      if (pending.size === 0) return { value: undefined, done: true };
      await new Promise<void>((resolve, reject) => {
        const timer = deadline === Infinity ? undefined : setTimeout(() => {
          wake = undefined;
          reject(
            new TimeoutError(
              `Cannot wait for futures to complete: ${pending.size} (of ${total}) ` +
                `unfinished after ${timeout} ms`,
            ),
          );
        }, Math.max(0, deadline - Date.now()));
        wake = () => {
          wake = undefined;
          clearTimeout(timer);
          resolve();
        };
      });
    }
  };
  return {
    next,
    return: (value?: unknown) => {
      pending.clear();
      return Promise.resolve({ value: value as undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
