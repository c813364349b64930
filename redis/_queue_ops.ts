/**
 * What `RemoteQueue` (a list) and `RemoteJoinableQueue` (a stream) do the
 * same way: the `maxsize` check, the acknowledged put with its wait for
 * room, the `Full`/`Empty` errors and `close()`. Only the Lua scripts, the
 * keys and the state the scripts report differ; those are passed in.
 *
 * @module
 */

import { Empty, Full, QueueClosed } from "../_internal/errors.ts";
import type { Script } from "./_core.ts";
import { checkWait, encodeItem } from "./_items.ts";
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

/** One remote queue as its shared operations see it. */
export interface QueueParts<S extends { size: number; closed: boolean }> {
  /** The object (connection, mirror, names). */
  o: RemoteObject<S>;
  /** The capacity (0: unbounded). */
  maxsize: number;
  /** The keys every script of this queue takes. */
  keys: string[];
  /** Waits until the queue is open and checked. */
  ready: () => Promise<void>;
}

/**
 * What one put attempt answers: -1 when closed, -2 when full, or an array
 * whose last element is the version and the rest go to `applied`.
 */
export type PutReply = -1 | -2 | number[];

/** A put attempt with `script` (args: maxsize, item, channel), for {@linkcode putItem}. */
export function putWith<S extends { size: number; closed: boolean }>(
  q: QueueParts<S>,
  script: Script,
): (data: string) => Promise<PutReply> {
  return (data) =>
    q.o.core.script<PutReply>(`put on ${q.o.what}`, script, q.keys, [
      q.maxsize,
      data,
      q.o.channel,
    ]);
}

/** Puts an item with `attempt`, retrying while the queue is full. */
export async function putItem<S extends { size: number; closed: boolean }>(
  q: QueueParts<S>,
  attempt: (data: string) => Promise<PutReply>,
  item: unknown,
  options: BlockingOptions,
  closedHere: boolean,
  applied: (reply: number[]) => Partial<S>,
): Promise<void> {
  const { o } = q;
  const what = `put on ${o.what}`;
  checkWait(options, what);
  o.throwPending();
  if (closedHere) {
    throw new QueueClosed(`Cannot ${what} as it is closed`);
  }
  const data = encodeItem(item, o.what);
  await q.ready();
  const done = await retryUntil(
    options,
    o.mirror,
    async () => {
      const r = await attempt(data);
      if (r === -1) throw new QueueClosed(`Cannot ${what} as it is closed`);
      if (!Array.isArray(r)) return undefined; // -2: full
      o.mirror.update(applied(r), r[r.length - 1]);
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

/** The `Empty` a get throws when nothing came before its timeout. */
export function emptyError(what: string, options: BlockingOptions): Empty {
  return new Empty(
    options.timeout
      ? `Cannot ${what} as it is still empty after ${options.timeout} ms`
      : `Cannot ${what} as it is empty`,
  );
}

/** Whether a bounded queue of `size` items is full. */
export function isFull(maxsize: number, size: number): boolean {
  return maxsize > 0 && size >= maxsize;
}

/** Marks the queue closed at once here, and in Redis (with `script`) in the background. */
export function closeQueue<S extends { size: number; closed: boolean }>(
  q: QueueParts<S>,
  script: Script,
): void {
  const { o } = q;
  o.mirror.update({ closed: true } as Partial<S>);
  o.background(
    q.ready().then(() => o.core.script(`close ${o.what}`, script, q.keys, [o.channel])),
  );
}
