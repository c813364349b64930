/**
 * What the Redis backings of `RemoteQueue` (a list, `_list_backing.ts`) and
 * `RemoteJoinableQueue` (a stream, `_stream_backing.ts`) do the same way:
 * the `maxsize` check, items as JSON text, the acknowledged put with its
 * wait for room, the `Empty` error and `close()`. Only the Lua scripts, the
 * keys and the state the scripts report differ; those are given.
 *
 * @module
 */

import { encode, type Encoded, type HandleData } from "../_internal/codec.ts";
import { Empty, Full, QueueClosed } from "../_internal/errors.ts";
import type { QueueBacking } from "../_internal/backing/queue.ts";
import type { Script } from "./_core.ts";
import { retryUntil } from "./_mirror.ts";
import type { RemoteObject } from "./_object.ts";
import type { BlockingOptions } from "./types.ts";

/** Checks and normalises the `maxsize` option (negative: unbounded, as in Python). */
export function checkMaxsize(maxsize: number | undefined, what: string): number {
  const value = maxsize ?? 0;
  if (!Number.isInteger(value)) {
    throw new TypeError(
      `Cannot open ${what} as maxsize is not an integer: received ${value}`,
    );
  }
  return Math.max(0, value);
}

/**
 * What one put attempt answers: -1 when closed, -2 when full, or an array
 * whose last element is the version and the rest go to the state.
 */
export type PutReply = -1 | -2 | number[];

/** The `Empty` a get throws when nothing came before its timeout. */
export function emptyError(what: string, options: BlockingOptions): Empty {
  return new Empty(
    options.timeout
      ? `Cannot ${what} as it is still empty after ${options.timeout} ms`
      : `Cannot ${what} as it is empty`,
  );
}

/**
 * The part of a queue's Redis backing that the list and the stream share.
 * `S` is an item as a get takes it, `St` the state mirrored.
 */
export abstract class RedisQueueBase<S, St extends { size: number; closed: boolean }>
  implements QueueBacking<S> {
  /** The object (connection, mirror, names). */
  readonly o: RemoteObject<St>;
  readonly maxsize: number;
  /** A remote queue takes one item per get: never ahead of use. */
  readonly ahead = undefined;
  /** The keys every script of this queue takes. */
  readonly keys: string[];
  #close: Script;

  /**
   * @param o The object.
   * @param maxsize The capacity (0: unbounded).
   * @param keys The keys every script of this queue takes.
   * @param close The close script (args: channel).
   */
  constructor(o: RemoteObject<St>, maxsize: number, keys: string[], close: Script) {
    this.o = o;
    this.maxsize = maxsize;
    this.keys = keys;
    this.#close = close;
  }

  get what(): string {
    return this.o.what;
  }

  /** Waits until the queue is open and checked. */
  abstract ready(): Promise<void>;

  /** One put attempt of the JSON text of an item. */
  protected abstract attempt(data: string): Promise<PutReply>;

  /** What a put's reply (less its version) says of the state. */
  protected abstract applied(reply: number[]): Partial<St>;

  encode(item: unknown, context: string): string {
    return JSON.stringify(encode(item, { context, root: "item" }));
  }

  throwPending(): void {
    this.o.throwPending();
  }

  /** Acknowledged: resolves once Redis has the item; retries while the queue is full. */
  async put(encoded: unknown, options: BlockingOptions): Promise<void> {
    const { o } = this;
    const what = `put on ${o.what}`;
    await this.ready();
    const done = await retryUntil(
      options,
      o.mirror,
      async () => {
        const r = await this.attempt(encoded as string);
        if (r === -1) throw new QueueClosed(`Cannot ${what} as it is closed`);
        if (!Array.isArray(r)) return undefined; // -2: full
        o.mirror.update(this.applied(r), r[r.length - 1]);
        return true;
      },
      undefined,
      { what },
    );
    if (!done) {
      throw new Full(
        options.timeout
          ? `Cannot ${what} as it is still full after ${options.timeout} ms`
          : `Cannot ${what} as it is full`,
      );
    }
  }

  abstract take(n: number, options: BlockingOptions): Promise<S[]>;

  abstract unpack(stored: S): Encoded;

  /** Marks the queue closed at once here, and in Redis in the background. */
  close(): void {
    const { o } = this;
    o.mirror.update({ closed: true } as Partial<St>);
    o.background(
      this.ready().then(() =>
        o.core.script(`close ${o.what}`, this.#close, this.keys, [o.channel])
      ),
    );
  }

  /** A snapshot kept current by the changes Redis publishes. */
  size(): number {
    return this.o.mirror.state.size;
  }

  /** A snapshot kept current by the changes Redis publishes (and this object's own close). */
  closed(): boolean {
    return this.o.mirror.state.closed;
  }

  /** The queue's handle, revived by `kind`'s reviver registered in `module`. */
  toHandle(kind: string, module: string): HandleData {
    return this.o.handle(kind, module);
  }
}
