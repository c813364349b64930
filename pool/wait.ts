/**
 * `wait()`: Python's `concurrent.futures.wait`.
 *
 * @module
 */

import { futureAccess } from "./_future_control.ts";
import { checkTimeout, type WaitOptions } from "../_internal/wait.ts";
import type { Future } from "./future.ts";

/**
 * Options of {@linkcode wait}: the `timeout` of {@linkcode WaitOptions}
 * (most milliseconds to wait; then what is done so far is returned, never a
 * rejection) and when to return.
 *
 * @example
 * ```ts
 * import { Future, wait, type FutureWaitOptions } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const options: FutureWaitOptions = { timeout: 5, returnWhen: "FIRST_COMPLETED" };
 * const { done, notDone } = await wait([new Future()], options); // times out: no error
 * equal(done.size, 0);
 * equal(notDone.size, 1);
 * ```
 */
export interface FutureWaitOptions extends Pick<WaitOptions, "timeout"> {
  /**
   * When to return: when any future is done (`"FIRST_COMPLETED"`), when
   * any future finishes with an error (`"FIRST_EXCEPTION"`, or when all
   * are done), or when all are done.
   *
   * @default {"ALL_COMPLETED"}
   */
  returnWhen?: "FIRST_COMPLETED" | "FIRST_EXCEPTION" | "ALL_COMPLETED";
}

/**
 * What {@linkcode wait} resolves with: Python's `(done, not_done)`.
 *
 * @typeParam F The futures' type.
 *
 * @example
 * ```ts
 * import { Future, wait, type WaitResult } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const pending = new Future<number>();
 * const result: WaitResult<Future<number>> = await wait([pending], { timeout: 0 });
 * equal(result.notDone.has(pending), true);
 * ```
 */
export interface WaitResult<F> {
  /** The futures done (finished or cancelled). */
  done: Set<F>;
  /** The others. */
  notDone: Set<F>;
}

const WHEN = ["FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"];

/**
 * Waits for futures: all of them, the first, or the first that fails; or
 * until the timeout. Never rejects on timeout: it resolves with the sets as
 * they are.
 *
 * @param futures The futures.
 * @param options `timeout` and `returnWhen`.
 * @returns The done and not-done futures.
 * @throws {TypeError} If `returnWhen` is not one of the three constants.
 *
 * @example
 * ```ts
 * import { ThreadPoolExecutor, wait } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export function fail(message) { throw new Error(message); }
 * const fail = { module: import.meta.resolve("../examples/workers.ts"), export: "fail" };
 * await using executor = new ThreadPoolExecutor({ maxWorkers: 1 });
 * const failing = executor.submit(fail, "no");
 * const { done } = await wait([failing], { returnWhen: "FIRST_EXCEPTION" });
 * equal(done.has(failing), true);
 * equal((await failing.exception())?.message, "no");
 * ```
 */
// deno-lint-ignore no-explicit-any
export async function wait<F extends Future<any>>(
  futures: Iterable<F>,
  options: FutureWaitOptions = {},
): Promise<WaitResult<F>> {
  const { timeout, returnWhen = "ALL_COMPLETED" } = options;
  checkTimeout(timeout, "wait for futures");
  if (!WHEN.includes(returnWhen)) {
    throw new TypeError(
      `Cannot wait for futures as returnWhen is not one of ${WHEN.join(", ")}: received ${
        String(returnWhen)
      }`,
    );
  }
  const all = new Set(futures);
  const split = (): WaitResult<F> => {
    const done = new Set<F>();
    const notDone = new Set<F>();
    for (const f of all) (f.done() ? done : notDone).add(f);
    return { done, notDone };
  };
  const failed = (f: F) => !f.cancelled() && futureAccess().error(f) !== null;
  let left = 0;
  let any = false;
  let anyFailed = false;
  for (const f of all) {
    if (!f.done()) left++;
    else {
      any = true;
      if (failed(f)) anyFailed = true;
    }
  }
  const satisfied = (): boolean =>
    left === 0 || (returnWhen === "FIRST_COMPLETED" && any) ||
    (returnWhen === "FIRST_EXCEPTION" && anyFailed);
  if (satisfied() || timeout === 0) return split();
  await new Promise<void>((resolve) => {
    const timer = timeout === undefined || timeout === Infinity
      ? undefined
      : setTimeout(finish, Math.min(timeout, 2 ** 31 - 1));
    let over = false;
    function finish() {
      if (over) return;
      over = true;
      clearTimeout(timer);
      resolve();
    }
    for (const f of all) {
      if (f.done()) continue;
      f.addDoneCallback(() => {
        left--;
        any = true;
        if (failed(f)) anyFailed = true;
        if (satisfied()) finish();
      });
    }
  });
  return split();
}
