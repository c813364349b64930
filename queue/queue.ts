/**
 * `Queue`: Python's `multiprocessing.Queue` (and `queue.Queue`).
 *
 * @module
 */

import {
  decode,
  decodeSync,
  encodeItem,
  type HandleData,
  registerReviver,
  type Shareable,
  toHandle,
  unpackEncoded,
} from "../_internal/codec.ts";
import { QueueClosed } from "../_internal/errors.ts";
import { untilClosed } from "../_internal/until_closed.ts";
import type { WaitOptions } from "../_internal/wait.ts";
import type { Item } from "../_internal/protocol.ts";
import { QUEUE_SLOTS } from "../_internal/status_slots.ts";
import {
  bindHubObject,
  checkTimeout,
  createHubObject,
  type HubBinding,
  hubHandle,
} from "../_internal/shared.ts";
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

/** Most items a consumer fetches ahead of use. */
const MAX_PREFETCH = 256;

interface QueueParams {
  maxsize: number;
  joinable: boolean;
}

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
 *   queued for sending, like Python's feeder thread; a process does not exit
 *   before its items have reached the queue. If it is killed (SIGKILL), puts
 *   that had not reached the queue yet are lost: `await q.flush()` makes
 *   every earlier put durable. A bounded queue's `put()` resolves only once
 *   the item is in the queue.
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
  #b: HubBinding;
  #maxsize: number;
  #asyncError: unknown;
  /** Items fetched ahead (still encoded), handed out before asking the hub again. */
  #buffer: Item[] = [];
  #bufferHead = 0;
  #want = 1;
  #prefetching = false;
  /** A fetch ahead in flight (see {@linkcode Queue.#fetchAhead}); it never rejects. */
  #ahead: Promise<void> | undefined;
  /** The hub asked for prefetched items back while a fetch ahead was in flight. */
  #aheadRevoked = false;
  /** The last fetch ahead found the queue empty: none until a get has had to ask. */
  #aheadDry = false;
  #closedHere = false;
  /** This object's puts not yet counted by the hub, minus its gets not yet reported to it. */
  #inFlight = 0;
  /** The last batch reply {@linkcode #counted} watches, and what it counts for `#inFlight`. */
  #batch: { reply: Promise<unknown>; count: number } | undefined;
  /** The same for the other kind of batch (puts and consumed gets alternate in a loop). */
  #otherBatch: { reply: Promise<unknown>; count: number } | undefined;

  /**
   * Takes `delta` back off {@linkcode #inFlight} once the batch that `reply`
   * answers has reached the hub; one handler per batch, not per entry.
   */
  #counted(reply: Promise<unknown>, delta: number): void {
    let batch = this.#batch?.reply === reply
      ? this.#batch
      : this.#otherBatch?.reply === reply
      ? this.#otherBatch
      : undefined;
    if (batch === undefined) {
      const created = { reply, count: 0 };
      batch = created;
      const settle = () => {
        this.#inFlight -= created.count;
      };
      reply.then(settle, (error) => {
        settle();
        // A put that never reached the hub: the next call says so.
        if (created.count > 0) this.#asyncError ??= error;
      });
      this.#otherBatch = this.#batch;
      this.#batch = created;
    }
    batch.count += delta;
  }

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
      this.#b = bindHubObject(reviving);
      this.#maxsize = (reviving.params as QueueParams).maxsize;
      return;
    }
    if (!Number.isInteger(maxsize)) {
      throw new TypeError(`Cannot create queue as maxsize is not an integer: received ${maxsize}`);
    }
    this.#maxsize = Math.max(0, maxsize);
    const joinable = (new.target as typeof Queue).joinable;
    this.#b = createHubObject("queue", { maxsize: this.#maxsize, joinable } satisfies QueueParams);
  }

  /** Whether instances count unfinished tasks (JoinableQueue). */
  protected static readonly joinable: boolean = false;
  /** The reviver kind of this class's handles. */
  protected static readonly handleKind: string = "queue";
  /** The module that registers that reviver. */
  protected static readonly handleModule: string = import.meta.url;

  static {
    registerReviver("queue", (data) => reviveQueue(Queue, data));
  }

  /**
   * Sends an operation on this queue to its hub and waits for the reply (for subclasses).
   *
   * @param op The operation, e.g. `"queue.join"`.
   * @param options `timeout` (ms) and `signal`.
   * @returns The hub's reply.
   */
  protected hubCall(op: "queue.join", options: QueueOptions = {}): Promise<unknown> {
    return this.#b.client.call(op, this.#b.id, [], options);
  }

  /**
   * Appends one entry to a batched operation on this queue (for subclasses): calls made in a
   * burst travel as one request.
   *
   * @param op The operation, e.g. `"queue.taskDone"`.
   * @returns The batch's reply.
   */
  protected hubAppend(op: "queue.taskDone"): Promise<unknown> {
    return this.#b.client.appendToBatch(op, this.#b.id, 1);
  }

  /**
   * Reads one of this queue's published counters (for subclasses), by its name in `QUEUE_SLOTS`.
   *
   * @param slot Which counter.
   * @returns Its value (a snapshot).
   */
  protected hubStatus(slot: "size" | "closed" | "unfinished"): number {
    return this.#b.client.status(this.#b.id, QUEUE_SLOTS[slot]);
  }

  /** The capacity (0: unbounded). */
  get maxsize(): number {
    return this.#maxsize;
  }

  #throwPending(): void {
    if (this.#asyncError !== undefined) {
      const error = this.#asyncError;
      this.#asyncError = undefined;
      throw error;
    }
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
  async put(item: T, options: QueueOptions = {}): Promise<void> {
    checkTimeout(options.timeout, "put on queue");
    this.#throwPending();
    // Closed here: fail at once. Closed by another process: the hub refuses the item and the
    // next call on this object throws (a status read per put would halve the throughput).
    if (this.#closedHere) throw new QueueClosed("Cannot put on the queue as it is closed");
    const encoded = encodeItem(item, { context: "Cannot put on the queue as", root: "item" });
    const { client, id } = this.#b;
    if (this.#maxsize === 0 && options.signal === undefined) {
      // Unbounded: like Python's feeder thread, return once the item is on its way. Puts
      // made before the next flush travel together as one request.
      this.#inFlight++;
      this.#counted(client.appendToBatch("queue.putMany", id, encoded), 1);
      return;
    }
    await client.call("queue.put", id, [encoded], options);
  }

  /**
   * Waits until every `put()` this thread made on this queue before the call
   * has reached the queue, in the hub of the queue's creator: from then on a
   * SIGKILL of this process cannot lose them. On an unbounded queue `put()`
   * resolves once the item is on its way (like Python's feeder thread), so
   * puts made just before a crash can be lost; a bounded queue's `put()`
   * already resolves only once the hub has the item. Beyond Python (whose
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
  async flush(): Promise<void> {
    this.#throwPending();
    await this.#b.client.sync();
    this.#throwPending();
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
   * @param options `timeout` (ms) and `signal`.
   * @throws {Empty} If the timeout expires while the queue is empty.
   * @throws {QueueClosed} If the queue is closed and empty.
   */
  async get(options: QueueOptions = {}): Promise<T> {
    checkTimeout(options.timeout, "get from queue");
    this.#throwPending();
    let encoded: Item;
    // The buffer is empty but more is on its way: wait for it rather than ask again.
    if (this.#bufferHead >= this.#buffer.length && this.#ahead) await this.#ahead;
    if (this.#bufferHead < this.#buffer.length) {
      encoded = this.#buffer[this.#bufferHead++];
      // Tell the hub (batched with other traffic) so a crash redelivers only what was not used.
      this.#inFlight--;
      this.#counted(this.#b.client.appendToBatch("queue.consumed", this.#b.id, 1), -1);
      // Half of the buffer used: fetch the next batch now, so that it is here when this one ends
      // (a consumer keeping up with a backlog then never waits a round trip for it).
      if (
        this.#ahead === undefined && !this.#aheadDry &&
        this.#buffer.length - this.#bufferHead <= this.#want >> 1
      ) this.#fetchAhead();
    } else {
      // A bounded queue is about backpressure: no fetching ahead, so a producer never runs ahead
      // of maxsize.
      const want = this.#maxsize > 0 ? 1 : this.#want;
      const { client, id } = this.#b;
      const items = await client.call("queue.getMany", id, [want], options) as Item[];
      // Fetch more at once while there is a backlog, back to one at a time when there is not.
      this.#want = Math.min(MAX_PREFETCH, Math.max(1, items.length * 2));
      this.#aheadDry = false;
      encoded = items[0];
      if (items.length > 1) {
        if (this.#bufferHead < this.#buffer.length) {
          this.#buffer = this.#buffer.slice(this.#bufferHead).concat(items.slice(1));
          this.#bufferHead = 0;
        } else {
          this.#buffer = items;
          this.#bufferHead = 1;
        }
        this.#watchPrefetch();
      }
    }
    this.#taken++;
    const enc = unpackEncoded(encoded);
    return (enc.m ? await decode(enc) : decodeSync(enc)) as T;
  }

  #taken = 0;

  /** How many items `get()` has taken from the hub through this object (for `taskDone()`'s check). */
  protected get taken(): number {
    return this.#taken;
  }

  /**
   * Prefetched items belong to the queue until this caller uses them: the
   * hub asks for them back when another consumer has to wait, and they are
   * given back at a clean exit; if this process dies, the hub redelivers the
   * ones it had not used yet.
   */
  /**
   * Fetches the next batch ahead of the gets that will use it, without
   * waiting at the hub: an unbounded queue only (a bounded one does not fetch
   * ahead at all, see {@linkcode Queue.get}). The hub holds every item of it
   * for this process until `queue.consumed` says it was used, like the rest
   * of the buffer, so a crash redelivers them.
   */
  #fetchAhead(): void {
    if (this.#maxsize > 0) return;
    const { client, id } = this.#b;
    this.#aheadRevoked = false;
    this.#ahead = (client.call("queue.getMany", id, [this.#want, true], { timeout: 0 }) as Promise<
      Item[]
    >).then(
      (items) => {
        this.#ahead = undefined;
        if (this.#bufferHead < this.#buffer.length) {
          this.#buffer = this.#buffer.slice(this.#bufferHead).concat(items);
        } else this.#buffer = items;
        this.#bufferHead = 0;
        this.#want = Math.min(MAX_PREFETCH, Math.max(this.#want, items.length * 2));
        this.#watchPrefetch();
        // Asked back while on the way: they go back with the rest.
        if (this.#aheadRevoked) this.#giveBack();
      },
      () => {
        // Empty or closed (the next get finds out for itself), or the hub is gone (likewise).
        this.#ahead = undefined;
        this.#aheadDry = true;
      },
    );
    // Sent now: this thread is busy with the buffer's items meanwhile, and the reply waits in the
    // socket until it is done with them.
    client.flushNow();
  }

  /** Gives the buffer's unused items back to the hub, for other consumers. */
  #giveBack(): void {
    if (this.#ahead) this.#aheadRevoked = true;
    const rest = this.#buffer.slice(this.#bufferHead);
    this.#buffer = [];
    this.#bufferHead = 0;
    this.#want = 1;
    if (rest.length > 0) this.#b.client.post("queue.unget", this.#b.id, [rest]);
  }

  #watchPrefetch(): void {
    if (this.#prefetching) return;
    this.#prefetching = true;
    const giveBack = () => this.#giveBack();
    this.#b.client.onPush(this.#b.id, giveBack);
    this.#b.client.onGoodbye(giveBack);
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
    return Math.max(0, this.#b.client.status(this.#b.id, QUEUE_SLOTS.size) + this.#inFlight);
  }

  /** Whether the queue is empty (a snapshot). */
  empty(): boolean {
    return this.qsize() === 0;
  }

  /** Whether a bounded queue is full (a snapshot). */
  full(): boolean {
    return this.#maxsize > 0 && this.qsize() >= this.#maxsize;
  }

  /**
   * Closes the queue for every process: no more puts; gets drain what is
   * left, then reject with `QueueClosed`. A second close is harmless.
   */
  close(): void {
    this.#closedHere = true;
    this.#b.client.post("queue.close", this.#b.id);
  }

  /** Yields items until the queue is closed and drained. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return untilClosed(() => this.get());
  }

  /** Describes this queue for another process or thread. */
  [toHandle](_dest?: "process" | "thread"): HandleData {
    const cls = this.constructor as typeof Queue;
    return { ...hubHandle(this.#b, cls.handleModule), kind: cls.handleKind };
  }
}
