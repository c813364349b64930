/**
 * A `RemoteQueue`'s state in Redis: a list, with its closed flag, read and
 * changed by Lua scripts (the bound is checked and the item appended in one
 * script, so it holds under producers on any number of hosts).
 *
 * @module
 */

import type { Encoded } from "../_internal/codec.ts";
import { QueueClosed } from "../_internal/errors.ts";
import { BLOCK_SLICE_MS, raceSignal } from "./_items.ts";
import { type Loaded, retryUntil } from "./_mirror.ts";
import type { RemoteObject } from "./_object.ts";
import { emptyError, type PutReply, RedisQueueBase } from "./_queue_ops.ts";
import {
  QUEUE_CLOSE,
  QUEUE_GET,
  QUEUE_PUT,
  QUEUE_READ,
  QUEUE_STATE,
  QUEUE_UNGET,
} from "./_scripts.ts";
import type { BlockingOptions } from "./types.ts";

/** What a remote queue's objects mirror of its list. */
export interface ListState {
  size: number;
  closed: boolean;
}

/** A queue kept in a Redis list; items are JSON text. */
export class ListQueue extends RedisQueueBase<string, ListState> {
  /** @param o The queue's remote object. @param maxsize Its capacity (0: unbounded). */
  constructor(o: RemoteObject<ListState>, maxsize: number) {
    super(o, maxsize, [o.key(), o.key("closed")], QUEUE_CLOSE);
  }

  /** Reads the state (opening, and after a reconnection). */
  load = async (): Promise<Loaded<ListState>> => {
    const [size, closed, version] = await this.o.core.script<number[]>(
      `read ${this.o.what}`,
      QUEUE_READ,
      this.keys,
      [],
    );
    return { state: { size, closed: closed === 1 }, version };
  };

  ready(): Promise<void> {
    return this.o.ready(this.load);
  }

  protected attempt(data: string): Promise<PutReply> {
    const { o } = this;
    return o.core.script<PutReply>(`put on ${o.what}`, QUEUE_PUT, this.keys, [
      this.maxsize,
      data,
      o.channel,
    ]);
  }

  protected applied([size]: number[]): Partial<ListState> {
    return { size };
  }

  unpack(stored: string): Encoded {
    return JSON.parse(stored);
  }

  /**
   * Takes one item: the get script, else `BLPOP` on a connection of its own
   * (in slices of at most {@linkcode BLOCK_SLICE_MS}, so that a `close()` is
   * noticed). An item that arrives for a caller that gave up goes back to
   * the head of the list.
   */
  async take(_n: number, options: BlockingOptions): Promise<string[]> {
    const what = `get from ${this.o.what}`;
    await this.ready();
    const { o, keys } = this;
    const { core, channel } = o;
    const text = await retryUntil(
      options,
      o.mirror,
      async (remaining) => {
        const r = await core.script<[string, number, number] | number | null>(
          what,
          QUEUE_GET,
          keys,
          [channel],
        );
        if (r === -1) throw new QueueClosed(`Cannot ${what} as it is closed and empty`);
        if (Array.isArray(r)) {
          o.mirror.update({ size: r[1] }, r[2]);
          return r[0];
        }
        if (remaining <= 0) return undefined;
        const seconds = (Math.max(10, Math.min(remaining, BLOCK_SLICE_MS)) / 1000).toFixed(3);
        const popped = await raceSignal(
          core.blocking<[string, string] | null>(what, ["BLPOP", o.key(), seconds]),
          options.signal,
          (late) => {
            if (late) o.background(core.script(what, QUEUE_UNGET, [late[0]], [late[1], channel]));
          },
        );
        if (!popped) return undefined;
        o.mirror.update({ size: Math.max(0, o.mirror.state.size - 1) });
        o.background(core.script(what, QUEUE_STATE, keys, [channel]));
        return popped[1];
      },
      0,
      {
        what,
        // Answered after the caller gave up: the item goes back to the head.
        late: (text) => o.background(core.script(what, QUEUE_UNGET, [o.key()], [text, channel])),
      },
    );
    if (text === undefined) throw emptyError(what, options);
    return [text];
  }
}
