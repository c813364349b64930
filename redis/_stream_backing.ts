/**
 * A `RemoteJoinableQueue`'s state in Redis: a stream read by a consumer
 * group, its dead letters and its closed flag. What differs from a list is
 * kept here and in `_stream_consumer.ts`: entries taken are leased to their
 * consumer until acknowledged (`taskDone()`), and a dead consumer's entries
 * are delivered again.
 *
 * @module
 */

import type { Encoded } from "../_internal/codec.ts";
import type { JoinableQueueBacking } from "../_internal/backing/queue.ts";
import { Batcher } from "./_batch.ts";
import { type Loaded, retryUntil, SLICE_MS } from "./_mirror.ts";
import type { RemoteObject } from "./_object.ts";
import { emptyError, type PutReply, RedisQueueBase } from "./_queue_ops.ts";
import { STREAM_CLOSE, STREAM_PUT, STREAM_READ } from "./_scripts.ts";
import { StreamConsumer, type StreamState, type Taken } from "./_stream_consumer.ts";
import type { BlockingOptions } from "./types.ts";

/** A joinable queue kept in a Redis stream; an item is taken as its entry. */
export class StreamQueue extends RedisQueueBase<Taken, StreamState>
  implements JoinableQueueBacking<Taken> {
  #consumer: StreamConsumer;
  /** Puts made while one is in flight go out together (one XADD each, one script). */
  #putter = new Batcher<string, PutReply>((items) => this.#putMany(items));

  /**
   * @param o The queue's remote object.
   * @param maxsize Its capacity for undelivered items (0: unbounded).
   * @param leaseMs How long an entry taken stays its consumer's without a renewal.
   * @param maxDeliveries Most deliveries of one entry before it is dead-lettered.
   */
  constructor(
    o: RemoteObject<StreamState>,
    maxsize: number,
    leaseMs: number,
    maxDeliveries: number,
  ) {
    super(o, maxsize, [o.key(), o.key("dead"), o.key("closed")], STREAM_CLOSE);
    this.#consumer = new StreamConsumer(o, () => this.keys, leaseMs, maxDeliveries);
  }

  /** Reads the state (opening, after a reconnection, and while joining). */
  load = async (): Promise<Loaded<StreamState>> => {
    const [size, unfinished, closed, version] = await this.o.core.script<number[]>(
      `read ${this.o.what}`,
      STREAM_READ,
      this.keys,
      [],
    );
    return { state: { size, unfinished, closed: closed === 1 }, version };
  };

  ready(): Promise<void> {
    return this.o.ready(this.load);
  }

  protected attempt(data: string): Promise<PutReply> {
    return this.#putter.run(data);
  }

  protected applied([size, unfinished]: number[]): Partial<StreamState> {
    return { size, unfinished };
  }

  /** Adds `items` in one script call: each gets its reply (full: -2 for those past the room). */
  async #putMany(items: string[]): Promise<PutReply[]> {
    const r = await this.o.core.script<-1 | number[]>(
      `put on ${this.o.what}`,
      STREAM_PUT,
      this.keys,
      [this.maxsize, this.o.channel, ...items],
    );
    if (r === -1) return items.map(() => -1);
    const [added, size, unfinished, version] = r;
    return items.map((_, i) => i < added ? [size, unfinished, version] : -2);
  }

  unpack(stored: Taken): Encoded {
    return JSON.parse(stored.text);
  }

  /**
   * Takes one entry (an entry whose lease expired first, then the oldest
   * undelivered one) and holds its lease until `taskDone()`. An entry that
   * arrives for a caller that gave up goes back, undelivered.
   */
  async take(_n: number, options: BlockingOptions): Promise<Taken[]> {
    const what = `get from ${this.o.what}`;
    await this.ready();
    const got = await retryUntil(
      options,
      this.o.mirror,
      (remaining) => this.#consumer.tryTake(what, remaining, options.signal),
      0,
      { what, late: (got) => this.#consumer.requeue(what, got.id, got.text) },
    );
    if (got === undefined) throw emptyError(what, options);
    this.#consumer.hold(got.id);
    return [got];
  }

  /** Only the entries this object took: an entry is acknowledged by id. */
  othersUnfinished(): boolean {
    return false;
  }

  /** Acknowledges the oldest entry this object holds (`XACK` and `XDEL`, batched). */
  taskDone(): void {
    this.o.throwPending();
    const id = this.#consumer.release();
    if (id === undefined) return; // Not reached: the front counts what this object took.
    const { unfinished } = this.o.mirror.state;
    this.o.mirror.update({ unfinished: Math.max(0, unfinished - 1) });
    this.#consumer.acknowledge(id);
  }

  async join(options: BlockingOptions): Promise<boolean> {
    this.o.throwPending();
    await this.ready();
    await this.#consumer.acked();
    this.o.throwPending();
    const done = await retryUntil(
      options,
      this.o.mirror,
      async () => {
        const { state, version } = await this.load();
        this.o.mirror.update(state, version);
        return state.unfinished === 0 ? true : undefined;
      },
      SLICE_MS,
      { what: `join ${this.o.what}` },
    );
    return done === true;
  }

  unfinished(): number {
    return this.o.mirror.state.unfinished;
  }
}
