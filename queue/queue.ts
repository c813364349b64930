/**
 * `Queue`: Python's `multiprocessing.Queue` (and `queue.Queue`, whose
 * `task_done()` and `join()` are `TaskQueue`'s).
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import type { WaitOptions } from "../_internal/wait.ts";
import type { Item } from "../_internal/protocol.ts";
import { JoinableFront } from "../_internal/backing/queue.ts";
import { type HubQueue, hubQueueFrom, newHubQueue } from "../_internal/backing/queue_hub.ts";
import type { QueueOrderName } from "../_internal/hub_queue_object.ts";
import { queueRevival, reviveQueue } from "./_revive.ts";

export { Empty, Full, QueueClosed } from "../_internal/errors.ts";

/**
 * Options of a blocking queue operation: the {@linkcode WaitOptions} of every
 * blocking call. When `timeout` passes, `put` rejects with `Full` and `get`
 * with `Empty`.
 *
 * @example
 * ```ts
 * import { Empty, Queue, type QueueOptions } from "@multiproc/multiproc";
 * import { rejects } from "node:assert/strict";
 *
 * const q = new Queue<string>();
 * const options: QueueOptions = { timeout: 10 };
 * await rejects(q.get(options), Empty); // nothing came within 10 ms
 * await rejects(q.get({ signal: AbortSignal.abort() })); // an aborted signal rejects at once
 * ```
 */
export type QueueOptions = WaitOptions;

/**
 * A FIFO queue shared by processes and threads.
 *
 * - `await q.put(item)` and `await q.get()` block while the queue is full
 *   (bounded) or empty; with `{ timeout }` they reject with `Full` / `Empty`
 *   (Python's `queue.Full` / `queue.Empty`); `putNowait`/`getNowait` do not
 *   wait. Waiters are served in FIFO order.
 * - Items cross by structured clone (see `Process` args); an item that
 *   cannot be cloned makes `put()` throw a `TypeError` naming it, and the
 *   queue is left unchanged. Shared primitives inside items arrive live.
 * - On an unbounded queue `put()` resolves as soon as the item is encoded and
 *   queued for sending, like Python's feeder thread (a burst of puts waits
 *   only while 64 KiB of items are already queued behind a write to the
 *   socket, so that it does not pile up in memory); a process does not exit
 *   before its items have reached the queue. If it is killed (SIGKILL), puts
 *   that had not reached the queue yet are lost: `await q.flush()` makes
 *   every earlier put durable. A bounded queue's `put()` does the same while
 *   it sees room (the queue's size, published by its hub in shared memory,
 *   plus this object's puts not counted there yet, is below `maxsize`), and
 *   otherwise waits until the hub has put the item in: while it is the only
 *   producer, exactly `maxsize` puts return ahead of the consumers, as in
 *   Python. Items a consumer has fetched ahead and not used yet take room.
 *   With several producers, one may take the room another saw: the hub then
 *   holds the other's item, in order, until there is room (at most `maxsize`
 *   items per producer), and that producer does not exit before it is in.
 * - `qsize()`, `empty()` and `full()` are synchronous snapshots, as in Python.
 * - Beyond Python: `close()` ends the queue for everyone: `put` then throws
 *   `QueueClosed`, `get` drains what is left and then rejects with
 *   `QueueClosed`, and `for await (const item of q)` stops.
 * - The state lives in the creating process's hub (a helper thread); if that
 *   process exits, calls reject with a clear error instead of hanging.
 *
 * @example The seed's Queue(3) lesson
 * ```ts
 * import { Full, Queue } from "@multiproc/multiproc";
 * import { deepEqual, equal, rejects } from "node:assert/strict";
 *
 * const q = new Queue(3);
 * await q.put("hello");
 * await q.put({ a: 1 });
 * await q.put([1, 2, 3, 4]);
 * equal(q.full(), true);
 * await rejects(q.put("one more", { timeout: 0 }), Full);
 * deepEqual([await q.get(), await q.get(), await q.get()], ["hello", { a: 1 }, [1, 2, 3, 4]]);
 * equal(q.empty(), true);
 * ```
 *
 * @example Items from a child process
 * ```ts
 * import { Process, Queue } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export async function square(n, results) { await results.put(n * n); }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 *
 * const results = new Queue<number>();
 * await using p = new Process({ target: square, args: [5, results] });
 * p.start();
 * equal(await results.get(), 25);
 * await p.join();
 * ```
 */
export class Queue<T = unknown> implements Shareable, AsyncIterable<T> {
  #hub: HubQueue;
  #q: JoinableFront<T, Item>;

