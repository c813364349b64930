/**
 * `JoinableQueue`: Python's `multiprocessing.JoinableQueue`.
 *
 * @module
 */

import { type HandleData, registerReviver } from "../_internal/codec.ts";
import { checkTimeout } from "../_internal/shared.ts";
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
    // Too many for certain only if this object has acknowledged every item it took (else the
    // item is still unfinished: it was taken from the hub, and only this object can have
    // acknowledged it), and if the published count, less the calls still on their way to the
    // hub, is spent (the hub may have counted some of those already: it publishes before it
    // answers; the hub checks again in any case).
    if (this.taken - this.#done <= 0 && this.hubStatus("unfinished") - this.#inFlight <= 0) {
      throw new Error("Cannot mark a task done: task_done() called too many times");
    }
    this.#inFlight++;
    this.#done++;
    // Calls made in a burst travel as one request; their count is settled when it is answered,
    // and they share one Promise (no allocation per call).
    const reply = this.hubAppend("queue.taskDone");
    let batch = this.#batch;
    if (batch?.reply !== reply) {
      const created = { reply, count: 0, recorded: reply.then(() => {}) };
      const settle = () => {
        this.#inFlight -= created.count;
      };
      reply.then(settle, settle);
      created.recorded.catch(() => {}); // A caller that ignores it sees no unhandled rejection.
      this.#batch = batch = created;
    }
    batch.count++;
    return batch.recorded;
  }

  #inFlight = 0;
  /** taskDone() calls made on this object. */
  #done = 0;
  /** The batch of acknowledgements being filled: its reply, how many it carries, their Promise. */
  #batch: { reply: Promise<unknown>; count: number; recorded: Promise<void> } | undefined;

  /**
   * Waits until every item put has been marked done.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns `true` when no task is unfinished, `false` if the timeout expired first.
   */
  async join(options: QueueOptions = {}): Promise<boolean> {
    checkTimeout(options.timeout, "join queue");
    return await this.hubCall("queue.join", options) as boolean;
  }

  /** The number of unfinished tasks (a snapshot). */
  unfinishedTasks(): number {
    return this.hubStatus("unfinished");
  }
}
