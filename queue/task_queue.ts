/**
 * `TaskQueue`: Python's `queue.Queue`, with `task_done()` and `join()`,
 * shared by processes and threads; the base of `JoinableQueue`, `LifoQueue`
 * and `PriorityQueue`.
 *
 * @module
 */

import { type HandleData, registerReviver } from "../_internal/codec.ts";
import { reviveQueue } from "./_revive.ts";
import { Queue, type QueueOptions } from "./queue.ts";

/**
 * A first-in-first-out {@linkcode Queue} that counts unfinished tasks, as
 * Python's `queue.Queue` does: every `put()` adds one, every `taskDone()`
 * removes one, and `join()` waits until none is left. Shared by processes
 * and threads like `Queue`.
 *
 * - As in Python, the items a consumer took before it died stay unfinished
 *   (`join()` then waits for them), and nothing is kept for a consumer that
 *   never calls `taskDone()`. A {@linkcode JoinableQueue} (a `TaskQueue`
 *   too) delivers a dead consumer's unfinished items again instead.
 * - `LifoQueue` and `PriorityQueue` are `TaskQueue`s too, as Python's are
 *   `queue.Queue`s: a function that takes a `TaskQueue` takes any of them.
 *
 * @example Workers mark each task done; the producer waits for them
 * ```ts
 * import { TaskQueue } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const tasks = new TaskQueue<string>();
 * await tasks.put("one");
 * await tasks.put("two");
 * equal(tasks.unfinishedTasks(), 2);
 * equal(await tasks.get(), "one");
 * await tasks.taskDone();
 * equal(await tasks.join({ timeout: 10 }), false); // "two" is not done
 * await tasks.get();
 * tasks.taskDone(); // awaiting it is optional
 * equal(await tasks.join(), true);
 * ```
 */
export class TaskQueue<T = unknown> extends Queue<T> {
  /** Counts tasks, as Python's `queue.Queue`. */
  protected static override readonly countsTasks: boolean = true;
  /** The reviver kind of this class's handles. */
  protected static override readonly handleKind: string = "task-queue";
  /** The module that registers that reviver. */
  protected static override readonly handleModule: string = import.meta.url;

  static {
    registerReviver("task-queue", (data: HandleData) => reviveQueue(TaskQueue, data));
  }

  /**
   * Marks one task (an item from `get()`) as done, as Python's `task_done()`.
   *
   * - The acknowledgement is sent at once (it leaves this process in the
   *   current turn of the event loop, batched with the other calls of that
   *   turn), and the returned Promise resolves once the hub has recorded it
   *   (for a `JoinableQueue`: from then on the item is never redelivered,
   *   even if this process is killed). Ignoring the Promise keeps Python's
   *   behaviour (`task_done()` returns nothing); it never rejects unhandled.
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
