// Copyright the multiproc authors. MIT license.
/**
 * The base of `QueueState` (`queue.ts`): the queue's fields, what it tells of
 * them, and the inner workings its operations share: how waiting getters are
 * served and putters admitted. Apart from the operations so that each half
 * reads on its own (together they passed 600 lines); they share the fields as
 * `protected` members, which nothing else sees.
 *
 * @module
 */

import { QueueClosed } from "../errors.ts";
import type { Owner } from "./common.ts";
import { type QueueOrder, type Shelf, shelfFor } from "./queue_order.ts";
import { QueueLedger } from "./queue_ledger.ts";
import { Returned } from "./queue_returned.ts";
import { Waiters } from "./waiters.ts";

/** Options of `QueueState` (`queue.ts`). */
export interface QueueStateOptions<T = unknown> {
  /**
   * Largest number of items the queue holds; `<= 0` (or `Infinity`) for no
   * limit.
   *
   * @default {0}
   */
  maxsize?: number;
  /**
   * Whether the queue counts unfinished items for `taskDone()`/`join()` and
   * keeps outstanding records for redelivery.
   *
   * @default {false}
   */
  joinable?: boolean;
  /**
   * Whether the queue counts unfinished items for `taskDone()`/`join()`
   * without keeping outstanding records (Python's `queue.Queue`: a dead
   * consumer's items are not redelivered, and nothing is kept for them).
   * Joinable queues count them too.
   *
   * @default {false}
   */
  tasks?: boolean;
  /**
   * Size of an item, to bound the bytes one `getMany` returns (with
   * `batchBytes`): a consumer fetching ahead then takes fewer big items.
   */
  weigh?: (item: T) => number;
  /** Most bytes (as `weigh` counts them) one `getMany` returns, beyond its first item. */
  batchBytes?: number;
  /**
   * The order items come out in: first in first out, last in first out, or
   * lowest first by a comparison (equal ones first in first out).
   *
   * @default {"fifo"}
   */
  order?: QueueOrder<T>;
}

interface Getter {
  readonly owner: Owner;
  readonly max: number;
  /** Whether the caller keeps every item for later (see `QueueState.getMany`'s `ahead`). */
  readonly ahead: boolean;
}

interface Putter<T> {
  readonly owner: Owner;
  readonly item: T;
}

/**
 * What a `QueueState` holds, and the inner workings its operations (in
 * `queue.ts`) share. Not used on its own.
 */
export abstract class QueueCore<T = unknown> {
  #maxsize: number;
  #joinable: boolean;
  /** Whether `taskDone()` and `join()` may be called (joinable, or counting tasks only). */
  #tasks: boolean;
  protected readonly items: Shelf<T>;
  protected readonly getters = new Waiters<T[], Getter>();
  protected readonly putters = new Waiters<void, Putter<T>>();
  protected readonly joiners = new Waiters<boolean>();
  protected isClosed = false;
  protected unfinishedCount = 0;
  protected readonly ledger: QueueLedger<T>;
  /** The number the next item put gets (see `deque.ts`). */
  protected nextSeq = 1;
  /**
   * Owners asked to give back what they hold (see
   * `QueueState.awaitReturn`): until they have, waiting getters
   * are not served, so that none gets a newer item before an older one.
   */
  protected readonly awaiting = new Set<Owner>();
  /** Items given back by live consumers: each goes only to a getter that has not had a newer one. */
  protected readonly givenBack = new Returned<T>();

  /**
   * Creates the state of a queue.
   *
   * @param options The queue's size limit and whether it is joinable.
   * @throws {RangeError} If `maxsize` is `NaN`.
   */
  constructor(options: QueueStateOptions<T> = {}) {
    const {
      maxsize = 0,
      joinable = false,
      tasks = false,
      weigh,
      batchBytes = Infinity,
      order = "fifo",
    } = options;
    this.items = shelfFor(order);
    this.#weigh = weigh;
    this.#batchBytes = batchBytes;
    if (Number.isNaN(maxsize)) throw new RangeError("Queue maxsize must be a number: received NaN");
    this.#maxsize = maxsize > 0 && maxsize !== Infinity ? maxsize : 0;
    this.#joinable = joinable;
    this.#tasks = joinable || tasks;
    this.ledger = new QueueLedger(joinable);
  }

  #weigh: ((item: T) => number) | undefined;
  #batchBytes: number;

  /** The size limit, 0 when unbounded. */
  get maxsize(): number {
    return this.#maxsize;
  }

  /** Whether the queue is joinable. */
  get joinable(): boolean {
    return this.#joinable;
  }

  /** Number of items in the queue. */
  get qsize(): number {
    return this.items.length + this.givenBack.length;
  }

  /** Whether the queue holds no item. */
  get empty(): boolean {
    return this.qsize === 0;
  }

  /** Whether the queue is bounded and holds `maxsize` items or more. */
  get full(): boolean {
    return this.#maxsize > 0 && this.qsize >= this.#maxsize;
  }

