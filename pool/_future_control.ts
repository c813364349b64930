/**
 * How an executor settles the `Future`s it hands out, without making those
 * methods public (Python documents `set_result` and friends as "for
 * executors and tests only"; here they are simply not on the class). The
 * Future class hands its privileged operations over once, when it is
 * defined.
 *
 * @module
 */

import type { Future } from "./future.ts";

/** What an executor can do to a future. */
export interface FutureAccess {
  /** The task was sent to a worker: `cancel()` no longer succeeds. */
  setRunning(future: Future<unknown>): void;
  resolve(future: Future<unknown>, value: unknown): void;
  reject(future: Future<unknown>, error: Error): void;
  /** Sets what `cancel()` asks on a pending future: whether the task could be dropped. */
  onCancel(future: Future<unknown>, dropper: { drop(): boolean }): void;
  /** The error it finished with, if any (read synchronously). */
  error(future: Future<unknown>): Error | null;
}

let access: FutureAccess | undefined;

/** Called once by the Future class. */
export function grantFutureAccess(granted: FutureAccess): void {
  access = granted;
}

/** The privileged operations on futures. */
export function futureAccess(): FutureAccess {
  return access!;
}
