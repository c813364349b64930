/**
 * `RemoteJoinableQueue`: a {@linkcode JoinableQueue} kept in Redis, with
 * at-least-once delivery.
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import { untilClosed } from "../_internal/until_closed.ts";
import { Batcher } from "./_batch.ts";
import { checkLease } from "./_core.ts";
import { checkWait, decodeItem } from "./_items.ts";
import { type Loaded, retryUntil, SLICE_MS } from "./_mirror.ts";
import { RemoteObject, type RemoteOrigin, Revival } from "./_object.ts";
import {
  checkMaxsize,
  closeQueue,
  emptyError,
  isFull,
  putItem,
  type PutReply,
  type QueueParts,
} from "./_queue_ops.ts";
import { STREAM_CLOSE, STREAM_PUT, STREAM_READ } from "./_scripts.ts";
import { StreamConsumer, type StreamState } from "./_stream_consumer.ts";
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
  #o: RemoteObject<StreamState>;
  #maxsize: number;
  #leaseMs: number;
  #consumer: StreamConsumer;
  #closedHere = false;
  /** Puts made while one is in flight go out together (one XADD each, one script). */
  #putter = new Batcher<string, PutReply>((items) => this.#putMany(items));

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
    this.#maxsize = maxsize;
    this.#leaseMs = checkLease(options.leaseMs, what);
    const state = RemoteJoinableQueue.#revival.state;
    this.#o = new RemoteObject(
      origin,
      "jqueue",
      "remote joinable queue",
      name,
      {
        maxsize: String(this.#maxsize),
        leaseMs: String(this.#leaseMs),
        maxDeliveries: String(maxDeliveries),
      },
      state ?? { size: 0, unfinished: 0, closed: false },
    );
    this.#consumer = new StreamConsumer(
      this.#o,
      () => this.#keys(),
      this.#leaseMs,
      maxDeliveries,
    );
    this.#o.openInBackground(() => this.#load());
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

  #keys(): string[] {
    return [this.#o.key(), this.#o.key("dead"), this.#o.key("closed")];
  }

  #parts(): QueueParts<StreamState> {
    return { o: this.#o, maxsize: this.#maxsize, keys: this.#keys(), ready: () => this.ready() };
  }

  async #read(): Promise<Loaded<StreamState>> {
    const [size, unfinished, closed, version] = await this.#o.core.script<number[]>(
      `read ${this.#o.what}`,
      STREAM_READ,
      this.#keys(),
      [],
    );
    return { state: { size, unfinished, closed: closed === 1 }, version };
  }

  #load = (): Promise<Loaded<StreamState>> => this.#read();

  /**
   * Waits until the queue is open and its options checked.
   *
   * @returns Resolves when ready.
   * @throws {Error} If the server is unreachable or the queue exists with other options.
   */
  ready(): Promise<void> {
    return this.#o.ready(this.#load);
  }

  /** The queue's name. */
  get name(): string {
    return this.#o.name;
  }

  /** The capacity for undelivered items (0: unbounded). */
  get maxsize(): number {
    return this.#maxsize;
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
    return putItem(
      this.#parts(),
      (data) => this.#putter.run(data),
      item,
      options,
      this.#closedHere,
      ([size, unfinished]) => ({ size, unfinished }),
    );
  }

  /** Adds `items` in one script call: each gets its reply (full: -2 for those past the room). */
  async #putMany(items: string[]): Promise<PutReply[]> {
    const r = await this.#o.core.script<-1 | number[]>(
      `put on ${this.#o.what}`,
      STREAM_PUT,
      this.#keys(),
      [this.#maxsize, this.#o.channel, ...items],
    );
    if (r === -1) return items.map(() => -1);
    const [added, size, unfinished, version] = r;
    return items.map((_, i) => i < added ? [size, unfinished, version] : -2);
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
    const what = `get from ${this.#o.what}`;
    checkWait(options, what);
    this.#o.throwPending();
    await this.ready();
    const got = await retryUntil(
      options,
      this.#o.mirror,
      (remaining) => this.#consumer.tryTake(what, remaining, options.signal),
      0,
      {
        what,
        // Answered after the caller gave up: the entry goes back, undelivered.
        late: (got) => this.#consumer.requeue(what, got.id, got.text),
      },
    );
    if (got === undefined) throw emptyError(what, options);
    this.#consumer.hold(got.id);
    return {
      item: await decodeItem<T>(got.text),
      deliveries: got.deliveries,
      id: got.id,
    };
  }

  /**
   * Takes the next item (see {@linkcode RemoteJoinableQueue.getWithInfo}).
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns The item.
   * @throws {Empty} If the timeout expires with nothing to take.
   * @throws {QueueClosed} If the queue is closed and every item is done.
   */
  async get(options: BlockingOptions = {}): Promise<T> {
    return (await this.getWithInfo(options)).item;
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
    this.#o.throwPending();
    const id = this.#consumer.release();
    if (id === undefined) {
      throw new Error(
        `Cannot mark a task done on ${this.#o.what}: task_done() called too many times ` +
          `(every item this object took is marked done already)`,
      );
    }
    const { unfinished } = this.#o.mirror.state;
    this.#o.mirror.update({ unfinished: Math.max(0, unfinished - 1) });
    this.#consumer.acknowledge(id);
  }

  /**
   * Waits until every item put has been marked done (or dead-lettered).
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns `true` when no task is unfinished, `false` if the timeout expired first.
   */
  async join(options: BlockingOptions = {}): Promise<boolean> {
    checkWait(options, `join ${this.#o.what}`);
    this.#o.throwPending();
    await this.ready();
    await this.#consumer.acked();
    this.#o.throwPending();
    const done = await retryUntil(
      options,
      this.#o.mirror,
      async () => {
        const { state, version } = await this.#read();
        this.#o.mirror.update(state, version);
        return state.unfinished === 0 ? true : undefined;
      },
      SLICE_MS,
      { what: `join ${this.#o.what}` },
    );
    return done === true;
  }

  /** The number of unfinished tasks (a snapshot): put, and not yet marked done. */
  unfinishedTasks(): number {
    return this.#o.mirror.state.unfinished;
  }

  /** The number of items waiting to be delivered (a snapshot). */
  qsize(): number {
    return this.#o.mirror.state.size;
  }

  /** Whether no item waits to be delivered (a snapshot). */
  empty(): boolean {
    return this.qsize() === 0;
  }

  /** Whether a bounded queue is full (a snapshot). */
  full(): boolean {
    return isFull(this.#maxsize, this.qsize());
  }

  /**
   * The items that were delivered more than `maxDeliveries` times, oldest first.
   *
   * @returns The dead-lettered items.
   */
  async deadLetters(): Promise<T[]> {
    await this.ready();
    const texts = await this.#o.core.call<string[]>(
      `read the dead letters of ${this.#o.what}`,
      [
        "LRANGE",
        this.#o.key("dead"),
        "0",
        "-1",
      ],
    );
    return await Promise.all(texts.map((t) => decodeItem<T>(t)));
  }

  /**
   * Closes the queue for every process on every host: puts then throw
   * `QueueClosed`; gets drain what is left, then reject with `QueueClosed`.
   */
  close(): void {
    this.#closedHere = true;
    closeQueue(this.#parts(), STREAM_CLOSE);
  }

  /** Yields items until the queue is closed and drained. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return untilClosed(() => this.get());
  }

  /** Describes this queue for another process or thread (URL, namespace, name, options). */
  [toHandle](_dest?: "process" | "thread"): HandleData {
    return this.#o.handle("redis-joinable-queue", import.meta.url);
  }
}
