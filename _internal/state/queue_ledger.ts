// Copyright the multiproc authors. MIT license.
/**
 * Who has which item of a queue, for `QueueState`: what the queue
 * hands out and must be able to take back when the taker dies or gives it
 * back. The queue's items and waiters stay in `queue.ts`.
 *
 * @module
 */

import type { Owner } from "./common.ts";

interface Outstanding<T> {
  readonly owner: Owner;
  readonly item: T;
}

/**
 * The items a `QueueState` has handed out, by owner:
 *
 * - held: the items of a batch beyond the first one a get returned, kept by
 *   a client until it uses them ({@linkcode QueueLedger.consumed});
 * - outstanding (joinable queues only): every item taken and not yet
 *   acknowledged by `taskDone()`, in the order taken.
 */
export class QueueLedger<T> {
  #joinable: boolean;
  /** Items handed out in a batch beyond the one the get returned: held by a client until used. */
  #held = new Map<Owner, T[]>();
  #heldCount = 0;
  #seq = 0;
  /** Outstanding items by sequence number, so in the order they were taken. */
  #outstanding = new Map<number, Outstanding<T>>();
  #byOwner = new Map<Owner, Set<number>>();

  /** @param joinable Whether items are outstanding until acknowledged. */
  constructor(joinable: boolean) {
    this.#joinable = joinable;
  }

  /** How many items handed out in batches are not used yet. */
  get held(): number {
    return this.#heldCount;
  }

  /** Number of items taken and not yet acknowledged. */
  get outstanding(): number {
    return this.#outstanding.size;
  }

  /**
   * Records items returned to `owner` by a get: held beyond the first (all
   * of them for a fetch `ahead`, whose caller returns none at once), and
   * outstanding.
   */
  track(owner: Owner, items: readonly T[], ahead = false): void {
    const first = ahead ? 0 : 1;
    if (items.length > first) {
      const held = this.#held.get(owner);
      if (held === undefined) this.#held.set(owner, items.slice(first));
      else for (let i = first; i < items.length; i++) held.push(items[i]);
      this.#heldCount += items.length - first;
    }
    if (!this.#joinable) return;
    let mine = this.#byOwner.get(owner);
    if (mine === undefined) {
      mine = new Set();
      this.#byOwner.set(owner, mine);
    }
    for (const item of items) {
      const seq = ++this.#seq;
      this.#outstanding.set(seq, { owner, item });
      mine.add(seq);
    }
  }

  /** Records that `owner` used `n` of the items it holds, oldest first. */
  consumed(owner: Owner, n: number): void {
    const held = this.#held.get(owner);
    if (held === undefined) return;
    const k = Math.min(n, held.length);
    held.splice(0, k);
    this.#heldCount -= k;
    if (held.length === 0) this.#held.delete(owner);
  }

  /**
   * Acknowledges one item: removes the caller's oldest outstanding record if
   * it has one, else the oldest of anyone's; then drops the oldest records
   * until no more than `unfinished` remain.
   */
  acknowledge(owner: Owner, unfinished: number): void {
    const mine = this.#byOwner.get(owner);
    if (mine !== undefined) {
      this.#settle(mine.values().next().value as number);
    } else {
      this.#settleOldest();
    }
    // Misuse (taskDone before the item was taken) could leave more records
    // than unfinished items; those records could only cause duplicates.
    while (this.#outstanding.size > unfinished) this.#settleOldest();
  }

  /**
   * Forgets everything `owner` has, as it died, and returns the items to
   * redeliver, oldest first: for a joinable queue what it took and did not
   * acknowledge; for a plain queue what it was handed in a batch and did not
   * use (what it used is gone, as in Python).
   */
  dropOwner(owner: Owner): T[] {
    const held = this.#dropHeld(owner);
    if (!this.#joinable) return held ?? [];
    const mine = this.#byOwner.get(owner);
    if (mine === undefined) return [];
    this.#byOwner.delete(owner);
    const items: T[] = [];
    for (const seq of mine) {
      items.push((this.#outstanding.get(seq) as Outstanding<T>).item);
      this.#outstanding.delete(seq);
    }
    return items;
  }

  /**
   * Forgets what `owner` holds and its `n` newest outstanding records: it
   * gave back `n` items it took and did not use.
   */
  unget(owner: Owner, n: number): void {
    this.#dropHeld(owner);
    if (n === 0) return;
    const mine = this.#byOwner.get(owner);
    if (mine === undefined) return;
    const newest = [...mine].slice(-n);
    for (const seq of newest) {
      mine.delete(seq);
      this.#outstanding.delete(seq);
    }
    if (mine.size === 0) this.#byOwner.delete(owner);
  }

  #dropHeld(owner: Owner): T[] | undefined {
    const held = this.#held.get(owner);
    if (held !== undefined) {
      this.#heldCount -= held.length;
      this.#held.delete(owner);
    }
    return held;
  }

  #settleOldest(): void {
    for (const seq of this.#outstanding.keys()) {
      this.#settle(seq);
      return;
    }
  }

  #settle(seq: number): void {
    const record = this.#outstanding.get(seq);
    if (record === undefined) return;
    this.#outstanding.delete(seq);
    const mine = this.#byOwner.get(record.owner) as Set<number>;
    mine.delete(seq);
    if (mine.size === 0) this.#byOwner.delete(record.owner);
  }
}
