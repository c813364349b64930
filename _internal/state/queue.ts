// Copyright the multiproc authors. MIT license.
/**
 * State machine of a queue, joinable or not; see `common.ts`. Its operations
 * are here; its fields and the inner workings they share, in `queue_core.ts`.
 *
 * @module
 */

import { Empty, Full } from "../errors.ts";
import { noWait, type Owner, type WaitOptions } from "./common.ts";
import { QueueCore } from "./queue_core.ts";
import { type Numbered, sorted } from "./queue_ledger.ts";

export type { QueueStateOptions } from "./queue_core.ts";

/**
 * State of a queue, optionally bounded and joinable, FIFO by default (LIFO
 * or by priority with the `order` option: see `queue_order.ts`). Items (of
 * type `T`) are opaque: never inspected, cloned or encoded, only weighed by
 * the `weigh` option and compared by the `order` one if given. Who has
 * which item handed out is kept by a `QueueLedger` (`queue_ledger.ts`).
 *
 * - Mirrors Python's `queue.Queue`/`multiprocessing.Queue`/`JoinableQueue`:
 *   `Full` and `Empty` on timeout, `unfinished` counted at put,
 *   `task_done() called too many times`, `join()` at once when idle.
 * - FIFO among getters and among putters; a put hands its item directly to
 *   the oldest waiting getter; a get admits the oldest waiting putter.
 * - {@linkcode QueueState.close} (like Python 3.13's `shutdown()`): later
 *   puts and waiting putters reject with `QueueClosed`; gets drain
 *   what is left, then reject with it.
 * - Better than Python, joinable queues only: items returned by a get are
 *   "outstanding" until acknowledged by {@linkcode QueueState.taskDone};
 *   {@linkcode QueueState.dropOwner} puts a dead consumer's outstanding items
 *   back in their places (at the front of a FIFO queue), so they are
 *   redelivered instead of lost. This may
 *   make the queue hold more than `maxsize` items for a while; putters wait
 *   until it is below again.
 */
export class QueueState<T = unknown> extends QueueCore<T> {
  #redelivered = 0;

  /**
   * Records that `owner` used `n` of the items it holds (from a batch
   * `getMany` returned), oldest first.
   *
   * @param owner The caller.
   * @param n How many it used.
   */
  consumed(owner: Owner, n: number): void {
    this.ledger.consumed(owner, n);
    // They took room until now.
    this.admitPutters();
  }

  /** How many items were put back for redelivery after their consumer died. */
  get redelivered(): number {
    return this.#redelivered;
  }

  /**
   * Puts an item at the end, waiting in FIFO order for room.
   *
   * @param owner The caller.
   * @param item The item, opaque to the queue.
   * @param opts Timeout (`<= 0`: reject at once if full) and abort signal.
   * @throws {Full} (as a rejection) If there is no room before the timeout.
   * @throws {QueueClosed} (as a rejection) If the queue is or gets closed.
   * @throws {unknown} The signal's reason (as a rejection) if it aborts first.
   */
  put(owner: Owner, item: T, opts: WaitOptions = {}): Promise<void> {
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
    if (this.isClosed) return Promise.reject(this.closedError("put to"));
    if (this.hasRoom(1)) {
      this.enqueue(item);
      return Promise.resolve();
    }
    const { timeout } = opts;
    if (noWait(timeout)) {
      return Promise.reject(new Full("Cannot put to the queue as it is full"));
    }
    return this.putters.wait(
      opts,
      () => new Full(`Cannot put to the queue as it is still full after ${timeout} ms`),
      { data: { owner, item } },
    );
  }

  /**
   * Puts several items at the end at once, without waiting.
   *
   * @param owner The caller.
   * @param items The items, opaque to the queue.
   * @throws {QueueClosed} If the queue is closed.
   * @throws {Full} If the queue is bounded and has no room for all of them
   *   (nothing is put); items handed to waiting getters count as if they
   *   went through the queue.
   */
  putMany(owner: Owner, items: readonly T[]): void {
    void owner;
    if (this.isClosed) throw this.closedError("put to");
    if (items.length === 0) return;
    if (!this.hasRoom(items.length)) {
      throw new Full(`Cannot put ${items.length} items to the queue as it has no room for them`);
    }
    this.unfinishedCount += items.length;
    for (const item of items) this.items.push(item, this.nextSeq++);
    this.serve();
  }

