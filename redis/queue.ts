/**
 * `RemoteQueue`: a {@linkcode Queue} kept in Redis.
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import { Empty, Full, QueueClosed } from "../_internal/errors.ts";
import { QueueFront } from "../_internal/backing/queue.ts";
import { ListQueue, type ListState } from "./_list_backing.ts";
import { RemoteObject, type RemoteOrigin, Revival } from "./_object.ts";
import { checkMaxsize } from "./_queue_ops.ts";
import type { BlockingOptions, QueueLike } from "./types.ts";

export { Empty, Full, QueueClosed };

/**
 * Options of {@linkcode RemoteQueue}.
 *
 * @example
 * ```ts
 * import type { RemoteQueueOptions } from "@multiproc/multiproc/redis";
 *
 * const options: RemoteQueueOptions = { maxsize: 100 };
 * console.assert(options.maxsize === 100);
 * ```
 */
export interface RemoteQueueOptions {
  /**
   * Capacity; 0 means unbounded. Every process that opens the queue must
   * give the same value.
   *
   * @default {0}
   */
  maxsize?: number;
}

/**
 * A FIFO queue kept in Redis (a list), opened by name from any process on
 * any host: the remote twin of {@linkcode Queue}, with the same methods,
 * options and errors ({@linkcode QueueLike}).
 *
 * - `put` resolves once Redis has the item (an acknowledged put).
 * - A bounded queue keeps its bound exactly under concurrent producers on
 *   any number of hosts: the check and the append are one Lua script.
 * - `get` waits with `BLPOP` on a connection of its own (in slices of at
 *   most 500 ms, so that a `close()` is noticed); waiters are served by
 *   Redis in the order they started blocking.
 * - `qsize()`, `empty()`, `full()` are synchronous snapshots kept current
 *   by the changes Redis publishes.
 * - At most once: an item taken by a `get()` whose reply is lost with the
 *   connection is lost. Use {@linkcode RemoteJoinableQueue} for at-least-once.
 * - Passed to a `Process` or `Thread` in `args`, it arrives as the same
 *   remote queue (the child connects to the same server).
 *
 * Opened by {@linkcode Remote.queue}.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@multiproc/multiproc/redis";
 *
 * await using remote = await connect("redis://127.0.0.1:6379/0", { namespace: "demo" });
 * const q = await remote.queue<string>("greetings", { maxsize: 10 });
 * await q.put("hello");
 * console.log(await q.get());
 * ```
 */
export class RemoteQueue<T = unknown> implements QueueLike<T>, Shareable {
  #list: ListQueue;
  #q: QueueFront<T, string>;

  /**
   * Opens (without waiting) the queue `name`; prefer {@linkcode Remote.queue},
   * which waits until it is open and checked.
   *
   * @param origin The server and namespace.
   * @param name The queue's name.
   * @param options Its capacity.
   * @throws {TypeError} If `name` or `maxsize` is invalid.
   */
  constructor(
    origin: RemoteOrigin,
    name: string,
    options: RemoteQueueOptions = {},
  ) {
    const maxsize = checkMaxsize(options.maxsize, `remote queue "${name}"`);
    const state = RemoteQueue.#revival.state;
    const o = new RemoteObject(
      origin,
      "queue",
      "remote queue",
      name,
      { maxsize: String(maxsize) },
      state ?? { size: 0, closed: false },
    );
    this.#list = new ListQueue(o, maxsize);
    this.#q = new QueueFront(this.#list);
    o.openInBackground(this.#list.load);
  }

  static #revival = new Revival<ListState>();

  static {
    registerReviver(
      "redis-queue",
      (data: HandleData) =>
        RemoteQueue.#revival.revive(data, (h) =>
          new RemoteQueue(h, h.name, {
            maxsize: Number(h.params.maxsize),
          })),
    );
  }

  /**
   * Waits until the queue is open and its parameters checked.
   *
   * @returns Resolves when ready.
   * @throws {Error} If the server is unreachable or the queue exists with another maxsize.
   */
  ready(): Promise<void> {
    return this.#list.ready();
  }

  /** The queue's name. */
  get name(): string {
    return this.#list.o.name;
  }

  /** The capacity (0: unbounded). */
  get maxsize(): number {
    return this.#list.maxsize;
  }

  /**
   * Puts an item, waiting for room if the queue is bounded and full.
   *
   * @param item A value the codec can encode (as for `Process` args).
   * @param options `timeout` (ms) and `signal`.
   * @throws {TypeError} If the item cannot be encoded (the queue is unchanged).
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
   * Removes and returns the oldest item, waiting for one.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns The item.
   * @throws {Empty} If the timeout expires while the queue is empty.
   * @throws {QueueClosed} If the queue is closed and empty.
   * @throws {Error} If the connection fails.
   */
  get(options: BlockingOptions = {}): Promise<T> {
    return this.#q.get(options);
  }

  /**
   * Removes and returns the oldest item if there is one now.
   *
   * @returns The item.
   * @throws {Empty} If the queue is empty.
   */
  getNowait(): Promise<T> {
    return this.get({ timeout: 0 });
  }

  /** The number of items (a snapshot kept current by Redis's notifications). */
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

  /** Describes this queue for another process or thread (URL, namespace, name). */
  [toHandle](_dest?: "process" | "thread"): HandleData {
    return this.#list.toHandle("redis-queue", import.meta.url);
  }
}
