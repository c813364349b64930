// Copyright the multiproc authors. MIT license.
/**
 * Where a queue's state lives, behind one interface, {@linkcode QueueBacking},
 * and what every queue class does the same way over it,
 * {@linkcode QueueFront}:
 *
 * - `queue_hub.ts`: in the creating process's hub, for `Queue`,
 *   `SimpleQueue` and `JoinableQueue` (puts batched, items fetched ahead).
 * - `redis/_list_backing.ts` and `redis/_stream_backing.ts`: in Redis, for
 *   `RemoteQueue` (a list) and `RemoteJoinableQueue` (a stream read by a
 *   consumer group, with leases and acknowledgements).
 *
 * The front checks arguments, encodes and decodes items, keeps the
 * closed-here state, serves gets from the items fetched ahead (when the
 * backing fetches ahead), counts the items taken for `taskDone()`'s local
 * check, and iterates until closed. A backing answers in batches: one call
 * per put or per batch taken, never an extra call or Promise per item
 * served from the buffer.
 *
 * @module
 */

import { decode, decodeSync, type Encoded, type HandleData } from "../codec.ts";
import { QueueClosed } from "../errors.ts";
import { untilClosed } from "../until_closed.ts";
import { checkTimeout, type WaitOptions } from "../wait.ts";

/**
 * An item decoded: at once (no Promise) unless it names modules to import
 * for the handles in it.
 */
export function decodeEncoded(enc: Encoded): unknown {
  return enc.m ? decode(enc) : decodeSync(enc);
}

/**
 * The state of one queue, as a queue object reaches it. `S` is an item as
 * the backing stores it (encoded bytes, JSON text, a stream entry).
 */
export interface QueueBacking<S> {
  /** The queue in error messages ("the queue", `remote queue "jobs"`). */
  readonly what: string;
  /** The capacity (0: unbounded). */
  readonly maxsize: number;
  /** Fetching ahead of use, if this backing does it (else every get takes one item). */
  readonly ahead: AheadFetch<S> | undefined;
  /** Encodes an item for {@linkcode QueueBacking.put}; `context` begins the error message. */
  encode(item: unknown, context: string): unknown;
  /** The encoded value of a stored item. */
  unpack(stored: S): Encoded;
  /** Throws, once, the error an earlier call that nobody awaited left. */
  throwPending(): void;
  /**
   * Puts an encoded item, waiting for room per `options`: a Promise that
   * resolves once the queue has it, or `undefined` when the item is on its
   * way without waiting (an unbounded queue batching its puts; that may
   * also return a Promise, resolved once the writes it queued behind have
   * caught up).
   *
   * @throws {Full} If the timeout expires while the queue is full.
   * @throws {QueueClosed} If the queue is closed.
   */
  put(encoded: unknown, options: WaitOptions): Promise<void> | undefined;
  /**
   * Takes at least one and at most `n` items, waiting for the first per `options`.
   *
   * @throws {Empty} If the timeout expires while the queue is empty.
   * @throws {QueueClosed} If the queue is closed and drained.
   */
  take(n: number, options: WaitOptions): Promise<S[]>;
  /** Closes the queue for everyone (in the background). */
  close(): void;
  /** The number of items (a snapshot, this object's own changes included). */
  size(): number;
  /** Whether the queue was closed, by any process (a snapshot, this object's own close included). */
  closed(): boolean;
  /**
   * Describes the queue for another process or thread: `kind` names the
   * reviver, registered by `module`, that opens the same queue from it.
   */
  toHandle(kind: string, module: string): HandleData;
  /** The copies of a pipe end writing to it, where the backing counts them (a hub's queue). */
  readonly copies?: EndCopyRequests;
}

/**
 * The copies of the pipe end that writes to a queue, counted where the
 * queue lives (see `state/end_copies.ts`): requests sent in order with the
 * queue's others (so a copy's puts reach the queue before its release),
 * without waiting for an answer.
 */