  /**
   * Puts several items at the end, in order, waiting for room as
   * {@linkcode QueueState.put} does for each (after the putters already
   * waiting): at once (`undefined`) when there is room for all of them.
   * What a bounded queue's producer sends without waiting for an answer when
   * it saw room, which another producer may have taken meanwhile.
   *
   * @param owner The caller.
   * @param items The items, opaque to the queue.
   * @param opts Abort signal (no timeout: the caller's puts have returned).
   * @returns `undefined` if all went in at once, else a Promise that
   *   resolves once the last is in.
   * @throws {QueueClosed} If the queue is closed (also as a rejection, if it
   *   closes while they wait: those still waiting are not put).
   */
  putWaiting(owner: Owner, items: readonly T[], opts: WaitOptions = {}): Promise<void> | undefined {
    if (this.hasRoom(items.length) || this.isClosed) {
      this.putMany(owner, items);
      return undefined;
    }
    const { signal } = opts;
    return Promise.all(items.map((item) => this.put(owner, item, { signal }))).then(() => {});
  }

  /**
   * Takes the item at the front, waiting in FIFO order for one.
   *
   * @param owner The caller; for a joinable queue, the item is outstanding
   *   for it until acknowledged.
   * @param opts Timeout (`<= 0`: reject at once if empty) and abort signal.
   * @returns The item.
   * @throws {Empty} (as a rejection) If no item came before the timeout.
   * @throws {QueueClosed} (as a rejection) If the queue is closed and empty.
   * @throws {unknown} The signal's reason (as a rejection) if it aborts first.
   */
  get(owner: Owner, opts: WaitOptions = {}): Promise<T> {
    return this.#get(owner, 1, opts, "get from").then((items) => items[0]);
  }

  /**
   * Takes up to `max` items from the front: waits like
   * {@linkcode QueueState.get} for the first, then takes what is there.
   *
   * @param owner The caller; for a joinable queue, the items are outstanding
   *   for it until acknowledged.
   * @param max The most items to take.
   * @param opts Timeout (`<= 0`: reject at once if empty) and abort signal.
   * @param ahead Whether the caller fetches ahead of its gets and so keeps
   *   every item for later: all are held (see {@linkcode QueueState.consumed}),
   *   not all but the first one, which a get returns at once.
   * @returns One to `max` items, in queue order.
   * @throws {RangeError} (as a rejection) If `max` is not an integer >= 1.
   * @throws {Empty} (as a rejection) If no item came before the timeout.
   * @throws {QueueClosed} (as a rejection) If the queue is closed and empty.
   * @throws {unknown} The signal's reason (as a rejection) if it aborts first.
   */
  getMany(owner: Owner, max: number, opts: WaitOptions = {}, ahead = false): Promise<T[]> {
    if (!Number.isInteger(max) || max < 1) {
      return Promise.reject(
        new RangeError(
          `Cannot get items from the queue as max must be an integer >= 1: received ${max}`,
        ),
      );
    }
    return this.#get(owner, max, opts, "get from", ahead);
  }

