/**
 * `Timer`: Python's `threading.Timer`.
 *
 * @module
 */

import type { TargetRef, TargetSpec } from "../_internal/target.ts";
import { LIBRARY_CLASS } from "./_revive.ts";
import { Thread } from "./thread.ts";

/**
 * A thread that calls a function after `interval` milliseconds, unless
 * {@linkcode Timer.cancel} is called first.
 *
 * - `function` must be exported (it runs in the timer's thread, like any
 *   thread target).
 * - `cancel()` only has an effect while the timer is still waiting.
 *
 * @example Call a function later
 * ```ts
 * import { Queue, Timer } from "@multiproc/multiproc/thread";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export async function square(n, results) { await results.put(n * n); }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 *
 * const results = new Queue<number>();
 * await using t = new Timer(10, square, [6, results]);
 * t.start();
 * equal(await results.get(), 36);
 * await t.join();
 * ```
 *
 * @example Cancel a timer
 * ```ts
 * import { Queue, Timer } from "@multiproc/multiproc/thread";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export async function square(n, results) { await results.put(n * n); }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 *
 * const results = new Queue<number>();
 * await using t = new Timer(60_000, square, [6, results]);
 * t.start();
 * t.cancel(); // the function is never called, and the thread ends at once
 * await t.join();
 * equal(results.empty(), true);
 * ```
 */
export class Timer extends Thread {
  /** How long the timer waits, in milliseconds. */
  interval: number;
  /** Shared flag: 1 once cancelled. */
  cancelled: Int32Array;

  /** Where a thread finds this class (it is not exported by the caller's module). */
  static readonly [LIBRARY_CLASS]: TargetRef = {
    module: import.meta.url,
    export: "Timer",
    hash: 0,
  };

  /**
   * Creates a timer.
   *
   * @param interval Milliseconds to wait before calling `fn`.
   * @param fn An exported function.
   * @param args Arguments for `fn`.
   * @throws {RangeError} If `interval` is negative.
   */
  constructor(interval: number, fn: TargetSpec, args: readonly unknown[] = []) {
    super({ target: fn, args });
    if (typeof interval !== "number" || !(interval >= 0)) {
      throw new RangeError(
        `Cannot create timer as interval must be a number >= 0: received ${interval}`,
      );
    }
    this.interval = interval;
    this.cancelled = new Int32Array(new SharedArrayBuffer(4));
  }

  /** Stops the timer if it has not fired yet. */
  cancel(): void {
    Atomics.store(this.cancelled, 0, 1);
    Atomics.notify(this.cancelled, 0);
  }

  /** Waits for the interval (or a cancel), then calls the function. */
  override async run(): Promise<unknown> {
    const result = Atomics.waitAsync(this.cancelled, 0, 0, this.interval);
    if (result.async) await result.value;
    if (Atomics.load(this.cancelled, 0) === 1) return undefined;
    return super.run();
  }
}
