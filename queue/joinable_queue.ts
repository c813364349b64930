/**
 * `JoinableQueue`: Python's `multiprocessing.JoinableQueue`.
 *
 * @module
 */

import { type HandleData, registerReviver } from "../_internal/codec.ts";
import { reviveQueue } from "./_revive.ts";
import { Queue, type QueueOptions } from "./queue.ts";

/**
 * A {@linkcode Queue} that counts unfinished tasks: every `put()` adds one,
 * every `taskDone()` removes one, and `join()` waits until none is left.
 *
 * - `taskDone()` once too often throws, like Python's
 *   `ValueError: task_done() called too many times`.
 * - `join()` resolves at once when no task is unfinished; with `{ timeout }`
 *   it resolves `false` if tasks remain when it expires.
 * - Better than Python: if a consumer process dies after `get()` and before
 *   its `taskDone()` reached the hub, its items are **redelivered** to the
 *   other consumers (at-least-once delivery), so nothing is silently lost
 *   and `join()` does not hang forever. An item whose `taskDone()` Promise
 *   has resolved is never redelivered. A consumer that returns normally
 *   keeps Python's semantics (its unacknowledged items stay unfinished).
 *
 * @example Wait until every item is processed
 * ```ts
 * import { JoinableQueue } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const q = new JoinableQueue<string>();
 * await q.put("bun 0");
 * equal(await q.join({ timeout: 0 }), false); // one task unfinished
 * equal(await q.get(), "bun 0");
 * await q.taskDone(); // awaiting is optional: it resolves once the hub has recorded it
 * equal(await q.join(), true);
 * ```
 */
export class JoinableQueue<T = unknown> extends Queue<T> {
  /** Marks instances as joinable. */
  protected static override readonly joinable: boolean = true;
  /** The reviver kind of this class's handles. */
  protected static override readonly handleKind: string = "joinable-queue";
  /** The module that registers that reviver. */
  protected static override readonly handleModule: string = import.meta.url;

  static {
    registerReviver("joinable-queue", (data: HandleData) => reviveQueue(JoinableQueue, data));
  }

  /**
   * Marks one task (an item from `get()`) as done.
   *
   * - The acknowledgement is sent at once (it leaves this process in the
   *   current turn of the event loop, batched with the other calls of that
   *   turn), and the returned Promise resolves once the hub has recorded it:
   *   from then on the item is never redelivered, even if this process is
   *   killed. Ignoring the Promise keeps Python's behaviour (`task_done()`
   *   returns nothing); it never rejects unhandled.
   *
   * @returns Resolves when the hub has recorded the acknowledgement.
   * @throws {Error} If called more times than items were put (synchronously,
   *   like Python's `ValueError`); the Promise rejects if the hub cannot be
   *   reached, so the acknowledgement may not have been recorded.
   */
  taskDone(): Promise<void> {
    return this.markTaskDone();
  }

  /**
   * Waits until every item put has been marked done.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns `true` when no task is unfinished, `false` if the timeout expired first.
   */
  join(options: QueueOptions = {}): Promise<boolean> {
    return this.waitAllDone(options);
  }

  /** The number of unfinished tasks (a snapshot). */
  unfinishedTasks(): number {
    return this.unfinished();
  }
}