  /**
   * Closes the queue: later puts reject with `QueueClosed`, and so
   * do waiting putters; gets drain what is left, then reject with it.
   * Closing again does nothing.
   */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.putters.rejectAll(this.closedError("put to"));
    // Nothing newer will come: what was given back drains to whoever gets.
    this.releaseReturned();
    if (this.items.length === 0 && this.awaiting.size === 0) {
      this.getters.rejectAll(this.closedError("get from"));
    }
  }

  /**
   * Opens a closed queue again: puts are taken and gets wait as before it
   * closed. A pipe end's queue closes while no copy of the end is in use,
   * and opens again when one is handed on again (see `end_copies.ts`).
   */
  reopen(): void {
    this.isClosed = false;
  }

  /**
   * Acknowledges one item taken from a joinable queue.
   *
   * Removes one outstanding record: the caller's oldest if it has one, else
   * the oldest of anyone's.
   *
   * @param owner The caller.
   * @throws {TypeError} If the queue is not joinable.
   * @throws {Error} `task_done() called too many times` if no item is
   *   unfinished.
   */
  taskDone(owner: Owner): void {
    this.assertJoinable("taskDone");
    if (this.unfinishedCount === 0) throw new Error("task_done() called too many times");
    this.unfinishedCount--;
    this.ledger.acknowledge(owner, this.unfinishedCount);
    if (this.unfinishedCount === 0) this.joiners.wakeAll(true);
  }

  /**
   * Waits until every item put has been acknowledged.
   *
   * @param opts Timeout (`<= 0` only checks) and abort signal.
   * @returns `true` when no item is unfinished (at once if none is), `false`
   *   on timeout.
   * @throws {TypeError} (as a rejection) If the queue is not joinable.
   * @throws {unknown} The signal's reason (as a rejection) if it aborts first.
   */
  join(opts: WaitOptions = {}): Promise<boolean> {
    try {
      this.assertJoinable("join");
    } catch (error) {
      return Promise.reject(error);
    }
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
    if (this.unfinishedCount === 0) return Promise.resolve(true);
    if (noWait(opts.timeout)) return Promise.resolve(false);
    return this.joiners.wait(opts, () => false);
  }

  /**
   * Redelivers the items `owner` took from a joinable queue and did not
   * acknowledge, as it died: they go back to the front in the order they
   * were taken, to waiting getters first. `unfinished` does not change.
   *
   * @param owner The dead caller.
   * For a plain queue, the items it had been handed in a batch and had not
   * used are redelivered (what it used is gone, as in Python).
   *
   * @returns How many items were redelivered.
   */
  dropOwner(owner: Owner): number {
    const back = this.ledger.dropOwner(owner);
    this.#redelivered += back.items.length;
    this.#putBack(back);
    // What it gave back and will not come back for goes to anyone.
    this.#releaseFrom(owner);
    this.returned(owner);
    return back.items.length;
  }

  /**
   * Gives back items a caller took but did not use (a client's prefetch
   * buffer, returned on request or at a clean exit): they go back to the
   * front in their order, to waiting getters first. For a joinable queue the
   * caller's newest outstanding records are dropped with them. Not counted
   * as redelivered.
   *
   * @param owner The caller that took them.
   * @param items The unused items, oldest first.
   */
  unget(owner: Owner, items: readonly T[]): void {
    const seqs = this.ledger.unget(owner, items.length);
    const back = sorted({ items: items as T[], seqs });
    if (this.isClosed) {
      this.#putBack(back);
    } else if (back.items.length > 0) {
      // Other consumers may have had newer items meanwhile (fetched ahead of these, or served
      // while the hub gave up waiting for them): these go only to a getter that has not.
      this.givenBack.add(back, owner);
      this.serve();
    }
    this.returned(owner);
  }

  /**
   * Puts the items given back (see {@linkcode QueueState.unget}) in the
   * queue for every getter: none that waits may have them, and their own
   * consumers have not come back for them. A getter may then see an item
   * older than one it had; without this, a consumer that stopped getting
   * would keep them from the others for good.
   */
  releaseReturned(): void {
    if (this.givenBack.length > 0) this.#putBack(this.givenBack.drain());
  }

  /**
   * Puts the items `owner` gave back in the queue for every getter, as it
   * left: the items other consumers gave back stay theirs to come back for
   * (had they gone to anyone, a getter that had newer ones could take them).
   */
  #releaseFrom(owner: Owner): void {
    if (this.givenBack.length > 0) this.#putBack(this.givenBack.drainFrom(owner));
  }

  /**
   * Puts back what `owner` was handed ahead of its gets and did not use, as
   * it left without giving it back (for a joinable queue, their outstanding
   * records go with them). Not counted as redelivered.
   *
   * @param owner The owner that left.
   */
  returnHeld(owner: Owner): void {
    this.#putBack(this.ledger.returnHeld(owner));
    this.#releaseFrom(owner); // As in dropOwner().
    this.returned(owner);
  }

  /**
   * Holds back waiting getters until `owner` has given back (or lost) what
   * it holds: the hub asked it to, for them. Without this, a getter could
   * get an item put later than one still on its way back, and so see a
   * producer's items out of order. {@linkcode QueueState.returned} (or
   * {@linkcode QueueState.unget}, {@linkcode QueueState.dropOwner}) ends it.
   *
   * @param owner The owner asked to give back what it holds.
   */
  awaitReturn(owner: Owner): void {
    this.awaiting.add(owner);
  }

  /**
   * Stops waiting for what `owner` gives back (it did, it left, or it took
   * too long), and serves waiting getters once nobody else is awaited.
   *
   * @param owner The owner.
   */
  returned(owner: Owner): void {
    if (this.awaiting.delete(owner) && this.awaiting.size === 0) this.serve();
  }

  /** Items given back or redelivered: to their places by number, then to waiting getters. */
  #putBack(back: Numbered<T>): void {
    this.items.merge(back.items, back.seqs);
    this.serve();
  }

  #get(
    owner: Owner,
    max: number,
    opts: WaitOptions,
    what: string,
    ahead = false,
  ): Promise<T[]> {
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
    // Waiting getters are served first, and nobody while items are on their way back (see
    // awaitReturn()): a get then waits its turn, a fetch ahead finds nothing.
    if (this.getters.size === 0 && this.awaiting.size === 0 && this.availableFor(owner) > 0) {
      const items = this.takeFor(owner, max, ahead);
      this.admitPutters();
      return Promise.resolve(items);
    }
    if (this.isClosed && this.qsize === 0 && this.awaiting.size === 0) {
      return Promise.reject(this.closedError(what));
    }
    const { timeout } = opts;
    if (noWait(timeout)) {
      return Promise.reject(new Empty(`Cannot ${what} the queue as it is empty`));
    }
    const waiting = this.getters.wait(
      opts,
      () => new Empty(`Cannot ${what} the queue as it is still empty after ${timeout} ms`),
      { data: { owner, max, ahead } },
    );
    // Getters before it may wait for items that are not for them (given back) but for it.
    if (this.givenBack.length > 0) this.serve();
    return waiting;
  }
}
