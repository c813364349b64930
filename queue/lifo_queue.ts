/**
 * `LifoQueue`: Python's `queue.LifoQueue`, shared by processes and threads.
 *
 * @module
 */

import { type HandleData, registerReviver } from "../_internal/codec.ts";
import type { QueueOrderName } from "../_internal/hub_queue_object.ts";
import { reviveQueue } from "./_revive.ts";
import { TaskQueue } from "./task_queue.ts";

/**
 * A last-in, first-out queue (a stack) shared by processes and threads:
 * `get()` returns the item put most recently. Everything else is
 * {@linkcode Queue}'s: `maxsize`, `put`/`get` with `{ timeout, signal }`,
 * `Full`/`Empty`, `close()`, snapshots, passing it to children.
 *
 * Each `get()` takes the newest item the queue holds when the queue's hub
 * answers it (a `Queue` consumer fetches items ahead; this one cannot), so
 * an item put while a consumer works comes out before older ones.
 *
 * It is a {@linkcode TaskQueue}, as Python's is a `queue.Queue`: `taskDone()`
 * marks an item from `get()` done and `join()` waits until every item put
 * is done (the items of a consumer that dies stay unfinished, as in Python).
 *
 * @example
 * ```ts
 * import { LifoQueue } from "@multiproc/multiproc";
 * import { deepEqual } from "node:assert/strict";
 *
 * const stack = new LifoQueue<number>();
 * for (const n of [1, 2, 3]) await stack.put(n);
 * deepEqual([await stack.get(), await stack.get(), await stack.get()], [3, 2, 1]);
 * ```
 *
 * @example Tasks marked done, and a producer that waits for them
 * ```ts
 * import { LifoQueue } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const tasks = new LifoQueue<string>();
 * await tasks.put("older");
 * await tasks.put("newer");
 * equal(await tasks.get(), "newer");
 * await tasks.taskDone();
 * equal(tasks.unfinishedTasks(), 1);
 * equal(await tasks.join({ timeout: 10 }), false); // "older" is not done yet
 * equal(await tasks.get(), "older");
 * await tasks.taskDone();
 * equal(await tasks.join(), true);
 * ```
 */
export class LifoQueue<T = unknown> extends TaskQueue<T> {
  /** Items come out newest first. */
  protected static override readonly order: QueueOrderName = "lifo";
  /** The reviver kind of this class's handles. */
  protected static override readonly handleKind: string = "lifo-queue";
  /** The module that registers that reviver. */
  protected static override readonly handleModule: string = import.meta.url;

  static {
    registerReviver("lifo-queue", (data: HandleData) => reviveQueue(LifoQueue, data));
  }
}
