/**
 * `JoinableQueue`: Python's `multiprocessing.JoinableQueue`.
 *
 * @module
 */

import { type HandleData, registerReviver } from "../_internal/codec.ts";
import { reviveQueue } from "./_revive.ts";
import { TaskQueue } from "./task_queue.ts";

/**
 * A {@linkcode TaskQueue} (a queue that counts unfinished tasks: every
 * `put()` adds one, every `taskDone()` removes one, and `join()` waits until
 * none is left) that delivers a dead consumer's unfinished items again.
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
export class JoinableQueue<T = unknown> extends TaskQueue<T> {
  /** Marks instances as joinable. */
  protected static override readonly joinable: boolean = true;
  /** The reviver kind of this class's handles. */
  protected static override readonly handleKind: string = "joinable-queue";
  /** The module that registers that reviver. */
  protected static override readonly handleModule: string = import.meta.url;

  static {
    registerReviver("joinable-queue", (data: HandleData) => reviveQueue(JoinableQueue, data));
  }
}
