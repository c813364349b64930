/**
 * `AsyncResult`: the handle `Pool.applyAsync()` and `Pool.mapAsync()`
 * return, Python's `multiprocessing.pool.AsyncResult`.
 *
 * @module
 */

import { TimeoutError } from "../_internal/errors.ts";
import { checkTimeout, type WaitOptions } from "../_internal/wait.ts";

/**
 * Options of {@linkcode AsyncResult.get} and {@linkcode AsyncResult.wait}
 * (and of `Future.result()` / `Future.exception()`): the `timeout` of
 * {@linkcode WaitOptions}, most milliseconds to wait (these waits take no
 * `signal`). When it passes, `wait()` resolves and `get()` rejects with
 * `TimeoutError`, as in Python.
 *
 * @example
 * ```ts
 * import { Event, Pool, type ResultWaitOptions } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export async function waitFor(event) { await event.wait(); }
 * const waitFor = { module: import.meta.resolve("../examples/workers.ts"), export: "waitFor" };
 *
 * await using pool = new Pool({ processes: 1 });
 * const done = new Event();
 * const result = pool.applyAsync(waitFor, [done]);
 * const options: ResultWaitOptions = { timeout: 10 };
 * await result.wait(options); // gives up after 10 ms: the task still waits
 * equal(result.ready(), false);
 * done.set();
 * await result.wait();
 * equal(result.ready(), true);
 * ```
 */
export type ResultWaitOptions = Pick<WaitOptions, "timeout">;

/**
 * Callbacks of {@linkcode AsyncResult}, as Python's `callback` and `error_callback`.
 *
 * @example
 * ```ts
 * import { AsyncResult, type ResultCallbacks } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * let seen = 0;
 * const callbacks: ResultCallbacks<number> = { callback: (value) => (seen = value) };
 * await new AsyncResult(Promise.resolve(7), callbacks);
 * equal(seen, 7);
 * ```
 */
export interface ResultCallbacks<T> {
  /** Called with the value when the work succeeds. */
  callback?: (value: T) => void;
  /** Called with the error when the work fails. */
  errorCallback?: (error: Error) => void;
}

/**
 * The result of work handed to a pool, available later: Python's
 * `AsyncResult`, and a `PromiseLike`, so `await result` works too.
 *
 * - An error nobody asks for is kept, not reported as an unhandled
 *   rejection (Python keeps it until `get()`); `await result` and `get()`
 *   reject with it.
 * - `callback` / `errorCallback` run once, when the work settles, in this
 *   thread; an error they throw is reported as uncaught.
 *
 * @typeParam T The value's type.
 *
 * @example
 * ```ts
 * import { AsyncResult, Pool } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export function square(n) { return n * n; }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 *
 * await using pool = new Pool({ processes: 1 });
 * const result: AsyncResult<number> = pool.applyAsync(square, [6]);
 * equal(await result.get({ timeout: 60_000 }), 36);
 * equal(result.ready(), true);
 * equal(result.successful(), true);
 * ```
 */
export class AsyncResult<T> implements PromiseLike<T> {
  #promise: Promise<T>;
  #state: "pending" | "ok" | "error" = "pending";

  /**
   * Wraps a promise of the work's value (the pool creates these).
   *
   * @param promise Settles with the work's value or error.
   * @param callbacks Called when it settles.
   */
  constructor(promise: Promise<T>, callbacks: ResultCallbacks<T> = {}) {
    this.#promise = promise;
    promise.then(
      (value) => {
        this.#state = "ok";
        callbacks.callback?.(value);
      },
      (error) => {
        this.#state = "error";
        callbacks.errorCallback?.(error);
      },
    );
  }

  /**
   * The value, once the work is done.
   *
   * @param options `timeout`: most milliseconds to wait.
   * @returns The value.
   * @throws {TimeoutError} If the timeout passes first (the work goes on).
   * @throws {Error} The work's own error, with its class name, message and the worker's stack.
   */
  get(options: ResultWaitOptions = {}): Promise<T> {
    const { timeout } = options;
    checkTimeout(timeout, "get the result");
    if (timeout === undefined || timeout === Infinity || this.#state !== "pending") {
      return this.#promise;
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new TimeoutError(`Cannot get the result within ${timeout} ms: it is not ready`)),
        Math.min(timeout, 2 ** 31 - 1),
      );
      this.#promise.then(resolve, reject).finally(() => clearTimeout(timer));
    });
  }

  /**
   * Waits until the work is done, or the timeout passes; never rejects.
   *
   * @param options `timeout`: most milliseconds to wait.
   */
  wait(options: ResultWaitOptions = {}): Promise<void> {
    return this.get(options).then(() => {}, () => {});
  }

  /** Whether the work is done (successfully or not). */
  ready(): boolean {
    return this.#state !== "pending";
  }

  /**
   * Whether the work succeeded.
   *
   * @throws {Error} If it is not done yet, as Python's `ValueError`.
   */
  successful(): boolean {
    if (this.#state === "pending") {
      throw new Error("Cannot tell whether the work succeeded as it is not done yet: wait() first");
    }
    return this.#state === "ok";
  }

  /**
   * Makes `await result` work: settles like {@linkcode AsyncResult.get}.
   *
   * @param onfulfilled Called with the value.
   * @param onrejected Called with the error.
   * @returns A promise of what the callback returns.
   */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#promise.then(onfulfilled, onrejected);
  }
}