  /**
   * Creates a queue.
   *
   * @param maxsize Capacity; 0 (or less) means unbounded.
   * @default {0}
   * @throws {TypeError} If `maxsize` is not an integer.
   */
  constructor(maxsize = 0) {
    const reviving = queueRevival.data;
    if (reviving) {
      this.#hub = hubQueueFrom(reviving);
    } else {
      if (!Number.isInteger(maxsize)) {
        throw new TypeError(
          `Cannot create queue as maxsize is not an integer: received ${maxsize}`,
        );
      }
      const cls = new.target as typeof Queue;
      this.#hub = newHubQueue(Math.max(0, maxsize), cls.joinable, cls.order, cls.countsTasks);
    }
    this.#q = new JoinableFront(this.#hub);
    JoinableFront.of.set(this, this.#q as JoinableFront<unknown, unknown>);
  }

  /** Whether instances count unfinished tasks and redeliver a dead consumer's (JoinableQueue). */
  protected static readonly joinable: boolean = false;
  /** Whether instances count unfinished tasks without redelivering them (LifoQueue, PriorityQueue). */
  protected static readonly countsTasks: boolean = false;
  /** The order items come out in (LifoQueue, PriorityQueue). */
  protected static readonly order: QueueOrderName = "fifo";
  /** The reviver kind of this class's handles. */
  protected static readonly handleKind: string = "queue";
  /** The module that registers that reviver. */
  protected static readonly handleModule: string = import.meta.url;

  static {
    registerReviver("queue", (data) => reviveQueue(Queue, data));
  }

  /**
   * Marks one task done (for `JoinableQueue`).
   *
   * @returns Resolves when the hub has recorded it.
   * @throws {Error} If called more times than items were put.
   */
  protected markTaskDone(): Promise<void> {
    return this.#q.taskDone() as Promise<void>;
  }

  /**
   * Waits until every item put has been marked done (for `JoinableQueue`).
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns `true` when no task is unfinished, `false` if the timeout expired first.
   */
  protected waitAllDone(options: QueueOptions): Promise<boolean> {
    return this.#q.join(options);
  }

  /**
   * The number of unfinished tasks, a snapshot (for `JoinableQueue`).
   *
   * @returns The count.
   */
  protected unfinished(): number {
    return this.#q.unfinished();
  }

  /** The capacity (0: unbounded). */
  get maxsize(): number {
    return this.#hub.maxsize;
  }

  /**
   * Puts an item on the queue, waiting for room if it is bounded and full.
   *
   * @param item Any structured-cloneable value.
   * @param options `timeout` (ms) and `signal`.
   * @throws {TypeError} If the item cannot be cloned (the queue is unchanged).
   * @throws {Full} If the timeout expires while the queue is full.
   * @throws {QueueClosed} If the queue was closed.
   */
  put(item: T, options: QueueOptions = {}): Promise<void> {
    return this.#q.put(item, options);
  }

  /**
   * Waits until every `put()` this thread made on this queue before the call
   * has reached the queue, in the hub of the queue's creator: from then on a
   * SIGKILL of this process cannot lose them. On an unbounded queue `put()`
   * resolves once the item is on its way (like Python's feeder thread), so
   * puts made just before a crash can be lost (a bounded queue's too, while
   * it sees room); this waits until every such item is in the queue, which
   * on a bounded queue can mean waiting for room. Beyond Python (whose
   * nearest is `close()` followed by `join_thread()`, which also ends
   * putting).
   *
   * @returns Resolves when they are all in the queue.
   * @throws {Error} If an earlier put failed to reach the queue (e.g. its
   *   creator has exited, or the queue was closed by another process).
   *
   * @example Make a burst of puts durable
   * ```ts
   * import { Queue } from "@multiproc/multiproc";
   * import { equal } from "node:assert/strict";
   *
   * const q = new Queue<number>();
   * for (let i = 0; i < 3; i++) await q.put(i);
   * await q.flush(); // a crash from here on loses none of them
   * equal(q.qsize(), 3);
   * ```
   */
  flush(): Promise<void> {
    return this.#hub.flush();
  }

  /**
   * Puts an item only if there is room now.
   *
   * @throws {Full} If the queue is full.
   */
  putNowait(item: T): Promise<void> {
    return this.put(item, { timeout: 0 });
  }

  /**
   * Removes and returns the oldest item, waiting for one if the queue is empty.
   *
   * Items are fetched from the hub in batches while there is a backlog.
   * Prefetched items belong to the queue until this caller uses them: the
   * hub asks for them back when another consumer has to wait, and they are
   * given back at a clean exit; if this process dies, the hub redelivers the
   * ones it had not used yet.
   *
   * @param options `timeout` (ms) and `signal`.
   * @throws {Empty} If the timeout expires while the queue is empty.
   * @throws {QueueClosed} If the queue is closed and empty.
   */
  get(options: QueueOptions = {}): Promise<T> {
    return this.#q.get(options);
  }

  /**
   * Removes and returns the oldest item if there is one now.
   *
   * @throws {Empty} If the queue is empty.
   */
  getNowait(): Promise<T> {
    return this.get({ timeout: 0 });
  }

  /**
   * The number of items (a snapshot, as approximate as Python's across
   * processes). It counts this object's own puts and gets at once, like
   * Python's, even before the hub has seen them.
   */
  qsize(): number {
    return this.#q.qsize();
  }

  /** Whether the queue is empty (a snapshot). */
  empty(): boolean {
    return this.qsize() === 0;
  }

  /** Whether a bounded queue is full (a snapshot). */
  full(): boolean {
    return this.#q.full();
  }

  /**
   * Closes the queue for every process: no more puts; gets drain what is
   * left, then reject with `QueueClosed`. A second close is harmless.
   */
  close(): void {
    this.#q.close();
  }

  /** Yields items until the queue is closed and drained. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.#q.iterate();
  }

  /** Describes this queue for another process or thread. */
  [toHandle](_dest?: "process" | "thread"): HandleData {
    const cls = this.constructor as typeof Queue;
    return this.#hub.toHandle(cls.handleKind, cls.handleModule);
  }
}
