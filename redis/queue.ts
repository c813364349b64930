/**
 * `RemoteQueue`: a {@linkcode Queue} kept in Redis.
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import { Empty, Full, QueueClosed } from "../_internal/errors.ts";
import { untilClosed } from "../_internal/until_closed.ts";
import { BLOCK_SLICE_MS, checkWait, decodeItem, raceSignal } from "./_items.ts";
import { type Loaded, retryUntil } from "./_mirror.ts";
import { RemoteObject, type RemoteOrigin, Revival } from "./_object.ts";
import {
  checkMaxsize,
  closeQueue,
  emptyError,
  isFull,
  putItem,
  putWith,
  type QueueParts,
} from "./_queue_ops.ts";
import {
  QUEUE_CLOSE,
  QUEUE_GET,
  QUEUE_PUT,
  QUEUE_READ,
  QUEUE_STATE,
  QUEUE_UNGET,
} from "./_scripts.ts";
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

interface QueueState {
  size: number;
  closed: boolean;
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
  #o: RemoteObject<QueueState>;
  #maxsize: number;
  #closedHere = false;

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
    this.#maxsize = checkMaxsize(options.maxsize, `remote queue "${name}"`);
    const state = RemoteQueue.#revival.state;
    this.#o = new RemoteObject(
      origin,
      "queue",
      "remote queue",
      name,
      { maxsize: String(this.#maxsize) },
      state ?? { size: 0, closed: false },
    );
    this.#o.openInBackground(() => this.#load());
  }

  static #revival = new Revival<QueueState>();

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

  async #load(): Promise<Loaded<QueueState>> {
    const [size, closed, version] = await this.#o.core.script<number[]>(
      `read ${this.#o.what}`,
      QUEUE_READ,
      this.#keys(),
      [],
    );
    return { state: { size, closed: closed === 1 }, version };
  }

  #keys(): string[] {
    return [this.#o.key(), this.#o.key("closed")];
  }

  #parts(): QueueParts<QueueState> {
    return { o: this.#o, maxsize: this.#maxsize, keys: this.#keys(), ready: () => this.ready() };
  }

  /**
   * Waits until the queue is open and its parameters checked.
   *
   * @returns Resolves when ready.
   * @throws {Error} If the server is unreachable or the queue exists with another maxsize.
   */
  ready(): Promise<void> {
    return this.#o.ready(() => this.#load());
  }

  /** The queue's name. */
  get name(): string {
    return this.#o.name;
  }

  /** The capacity (0: unbounded). */
  get maxsize(): number {
    return this.#maxsize;
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
    return putItem(
      this.#parts(),
      putWith(this.#parts(), QUEUE_PUT),
      item,
      options,
      this.#closedHere,
      ([size]) => ({ size }),
    );
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
  async get(options: BlockingOptions = {}): Promise<T> {
    const what = `get from ${this.#o.what}`;
    checkWait(options, what);
    this.#o.throwPending();
    await this.ready();
    const { core, channel } = this.#o;
    const text = await retryUntil(
      options,
      this.#o.mirror,
      async (remaining) => {
        const r = await core.script<[string, number, number] | number | null>(
          what,
          QUEUE_GET,
          this.#keys(),
          [
            channel,
          ],
        );
        if (r === -1) {
          throw new QueueClosed(
            `Cannot ${what} as it is closed and empty`,
          );
        }
        if (Array.isArray(r)) {
          this.#o.mirror.update({ size: r[1] }, r[2]);
          return r[0];
        }
        if (remaining <= 0) return undefined;
        const seconds = (Math.max(10, Math.min(remaining, BLOCK_SLICE_MS)) / 1000).toFixed(3);
        const popped = await raceSignal(
          core.blocking<[string, string] | null>(what, [
            "BLPOP",
            this.#o.key(),
            seconds,
          ]),
          options.signal,
          (late) => {
            if (late) {
              this.#o.background(
                core.script(what, QUEUE_UNGET, [late[0]], [late[1], channel]),
              );
            }
          },
        );
        if (!popped) return undefined;
        this.#o.mirror.update({ size: Math.max(0, this.#o.mirror.state.size - 1) });
        this.#o.background(
          core.script(what, QUEUE_STATE, this.#keys(), [channel]),
        );
        return popped[1];
      },
      0,
      {
        what,
        // Answered after the caller gave up: the item goes back to the head.
        late: (text) =>
          this.#o.background(core.script(what, QUEUE_UNGET, [this.#o.key()], [text, channel])),
      },
    );
    if (text === undefined) throw emptyError(what, options);
    return await decodeItem<T>(text);
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
    return this.#o.mirror.state.size;
  }

  /** Whether the queue is empty (a snapshot). */
  empty(): boolean {
    return this.qsize() === 0;
  }

  /** Whether a bounded queue is full (a snapshot). */
  full(): boolean {
    return isFull(this.#maxsize, this.qsize());
  }

  /**
   * Closes the queue for every process on every host: puts then throw
   * `QueueClosed`; gets drain what is left, then reject with `QueueClosed`.
   */
  close(): void {
    this.#closedHere = true;
    closeQueue(this.#parts(), QUEUE_CLOSE);
  }

  /** Yields items until the queue is closed and drained. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return untilClosed(() => this.get());
  }

  /** Describes this queue for another process or thread (URL, namespace, name). */
  [toHandle](_dest?: "process" | "thread"): HandleData {
    return this.#o.handle("redis-queue", import.meta.url);
  }
}