export interface EndCopyRequests {
  /** This realm holds one more copy (a new end). */
  hold(): void;
  /** This realm hands a copy on under `token`; `moves`: the copy it held goes with it. */
  lend(token: string, moves: boolean): void;
  /** This realm revived the copy lent under `token`. */
  adopt(token: string): void;
  /**
   * The copy lent under `token` lapses unless adopted: its receiver died (process `pid`, if
   * another process), or it was never sent.
   */
  lapse(token: string, pid?: number): void;
  /** This realm closed a copy: the queue closes with the last one. */
  release(): void;
}

/** The state of a joinable queue: a queue that counts unfinished tasks. */
export interface JoinableQueueBacking<S> extends QueueBacking<S> {
  /** Whether a `taskDone()` may acknowledge an item this object did not take (Python allows it). */
  othersUnfinished(): boolean;
  /** Records one acknowledgement; what it returns is `taskDone()`'s. */
  taskDone(): Promise<void> | void;
  /** Waits until every item put has been acknowledged; `false` on timeout. */
  join(options: WaitOptions): Promise<boolean>;
  /** The number of unfinished tasks (a snapshot). */
  unfinished(): number;
}

/**
 * How a backing fetches items ahead of use. Items fetched belong to the
 * queue until used: the backing hears of each use, may ask for the unused
 * ones back, and gets them back.
 */
export interface AheadFetch<S> {
  /** Most items one fetch takes. */
  readonly max: number;
  /** Records that one item fetched ahead was used (batched by the backing). */
  used(): void;
  /** Takes up to `n` items at once without waiting (sent now); rejects when there are none. */
  fetch(n: number): Promise<S[]>;
  /** Gives unused items back (also none, to answer the backing's request for them). */
  giveBack(items: S[]): void;
  /**
   * Calls `revoke` whenever the backing wants the unused items back: `now`
   * (e.g. before a clean exit), or as soon as it can.
   */
  onRevoke(revoke: (now: boolean) => void): void;
}

/**
 * What every queue class does over its backing: the checks, the encoding,
 * the closed-here state, the buffer of items fetched ahead and the local
 * `taskDone()` check.
 */
export class QueueFront<T, S> {
  #b: QueueBacking<S>;
  #ahead: AheadFetch<S> | undefined;
  #putWhat: string;
  #getWhat: string;
  #putContext: string;
  #closedHere = false;
  /** Items fetched ahead (still encoded), handed out before asking the backing again. */
  #buffer: S[] = [];
  #bufferHead = 0;
  #want = 1;
  #watching = false;
  /** A fetch ahead in flight (see {@linkcode QueueFront.#fetchAhead}); it never rejects. */
  #fetching: Promise<void> | undefined;
  /** The backing asked for the buffer back while a fetch ahead was in flight. */
  #fetchRevoked = false;
  /** The last fetch ahead found the queue empty: none until a get has had to ask. */
  #dry = false;
  /** Items `get()` took through this object. */
  #taken = 0;

  /** @param backing Where the queue's state lives. */
  constructor(backing: QueueBacking<S>) {
    this.#b = backing;
    this.#ahead = backing.ahead;
    this.#putWhat = `put on ${backing.what}`;
    this.#getWhat = `get from ${backing.what}`;
    this.#putContext = `Cannot ${this.#putWhat} as`;
  }

  /** How many items `get()` has taken through this object (for `taskDone()`'s check). */
  get taken(): number {
    return this.#taken;
  }

  /** Puts an item (see `Queue.put`). */
  async put(item: T, options: WaitOptions): Promise<void> {
    this.#checkPut(options);
    const waiting = this.#b.put(this.#b.encode(item, this.#putContext), options);
    if (waiting !== undefined) await waiting;
  }

