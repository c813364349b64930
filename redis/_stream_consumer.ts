/**
 * The consumer side of a `RemoteJoinableQueue`'s stream: one consumer of
 * its consumer group per queue object, which takes entries (the get script,
 * or one blocking `XREADGROUP` shared by the object's waiting gets), keeps
 * the leases of the entries it holds, and acknowledges them.
 *
 * @module
 */

import { hostname } from "node:os";
import { QueueClosed } from "../_internal/errors.ts";
import { Batcher } from "./_batch.ts";
import { newToken } from "./_core.ts";
import { BLOCK_SLICE_MS, raceSignal } from "./_items.ts";
import type { RemoteObject } from "./_object.ts";
import {
  STREAM_ACK,
  STREAM_GET,
  STREAM_RENEW,
  STREAM_REQUEUE,
  STREAM_STATE_PUBLISH,
} from "./_scripts.ts";

/** What the queue's objects mirror of its stream. */
export interface StreamState {
  size: number;
  unfinished: number;
  closed: boolean;
}

/** One entry taken: id, item text, delivery count. */
export interface Taken {
  id: string;
  text: string;
  deliveries: number;
}

/** Waits until `p` settles, `ms` pass or `signal` aborts (then rejects with its reason). */
async function waitFor(p: Promise<void>, ms: number, signal?: AbortSignal): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(resolve, ms);
      p.then(resolve);
      if (signal) {
        onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
      }
    });
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * One consumer of a stream's group (named after the host and a random
 * token), for one queue object.
 *
 * - Concurrent gets share one get script call (one entry each), and at most
 *   one blocking read; the others wait for it to end.
 * - Entries taken are held, oldest first, with their leases renewed every
 *   `leaseMs / 3` until released.
 * - Acknowledgements made while one is in flight go out together.
 */
export class StreamConsumer {
  #o: RemoteObject<StreamState>;
  #keys: () => string[];
  #leaseMs: number;
  #maxDeliveries: number;
  #name = `${hostname()}:${newToken()}`;
  #held: string[] = [];
  #acks = new Set<Promise<unknown>>();
  #stopRenewal: (() => void) | undefined;
  /** The blocking read a get of this object waits in, if any (the others wait for it). */
  #blockingRead: Promise<void> | undefined;
  /** Concurrent gets of this object share one get script call (one entry each). */
  #taker = new Batcher<void, Taken | -1 | undefined>((reqs) => this.#take(reqs.length));
  /** The taskDone() acknowledgements made while one is in flight go out together. */
  #acker = new Batcher<string, void>((ids) => this.#ack(ids));

  /**
   * @param o The queue's remote object.
   * @param keys The keys of the queue's scripts: the stream, its dead letters, its closed flag.
   * @param leaseMs How long an entry taken stays this consumer's without a renewal.
   * @param maxDeliveries Most deliveries of one entry before it is dead-lettered.
   */
  constructor(
    o: RemoteObject<StreamState>,
    keys: () => string[],
    leaseMs: number,
    maxDeliveries: number,
  ) {
    this.#o = o;
    this.#keys = keys;
    this.#leaseMs = leaseMs;
    this.#maxDeliveries = maxDeliveries;
  }

