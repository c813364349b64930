/**
 * `RemoteJoinableQueue`: a {@linkcode JoinableQueue} kept in Redis, with
 * at-least-once delivery.
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import { JoinableFront } from "../_internal/backing/queue.ts";
import { checkLease } from "./_core.ts";
import { decodeItem } from "./_items.ts";
import { RemoteObject, type RemoteOrigin, Revival } from "./_object.ts";
import { checkMaxsize } from "./_queue_ops.ts";
import { StreamQueue } from "./_stream_backing.ts";
import type { StreamState, Taken } from "./_stream_consumer.ts";
import type { BlockingOptions, JoinableQueueLike } from "./types.ts";

/**
 * Options of {@linkcode RemoteJoinableQueue}; every process that opens the
 * queue must give the same values.
 *
 * @example
 * ```ts
 * import type { RemoteJoinableQueueOptions } from "@multiproc/multiproc/redis";
 *
 * const options: RemoteJoinableQueueOptions = { leaseMs: 30_000, maxDeliveries: 3 };
 * console.assert(options.maxDeliveries === 3);
 * ```
 */
export interface RemoteJoinableQueueOptions {
  /**
   * Most items waiting to be delivered (0: unbounded).
   *
   * @default {0}
   */
  maxsize?: number;
  /**
   * How long an item taken by a consumer stays its own without a renewal:
   * a live consumer renews every third of it; a dead one's items go to
   * another consumer once it has passed.
   *
   * @default {10000}
   */
  leaseMs?: number;
  /**
   * Most deliveries of one item; one more and it goes to the dead-letter
   * list ({@linkcode RemoteJoinableQueue.deadLetters}) instead.
   *
   * @default {5}
   */
  maxDeliveries?: number;
}

/**
 * An item with how it was delivered, from
 * {@linkcode RemoteJoinableQueue.getWithInfo}.
 *
 * @example
 * ```ts
 * import type { RemoteDelivery } from "@multiproc/multiproc/redis";
 *
 * const d: RemoteDelivery<string> = { item: "job", deliveries: 2, id: "1-0" };
 * if (d.deliveries > 1) console.assert(d.item === "job"); // a redelivery: its consumer died
 * ```
 */
export interface RemoteDelivery<T> {
  /** The item. */
  item: T;
  /** How many times it has been delivered: 1, or more after consumers died with it. */
  deliveries: number;
  /** The stream entry id (unique per put). */
  id: string;
}

/**
 * A joinable queue kept in a Redis stream read by a consumer group: the
 * remote twin of {@linkcode JoinableQueue} ({@linkcode JoinableQueueLike}).
 *
 * - At least once: an item taken by `get()` stays pending until `taskDone()`
 *   acknowledges it (`XACK`). While its consumer lives, it renews the
 *   item's lease (every `leaseMs / 3`); when the consumer dies (SIGKILL,
 *   host gone, connection cut), the next `get()` anywhere takes it over
 *   after `leaseMs` (`XPENDING … IDLE`, `XCLAIM`) with a higher delivery count.
 * - Batched, never prefetched: puts, gets and `taskDone()` calls of this
 *   object made while one of their kind is in flight share one Lua script
 *   call; a get script takes one entry per waiting `get()`, no more. The
 *   waiting gets share one blocking `XREADGROUP`.
 * - `taskDone()` marks done the oldest item this object took and has not
 *   marked done yet (a stream entry is acknowledged by id); called with
 *   none left it throws, like the local one.
 * - `join()` waits until every item put has been acknowledged or
 *   dead-lettered. The unfinished count is the stream's length (an entry is
 *   deleted when acknowledged), so a dead consumer's items stay counted
 *   until redelivered and done: `join()` does not hang on them, nor miss them.
 * - An item delivered `maxDeliveries` times that comes up again goes to the
 *   dead-letter list instead of killing consumers forever.
 * - `put()` resolves once Redis has the item; with Redis's persistence
 *   (`appendonly yes`, `appendfsync always`) an acknowledged put survives a
 *   server restart.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@multiproc/multiproc/redis";
 *
 * await using remote = await connect("redis://127.0.0.1:6379/0", { namespace: "shop" });
 * const q = await remote.joinableQueue<string>("orders");
 * await q.put("order 1");
 * const { item, deliveries } = await q.getWithInfo();
 * console.log(item, deliveries); // "order 1" 1
 * q.taskDone();
 * await q.join();
 * ```
 */
export class RemoteJoinableQueue<T = unknown> implements JoinableQueueLike<T>, Shareable {
  #stream: StreamQueue;
  #q: JoinableFront<T, Taken>;

