/**
 * `PriorityQueue`: Python's `queue.PriorityQueue`, shared by processes and
 * threads.
 *
 * @module
 */

import { type HandleData, registerReviver } from "../_internal/codec.ts";
import type { QueueOrderName } from "../_internal/hub_queue_object.ts";
import { reviveQueue } from "./_revive.ts";
import { TaskQueue } from "./task_queue.ts";

/**
 * A queue shared by processes and threads whose `get()` returns the lowest
 * entry, as Python's `queue.PriorityQueue` (a heap) does. Everything else is
 * {@linkcode Queue}'s: `maxsize`, `put`/`get` with `{ timeout, signal }`,
 * `Full`/`Empty`, `close()`, snapshots, passing it to children.
 *
 * Entries are ordered as Python orders them:
 *
 * - numbers (and booleans, and bigints that a number holds exactly) by
 *   value, strings by code point;
 * - arrays, Python's tuples, element by element: `put([priority, item])`,
 *   as Python's `put((priority, item))`. Only the leading elements that are
 *   numbers, strings or arrays of them count: the first other one (an
 *   object, say) and what follows it is the payload. An entry that is not
 *   an array orders as an array of one (`5` as `[5]`).
 * - Beyond Python: entries that tie come out in the order they were put
 *   (Python goes on to compare the payloads, and raises `TypeError` for two
 *   dicts; the `(priority, count, item)` idiom is not needed). Across kinds
 *   numbers come before strings, and strings before arrays (Python raises
 *   `TypeError`).
 * - Only the first 1 KiB of an entry's key counts (a number takes 9 bytes,
 *   a string its UTF-8 bytes and 2): entries that agree that far tie.
 * - An entry with nothing to order it by (an object, `null`, `NaN`) makes
 *   `put()` throw a `TypeError` that says so; the queue is left unchanged.
 *
 * Each `get()` takes the lowest entry the queue holds when the queue's hub
 * answers it (a `Queue` consumer fetches items ahead; this one cannot).
 *
 * It is a {@linkcode TaskQueue}, as Python's is a `queue.Queue`: `taskDone()`
 * marks an item from `get()` done and `join()` waits until every item put
 * is done (the items of a consumer that dies stay unfinished, as in Python).
 *
 * @example Jobs by priority, lowest first
 * ```ts
 * import { PriorityQueue } from "@multiproc/multiproc";
 * import { deepEqual } from "node:assert/strict";
 *
 * const jobs = new PriorityQueue<[number, { name: string }]>();
 * await jobs.put([2, { name: "write the report" }]);
 * await jobs.put([1, { name: "fix the build" }]);
 * await jobs.put([2, { name: "lunch" }]); // ties come out in the order they were put
 * deepEqual(await jobs.get(), [1, { name: "fix the build" }]);
 * deepEqual(await jobs.get(), [2, { name: "write the report" }]);
 * deepEqual(await jobs.get(), [2, { name: "lunch" }]);
 * ```
 *
 * @example Tasks marked done, and a producer that waits for them
 * ```ts
 * import { PriorityQueue } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const tasks = new PriorityQueue<[number, string]>();
 * await tasks.put([2, "later"]);
 * await tasks.put([1, "first"]);
 * for (let i = 0; i < 2; i++) {
 *   await tasks.get();
 *   tasks.taskDone(); // awaiting it is optional
 * }
 * equal(await tasks.join(), true);
 * ```
 */
export class PriorityQueue<T = unknown> extends TaskQueue<T> {
  /** Items come out lowest first. */
  protected static override readonly order: QueueOrderName = "priority";
  /** The reviver kind of this class's handles. */
  protected static override readonly handleKind: string = "priority-queue";
  /** The module that registers that reviver. */
  protected static override readonly handleModule: string = import.meta.url;

  static {
    registerReviver("priority-queue", (data: HandleData) => reviveQueue(PriorityQueue, data));
  }
}