  /**
   * One try at taking an entry: the get script (an entry whose lease expired
   * first, then the oldest undelivered one), else a blocking read of up to
   * `remaining` ms (or waiting for the blocking read of another get).
   *
   * @param what What is attempted, for errors.
   * @param remaining How long the caller may still wait, in ms.
   * @param signal The caller's signal.
   * @returns The entry taken, or `undefined` if none came this time.
   * @throws {QueueClosed} If the queue is closed and every item is done.
   */
  async tryTake(
    what: string,
    remaining: number,
    signal: AbortSignal | undefined,
  ): Promise<Taken | undefined> {
    const r = await this.#taker.run();
    if (r === -1) {
      throw new QueueClosed(`Cannot ${what} as it is closed and every item is done`);
    }
    if (r) return r;
    if (remaining <= 0) return undefined;
    if (this.#blockingRead) {
      // One blocking read per object: the other gets wait for it to end (an item came,
      // or its slice is over), then ask the get script again.
      await waitFor(this.#blockingRead, Math.min(remaining, BLOCK_SLICE_MS), signal);
      return undefined;
    }
    const { core, channel } = this.#o;
    const [stream] = this.#keys();
    const ms = Math.max(1, Math.min(remaining, BLOCK_SLICE_MS, this.#leaseMs));
    type Reply = [string, [string, string[]][]][] | null;
    const read = raceSignal(
      core.blocking<Reply>(what, [
        "XREADGROUP",
        "GROUP",
        "g",
        this.#name,
        "COUNT",
        "1",
        "BLOCK",
        String(Math.round(ms)),
        "STREAMS",
        stream,
        ">",
      ]),
      signal,
      (late) => {
        const entry = late?.[0]?.[1]?.[0];
        if (entry) this.requeue(what, entry[0], entry[1][1]);
      },
    );
    const shared = read.then(() => {}, () => {});
    this.#blockingRead = shared;
    let reply: Reply;
    try {
      reply = await read;
    } finally {
      if (this.#blockingRead === shared) this.#blockingRead = undefined;
    }
    const entry = reply?.[0]?.[1]?.[0];
    if (!entry) return undefined;
    this.#o.background(core.script(what, STREAM_STATE_PUBLISH, this.#keys(), [channel]));
    return { id: entry[0], text: entry[1][1], deliveries: 1 };
  }

  /**
   * Puts back, undelivered, an entry taken for a caller that gave up (in the
   * background).
   */
  requeue(what: string, id: string, text: string): void {
    this.#o.background(
      this.#o.core.script(what, STREAM_REQUEUE, this.#keys(), [
        this.#name,
        id,
        text,
        this.#o.channel,
      ]),
    );
  }

  /**
   * Runs the get script for `want` waiting gets: one entry per get (in order),
   * `undefined` for those it had none for, or -1 for all when the queue is
   * closed and done.
   */
  async #take(want: number): Promise<(Taken | -1 | undefined)[]> {
    const r = await this.#o.core.script<number | [string, string, number][]>(
      `get from ${this.#o.what}`,
      STREAM_GET,
      this.#keys(),
      [this.#name, this.#leaseMs, this.#maxDeliveries, this.#o.channel, want],
    );
    if (r === -1) return Array(want).fill(-1);
    const got = Array.isArray(r) ? r : [];
    return Array.from(
      { length: want },
      (_, i) =>
        got[i] ? { id: got[i][0], text: got[i][1], deliveries: Number(got[i][2]) } : undefined,
    );
  }

  /** Keeps the lease of an entry taken, until it is released. */
  hold(id: string): void {
    this.#held.push(id);
    if (this.#stopRenewal) return;
    const { core } = this.#o;
    let running = false;
    this.#stopRenewal = core.every(
      Math.max(10, Math.floor(this.#leaseMs / 3)),
      () => {
        if (running) return;
        if (this.#held.length === 0 || core.closed) {
          this.#stopRenewal?.();
          this.#stopRenewal = undefined;
          return;
        }
        running = true;
        core.script(
          `renew the leases of ${this.#o.what}`,
          STREAM_RENEW,
          this.#keys(),
          [this.#name, ...this.#held],
        ).then(
          () => (running = false),
          () => (running = false), // Retried at the next tick; past the lease, others take over.
        );
      },
    );
  }

  /**
   * Stops holding the oldest entry held.
   *
   * @returns Its id, or `undefined` if none is held.
   */
  release(): string | undefined {
    const id = this.#held.shift();
    if (this.#held.length === 0) {
      this.#stopRenewal?.();
      this.#stopRenewal = undefined;
    }
    return id;
  }

  /** Acknowledges the entry `id` (in the background; see {@linkcode StreamConsumer.acked}). */
  acknowledge(id: string): void {
    const ack = this.#acker.run(id);
    this.#acks.add(ack);
    const settle = () => this.#acks.delete(ack);
    ack.then(settle, settle);
    this.#o.background(ack);
  }

  /** Resolves once every acknowledgement made so far has been answered. */
  async acked(): Promise<void> {
    await Promise.allSettled([...this.#acks]);
  }

  /** Acknowledges the entries `ids` in one script call. */
  async #ack(ids: string[]): Promise<void[]> {
    const [, size, unfinished, version] = await this.#o.core.script<number[]>(
      `mark a task done on ${this.#o.what}`,
      STREAM_ACK,
      this.#keys(),
      [this.#o.channel, ...ids],
    );
    this.#o.mirror.update({ size, unfinished }, version);
    return [];
  }
}