  /**
   * Opens (without waiting) the joinable queue `name`; prefer
   * {@linkcode Remote.joinableQueue}, which waits until it is open and checked.
   *
   * @param origin The server and namespace.
   * @param name The queue's name.
   * @param options `maxsize`, `leaseMs`, `maxDeliveries`.
   * @throws {TypeError} If an option is invalid.
   */
  constructor(
    origin: RemoteOrigin,
    name: string,
    options: RemoteJoinableQueueOptions = {},
  ) {
    const what = `remote joinable queue "${name}"`;
    const maxsize = checkMaxsize(options.maxsize, what);
    const maxDeliveries = options.maxDeliveries ?? 5;
    if (!Number.isInteger(maxDeliveries) || maxDeliveries < 1) {
      throw new RangeError(
        `Cannot open ${what} as maxDeliveries must be an integer >= 1: received ${maxDeliveries}`,
      );
    }
    const leaseMs = checkLease(options.leaseMs, what);
    const state = RemoteJoinableQueue.#revival.state;
    const o = new RemoteObject(
      origin,
      "jqueue",
      "remote joinable queue",
      name,
      {
        maxsize: String(maxsize),
        leaseMs: String(leaseMs),
        maxDeliveries: String(maxDeliveries),
      },
      state ?? { size: 0, unfinished: 0, closed: false },
    );
    this.#stream = new StreamQueue(o, maxsize, leaseMs, maxDeliveries);
    this.#q = new JoinableFront(this.#stream);
    o.openInBackground(this.#stream.load);
  }

  static #revival = new Revival<StreamState>();

  static {
    registerReviver(
      "redis-joinable-queue",
      (data: HandleData) =>
        RemoteJoinableQueue.#revival.revive(data, (h) =>
          new RemoteJoinableQueue(h, h.name, {
            maxsize: Number(h.params.maxsize),
            leaseMs: Number(h.params.leaseMs),
            maxDeliveries: Number(h.params.maxDeliveries),
          })),
    );
  }

  /**
   * Waits until the queue is open and its options checked.
   *
   * @returns Resolves when ready.
   * @throws {Error} If the server is unreachable or the queue exists with other options.
   */
  ready(): Promise<void> {
    return this.#stream.ready();
  }

  /** The queue's name. */
  get name(): string {
    return this.#stream.o.name;
  }

  /** The capacity for undelivered items (0: unbounded). */
  get maxsize(): number {
    return this.#stream.maxsize;
  }

  /**
   * Puts an item, waiting for room if the queue is bounded and full.
   *
   * @param item A value the codec can encode.
   * @param options `timeout` (ms) and `signal`.
   * @throws {TypeError} If the item cannot be encoded.
   * @throws {Full} If the timeout expires while the queue is full.
   * @throws {QueueClosed} If the queue was closed.
   * @throws {Error} If the connection fails; the put may or may not have happened.
   */
  put(item: T, options: BlockingOptions = {}): Promise<void> {
    return this.#q.put(item, options);
  }

  /**
   * Puts an item only if there is room now.
   *
   * @param item The item.
   * @throws {Full} If the queue is full.
   */
  putNowait(item: T): Promise<void> {
    return this.put(item, { timeout: 0 });
  }

  /**
   * Takes the next item with its delivery count: an item whose consumer died
   * (lease expired) first, then the oldest undelivered one.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns The item, its delivery count and id.
   * @throws {Empty} If the timeout expires with nothing to take.
   * @throws {QueueClosed} If the queue is closed and every item is done.
   * @throws {Error} If the connection fails (an item delivered meanwhile comes back after the lease).
   */
  async getWithInfo(options: BlockingOptions = {}): Promise<RemoteDelivery<T>> {
    const got = await this.#q.getStored(options);
    return { item: await this.#q.decode(got), deliveries: got.deliveries, id: got.id };
  }

  /**
   * Takes the next item (see {@linkcode RemoteJoinableQueue.getWithInfo}).
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns The item.
   * @throws {Empty} If the timeout expires with nothing to take.
   * @throws {QueueClosed} If the queue is closed and every item is done.
   */
  get(options: BlockingOptions = {}): Promise<T> {
    return this.#q.get(options);
  }

  /**
   * Takes the next item if there is one now.
   *
   * @returns The item.
   * @throws {Empty} If there is none.
   */
  getNowait(): Promise<T> {
    return this.get({ timeout: 0 });
  }

  /**
   * Marks done the oldest item this object took and has not marked done:
   * Redis forgets it (`XACK` and `XDEL`).
   *
   * @throws {Error} If this object has no item left to mark done
   * (`task_done() called too many times`).
   */
  taskDone(): void {
    this.#q.taskDone();
  }

  /**
   * Waits until every item put has been marked done (or dead-lettered).
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns `true` when no task is unfinished, `false` if the timeout expired first.
   */
  join(options: BlockingOptions = {}): Promise<boolean> {
    return this.#q.join(options);
  }

  /** The number of unfinished tasks (a snapshot): put, and not yet marked done. */
  unfinishedTasks(): number {
    return this.#q.unfinished();
  }

  /** The number of items waiting to be delivered (a snapshot). */
  qsize(): number {
    return this.#q.qsize();
  }

  /** Whether no item waits to be delivered (a snapshot). */
  empty(): boolean {
    return this.qsize() === 0;
  }

  /** Whether a bounded queue is full (a snapshot). */
  full(): boolean {
    return this.#q.full();
  }

  /**
   * The items that were delivered more than `maxDeliveries` times, oldest first.
   *
   * @returns The dead-lettered items.
   */
  async deadLetters(): Promise<T[]> {
    await this.ready();
    const { o } = this.#stream;
    const texts = await o.core.call<string[]>(
      `read the dead letters of ${o.what}`,
      ["LRANGE", o.key("dead"), "0", "-1"],
    );
    return await Promise.all(texts.map((t) => decodeItem<T>(t)));
  }

  /**
   * Closes the queue for every process on every host: puts then throw
   * `QueueClosed`; gets drain what is left, then reject with `QueueClosed`.
   */
  close(): void {
    this.#q.close();
  }

  /** Yields items until the queue is closed and drained. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.#q.iterate();
  }

  /** Describes this queue for another process or thread (URL, namespace, name, options). */
  [toHandle](_dest?: "process" | "thread"): HandleData {
    return this.#stream.toHandle("redis-joinable-queue", import.meta.url);
  }
}