  #checkPut(options: WaitOptions): void {
    checkTimeout(options.timeout, this.#putWhat);
    this.#b.throwPending();
    // Closed here: fail at once. Closed elsewhere: the backing refuses the item.
    if (this.#closedHere) throw new QueueClosed(`Cannot ${this.#putWhat} as it is closed`);
  }

  /** The front of each queue object, for the library's own code over a queue (a `Pipe`'s ends). */
  static readonly of: WeakMap<object, QueueFront<unknown, unknown>> = new WeakMap();

  /**
   * Encodes an item for {@linkcode QueueFront.putEncoded}: at once, so that
   * what cannot be cloned throws here, and a later change to the item changes
   * nothing.
   *
   * @param context Begins the error message (default: "Cannot put on … as").
   * @throws {TypeError} If it cannot be cloned.
   */
  encode(item: T, context: string = this.#putContext): unknown {
    return this.#b.encode(item, context);
  }

  /** The copies of a pipe end writing to the queue, if its backing counts them. */
  get copies(): EndCopyRequests | undefined {
    return this.#b.copies;
  }

  /**
   * Puts an item encoded by {@linkcode QueueFront.encode}: in order with
   * this object's other puts, without waiting on an unbounded queue.
   */
  async putEncoded(encoded: unknown, options: WaitOptions): Promise<void> {
    this.#checkPut(options);
    const waiting = this.#b.put(encoded, options);
    if (waiting !== undefined) await waiting;
  }

  /** Takes and decodes an item (see `Queue.get`). */
  async get(options: WaitOptions): Promise<T> {
    // No await on the decoding of an item without modules to import (most items).
    return this.#decoded(this.#fromBuffer(options) ?? await this.#fetch(options));
  }

  /** Takes an item as the backing stores it (decode it with {@linkcode QueueFront.decode}). */
  async getStored(options: WaitOptions): Promise<S> {
    return this.#fromBuffer(options) ?? await this.#fetch(options);
  }

  /** Decodes a stored item. */
  async decode(stored: S): Promise<T> {
    return await this.#decoded(stored);
  }

  /** A stored item decoded: at once, or once the modules its handles need are imported. */
  #decoded(stored: S): T | Promise<T> {
    return decodeEncoded(this.#b.unpack(stored)) as T | Promise<T>;
  }

  /** Checks a get, and serves it from the buffer if it can do so at once. */
  #fromBuffer(options: WaitOptions): S | undefined {
    checkTimeout(options.timeout, this.#getWhat);
    this.#b.throwPending();
    if (this.#bufferHead >= this.#buffer.length) return undefined;
    const stored = this.#buffer[this.#bufferHead++];
    const ahead = this.#ahead!;
    // The backing hears of it (batched) so a crash redelivers only what was not used.
    ahead.used();
    // Half of the buffer used: fetch the next batch now, so that it is here when this one ends
    // (a consumer keeping up with a backlog then never waits a round trip for it).
    if (
      this.#fetching === undefined && !this.#dry &&
      this.#buffer.length - this.#bufferHead <= this.#want >> 1
    ) this.#fetchAhead(ahead);
    this.#taken++;
    return stored;
  }

  /** A get the buffer could not serve at once: asks the backing. */
  async #fetch(options: WaitOptions): Promise<S> {
    // More is on its way: wait for it rather than ask again.
    if (this.#fetching) {
      await this.#fetching;
      const stored = this.#fromBuffer(options);
      if (stored !== undefined) return stored;
    }
    const ahead = this.#ahead;
    const items = await this.#b.take(this.#want, options);
    this.#dry = false;
    if (ahead !== undefined) {
      // Fetch more at once while there is a backlog, back to one at a time when there is not.
      this.#want = Math.min(ahead.max, Math.max(1, items.length * 2));
      if (items.length > 1) {
        if (this.#bufferHead < this.#buffer.length) {
          this.#buffer = this.#buffer.slice(this.#bufferHead).concat(items.slice(1));
          this.#bufferHead = 0;
        } else {
          this.#buffer = items;
          this.#bufferHead = 1;
        }
        this.#watch(ahead);
      }
    }
    this.#taken++;
    return items[0];
  }

  /**
   * Fetches the next batch ahead of the gets that will use it, without
   * waiting: the backing holds every item of it for this object until told
   * it was used, like the rest of the buffer, so a crash redelivers them.
   */
  #fetchAhead(ahead: AheadFetch<S>): void {
    this.#fetchRevoked = false;
    this.#fetching = ahead.fetch(this.#want).then(
      (items) => {
        this.#fetching = undefined;
        if (this.#bufferHead < this.#buffer.length) {
          this.#buffer = this.#buffer.slice(this.#bufferHead).concat(items);
        } else this.#buffer = items;
        this.#bufferHead = 0;
        this.#want = Math.min(ahead.max, Math.max(this.#want, items.length * 2));
        this.#watch(ahead);
        // Asked back while on the way: they go back with the rest.
        if (this.#fetchRevoked) this.#giveBack(ahead, true);
      },
      () => {
        // Empty or closed (the next get finds out for itself), or the backing is gone (likewise).
        this.#fetching = undefined;
        this.#dry = true;
        if (this.#fetchRevoked) this.#giveBack(ahead, true);
      },
    );
  }

  /**
   * Gives the buffer's unused items back, for other consumers. Items given
   * back go to the head of the queue, so a batch still on its way (newer
   * items) must not go back before the buffer (older ones): unless `now`,
   * the buffer waits for it and both go back together, in order.
   */
  #giveBack(ahead: AheadFetch<S>, now: boolean): void {
    if (this.#fetching) {
      this.#fetchRevoked = true;
      if (!now) return;
    }
    const rest = this.#buffer.slice(this.#bufferHead);
    this.#buffer = [];
    this.#bufferHead = 0;
    this.#want = 1;
    // Even with nothing to give back: the hub's getters wait for this answer.
    ahead.giveBack(rest);
  }