  /** Whether a get by `owner` would find an item for it now (a snapshot). */
  hasFor(owner: Owner): boolean {
    return this.availableFor(owner) > 0;
  }

  /**
   * Whether items given back wait while getters that must not have them do
   * (see `QueueState.releaseReturned`).
   */
  get stranded(): boolean {
    return this.givenBack.length > 0 && this.getters.size > 0;
  }

  /** Whether `QueueState.close` was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Number of items put and not yet acknowledged by `taskDone()` (joinable queues). */
  get unfinished(): number {
    return this.unfinishedCount;
  }

  /** Number of items taken and not yet acknowledged, which a death would redeliver. */
  get outstanding(): number {
    return this.ledger.outstanding;
  }

  /** How many items handed out in batches are not used yet (counted in the published size). */
  get held(): number {
    return this.ledger.held;
  }

  /** Number of pending gets. */
  get getting(): number {
    return this.getters.size;
  }

  /** Number of pending puts. */
  get putting(): number {
    return this.putters.size;
  }

  /**
   * How many items `owner` may take now: all of them, unless items given
   * back are there that it may not have (see `queue_returned.ts`); then none,
   * as it takes nothing past them.
   */
  protected availableFor(owner: Owner): number {
    if (this.givenBack.length === 0) return this.items.length;
    if (!this.givenBack.mayHave(this.ledger.newest(owner))) return 0;
    return this.givenBack.length + this.items.length;
  }

  /**
   * Takes up to `max` items for `owner`: first what was given back that it
   * may have (older), then from the front of the queue; and records them.
   */
  protected takeFor(owner: Owner, max: number, ahead: boolean): T[] {
    const seqs: number[] = [];
    let items = this.givenBack.length === 0 ? [] : this.givenBack.take(max, seqs);
    if (items.length < max && this.items.length > 0) {
      const more = this.items.take(max - items.length, seqs, this.#weigh, this.#batchBytes);
      items = items.length === 0 ? more : items.concat(more);
    }
    this.ledger.track(owner, items, seqs, ahead);
    return items;
  }

  /**
   * Whether `n` more items may enter now without overtaking waiting putters.
   * Items handed out ahead of use still take room, as they count in the
   * published size: a consumer fetching ahead does not let producers run
   * ahead of a bounded queue's `maxsize`.
   */
  protected hasRoom(n: number): boolean {
    if (this.putters.size > 0) return false;
    return this.#maxsize === 0 || this.#occupied + n <= this.#maxsize;
  }

  /** What takes room in a bounded queue: the items in it and those handed out ahead of use. */
  get #occupied(): number {
    return this.qsize + this.ledger.held;
  }

  /** Adds one new item at the end (to the oldest waiting getter, if any). */
  protected enqueue(item: T): void {
    this.unfinishedCount++;
    this.items.push(item, this.nextSeq++);
    this.serve();
  }

  /**
   * Hands the items at the front to waiting getters, oldest getter first,
   * unless owners are still giving back theirs (see
   * `QueueState.awaitReturn`).
   */
  protected serve(): void {
    if (this.awaiting.size > 0) return;
    let served = false;
    while (this.getters.size > 0) {
      let getter = this.getters.peek() as Getter;
      let available = this.availableFor(getter.owner);
      if (available === 0) {
        if (this.givenBack.length === 0) break;
        // The oldest getter may not have what was given back: the oldest one that may.
        const found: Getter[] = [];
        this.getters.some((g) => this.availableFor(g.owner) > 0 && found.push(g) > 0);
        if (found.length === 0) break;
        getter = found[0];
        available = this.availableFor(getter.owner);
      }
      // Several getters waiting share the items instead of the first taking them all.
      const share = Math.ceil(available / this.getters.size);
      const batch = this.takeFor(getter.owner, Math.min(getter.max, share), getter.ahead);
      this.getters.wakeFirstWhere((g) => g === getter, batch);
      served = true;
    }
    // What a getter was handed (given back by another consumer, say) leaves room behind.
    if (served && this.putters.size > 0) this.admitPutters();
    if (this.isClosed && this.qsize === 0) {
      this.getters.rejectAll(this.closedError("get from"));
    }
  }

  /** Moves the items of waiting putters into the queue while there is room. */
  protected admitPutters(): void {
    while (this.putters.size > 0 && (this.#maxsize === 0 || this.#occupied < this.#maxsize)) {
      const putter = this.putters.peek() as Putter<T>;
      this.putters.wakeFirst();
      this.enqueue(putter.item);
    }
  }

  protected assertJoinable(method: string): void {
    if (!this.#tasks) {
      throw new TypeError(`Cannot call ${method}() on the queue as it is not joinable`);
    }
  }

  protected closedError(what: string): QueueClosed {
    return new QueueClosed(
      what === "put to"
        ? "Cannot put to the queue as it is closed"
        : `Cannot ${what} the queue as it is closed and empty`,
    );
  }
}
