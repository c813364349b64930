/**
 * `Future`: what `Executor.submit()` returns, Python's
 * `concurrent.futures.Future`.
 *
 * @module
 */

import { CancelledError, TimeoutError } from "../_internal/errors.ts";
import { grantFutureAccess } from "./_future_control.ts";
import { checkTimeout } from "../_internal/wait.ts";
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
  #value: unknown;
  #error: Error | null = null;
  /** Made on first use: most futures of a burst are only awaited once, or not at all. */
  #promise: Promise<T> | undefined;
  // Typed without T, so that a Future<never> is a Future<unknown> too.
  #resolve: ((value: unknown) => void) | undefined;
  #reject: ((error: Error) => void) | undefined;
  // deno-lint-ignore no-explicit-any
  #callbacks: ((future: any) => void)[] | undefined;
  #dropper: { drop(): boolean } | undefined;
  #cancelling = false;

  static {
    grantFutureAccess({
      setRunning: (f) => {
        if (f.#state === "pending") f.#state = "running";
      },
      resolve: (f, value) => f.#settle(undefined, value),
      reject: (f, error) => {
        if (!f.#cancelling) f.#settle(error);
      },
      onCancel: (f, dropper) => void (f.#dropper = dropper),
      error: (f) => f.#error,
    });
  }

  /** Creates a pending future (executors create them; useful in tests). */
  constructor() {}

  /**
   * Cancels the task if it has not been sent to a worker yet.
   *
   * @returns Whether the future is cancelled now (`false` when it is running or finished).
   */
  cancel(): boolean {
    if (this.#state === "cancelled") return true;
    if (this.#state !== "pending") return false;
    this.#cancelling = true;
    const dropped = this.#dropper ? this.#dropper.drop() : true;
    this.#cancelling = false;
    if (!dropped) return false;
    this.#state = "cancelled";
    this.#error = new CancelledError("Cannot get the result as the future was cancelled");
    this.#reject?.(this.#error);
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
    return this.#within(options, "result").then(() => this.#settled());
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
    else (this.#callbacks ??= []).push(callback);
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
    return this.#settled().then(onfulfilled, onrejected);
  }

  /** A Python-like description, e.g. `<Future state=finished>`. */
  toString(): string {
    return `<Future state=${this.#state}>`;
  }

  #within(options: ResultWaitOptions, what: string): Promise<void> {
    const { timeout } = options;
    checkTimeout(timeout, `get the ${what} of the future`);
    const settled = this.#settled().then(() => {}, () => {});
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

  /** The promise of the outcome, made on first use; its rejection is handled (kept until asked). */
  #settled(): Promise<T> {
    if (!this.#promise) {
      if (this.#state === "finished" || this.#state === "cancelled") {
        this.#promise = this.#error
          ? Promise.reject(this.#error)
          : Promise.resolve(this.#value as T);
      } else {
        this.#promise = new Promise<T>((resolve, reject) => {
          this.#resolve = resolve as (value: unknown) => void;
          this.#reject = reject;
        });
      }
      this.#promise.catch(() => {});
    }
    return this.#promise;
  }

  #settle(error: Error | undefined, value?: unknown): void {
    if (this.done()) return;
    this.#state = "finished";
    if (error) {
      this.#error = error;
      this.#reject?.(error);
    } else {
      this.#value = value;
      this.#resolve?.(value);
    }
    this.#runCallbacks();
  }

  #runCallbacks(): void {
    const callbacks = this.#callbacks;
    if (!callbacks) return;
    this.#callbacks = undefined;
    for (const callback of callbacks) this.#call(callback);
  }

  // deno-lint-ignore no-explicit-any
  #call(callback: (future: any) => void): void {
    try {
      callback(this);
    } catch (error) {
      console.error(`Exception calling callback for ${this}:`, error);
    }
  }
}