  #watch(ahead: AheadFetch<S>): void {
    if (this.#watching) return;
    this.#watching = true;
    ahead.onRevoke((now) => this.#giveBack(ahead, now));
  }

  /** The number of items (a snapshot). */
  qsize(): number {
    return this.#b.size();
  }

  /** Whether the queue was closed, here or by another process (a snapshot). */
  closed(): boolean {
    return this.#closedHere || this.#b.closed();
  }

  /** Whether a bounded queue is full (a snapshot). */
  full(): boolean {
    const { maxsize } = this.#b;
    return maxsize > 0 && this.#b.size() >= maxsize;
  }

  /** Closes the queue for everyone; puts through this object fail at once from now on. */
  close(): void {
    this.#closedHere = true;
    this.#b.close();
  }

  /** Yields items until the queue is closed and drained. */
  iterate(): AsyncIterator<T> {
    return untilClosed(() => this.get({}));
  }
}

/** What every joinable queue class does over its backing: a queue's, and `taskDone()`'s check. */
export class JoinableFront<T, S> extends QueueFront<T, S> {
  #b: JoinableQueueBacking<S>;
  /** `taskDone()` calls made on this object. */
  #done = 0;

  /** @param backing Where the queue's state lives. */
  constructor(backing: JoinableQueueBacking<S>) {
    super(backing);
    this.#b = backing;
  }

  /**
   * Marks one task done.
   *
   * @throws {Error} If it is one too many for certain: this object has
   *   acknowledged every item it took, and the backing knows of no other.
   */
  taskDone(): Promise<void> | void {
    // Too many for certain only if this object has acknowledged every item it took (else that
    // item is still unfinished: only this object can have acknowledged it), and if the backing
    // has no other unfinished item (it checks again in any case).
    if (this.taken - this.#done <= 0 && !this.#b.othersUnfinished()) {
      throw new Error(
        `Cannot mark a task done on ${this.#b.what}: task_done() called too many times`,
      );
    }
    const recorded = this.#b.taskDone();
    this.#done++;
    return recorded;
  }

  /** Waits until every item put has been marked done; `false` on timeout. */
  async join(options: WaitOptions): Promise<boolean> {
    checkTimeout(options.timeout, `join ${this.#b.what}`);
    return await this.#b.join(options);
  }

  /** The number of unfinished tasks (a snapshot). */
  unfinished(): number {
    return this.#b.unfinished();
  }
}
