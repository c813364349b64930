/**
 * `Future`: what `Executor.submit()` returns, Python's
 * `concurrent.futures.Future`.
 *
 * @module
 */

import { CancelledError, TimeoutError } from "../_internal/errors.ts";
import { registerFuture } from "./_future_control.ts";
import { checkTimeout } from "./_timeout.ts";
import type { ResultWaitOptions } from "./async_result.ts";

type State = "pending" | "running" | "cancelled" | "finished";

/**
 * The eventual result of a task submitted to an executor: Python's
 * `concurrent.futures.Future`, and a `PromiseLike` (`await future`).
 *
 * - `pending` → `running` (sent to a worker) → `finished`; or `pending` →
 *   `cancelled` by {@linkcode Future.cancel}, which succeeds only while the
 *   task waits in the queue, as in Python.
 * - An error nobody asks for is kept, not reported as an unhandled
 *   rejection; `await future` and `result()` reject with it.
 *
 * @typeParam T The task's result type.
 *
 * @example
 * ```ts
 * import { ProcessPoolExecutor } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export function square(n) { return n * n; }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 *
 * await using executor = new ProcessPoolExecutor({ maxWorkers: 1 });
 * const future = executor.submit(square, 4);
 * let called = false;
 * future.addDoneCallback(() => (called = true));
 * equal(await future.result({ timeout: 60_000 }), 16);
 * equal(future.done(), true);
 * equal(await future.exception(), null);
 * equal(called, true);
 * ```
 */
export class Future<T = unknown> implements PromiseLike<T> {
  #state: State = "pending";
  #promise: Promise<T>;
  #resolve!: (value: T) => void;
  #reject!: (error: Error) => void;
  #error: Error | null = null;
  #callbacks: ((future: Future<T>) => void)[] = [];
  #dropper: (() => boolean) | undefined;
  #cancelling = false;

  /** Creates a pending future (executors create them; useful in tests). */
  constructor() {
    this.#promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#promise.catch(() => {}); // kept until asked for, as Python does
    registerFuture(this, {
      setRunning: () => {
        if (this.#state === "pending") this.#state = "running";
      },
      resolve: (value) => this.#settle(undefined, value as T),
      reject: (error) => {
        if (!this.#cancelling) this.#settle(error);
      },
      onCancel: (dropper) => void (this.#dropper = dropper),
      error: () => this.#error,
    });
  }

  /**
   * Cancels the task if it has not been sent to a worker yet.
   *
   * @returns Whether the future is cancelled now (`false` when it is running or finished).
   */
  cancel(): boolean {
    if (this.#state === "cancelled") return true;
    if (this.#state !== "pending") return false;
    this.#cancelling = true;
    const dropped = this.#dropper ? this.#dropper() : true;
    this.#cancelling = false;
    if (!dropped) return false;
    this.#state = "cancelled";
    this.#error = new CancelledError("Cannot get the result as the future was cancelled");
    this.#reject(this.#error);
    this.#runCallbacks();
    return true;
  }

  /** Whether the future was cancelled. */
  cancelled(): boolean {
    return this.#state === "cancelled";
  }

  /** Whether the task has been sent to a worker and has not finished. */
  running(): boolean {
    return this.#state === "running";
  }

  /** Whether the future is cancelled or finished. */
  done(): boolean {
    return this.#state === "cancelled" || this.#state === "finished";
  }

  /**
   * The task's result.
   *
   * @param options `timeout`: most milliseconds to wait.
   * @returns The result.
   * @throws {TimeoutError} If the timeout passes first.
   * @throws {CancelledError} If the future was cancelled.
   * @throws {Error} The task's own error (class name, message, the worker's stack).
   */
  result(options: ResultWaitOptions = {}): Promise<T> {
    return this.#within(options, "result").then(() => this.#promise);
  }

  /**
   * The task's error, or `null` if it returned.
   *
   * @param options `timeout`: most milliseconds to wait.
   * @returns The error, or `null`.
   * @throws {TimeoutError} If the timeout passes first.
   * @throws {CancelledError} If the future was cancelled.
   */
  exception(options: ResultWaitOptions = {}): Promise<Error | null> {
    return this.#within(options, "exception").then(() => {
      if (this.#state === "cancelled") throw this.#error;
      return this.#error;
    });
  }

  /**
   * Calls `callback(future)` when the future is done (at once if it is).
   * An error the callback throws is printed and ignored, as in Python.
   *
   * @param callback Called with this future.
   */
  addDoneCallback(callback: (future: Future<T>) => void): void {
    if (this.done()) this.#call(callback);
    else this.#callbacks.push(callback);
  }

  /**
   * Makes `await future` work: settles like {@linkcode Future.result}.
   *
   * @param onfulfilled Called with the result.
   * @param onrejected Called with the error.
   * @returns A promise of what the callback returns.
   */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#promise.then(onfulfilled, onrejected);
  }

  /** A Python-like description, e.g. `<Future state=finished>`. */
  toString(): string {
    return `<Future state=${this.#state}>`;
  }

  #within(options: ResultWaitOptions, what: string): Promise<void> {
    const { timeout } = options;
    checkTimeout(timeout, `Cannot get the ${what} of the future`);
    const settled = this.#promise.then(() => {}, () => {});
    if (timeout === undefined || timeout === Infinity || this.done()) return settled;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new TimeoutError(`Cannot get the ${what} of the future within ${timeout} ms`)),
        Math.min(timeout, 2 ** 31 - 1),
      );
      settled.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #settle(error: Error | undefined, value?: T): void {
    if (this.done()) return;
    this.#state = "finished";
    if (error) {
      this.#error = error;
      this.#reject(error);
    } else this.#resolve(value as T);
    this.#runCallbacks();
  }

  #runCallbacks(): void {
    for (const callback of this.#callbacks.splice(0)) this.#call(callback);
  }

  #call(callback: (future: Future<T>) => void): void {
    try {
      callback(this);
    } catch (error) {
      console.error(`Exception calling callback for ${this}:`, error);
    }
  }
}
