// Copyright the multiproc authors. MIT license.
/**
 * Who has which item of a queue, for `QueueState`: what the queue
 * hands out and must be able to take back when the taker dies or gives it
 * back. The queue's items and waiters stay in `queue_core.ts`.
 *
 * Items are known by the number the queue gave each when it was put (its
 * `seq`, see `deque.ts`), so that what comes back goes back in its place.
 *
 * @module
 */

import type { Owner } from "./common.ts";

interface Outstanding<T> {
  readonly owner: Owner;
  readonly item: T;
}

/** Items with their numbers (parallel arrays). */
export interface Numbered<T> {
  items: T[];
  seqs: number[];
}

/**
 * The items a `QueueState` has handed out, by owner:
 *
 * - held: the items of a batch beyond the first one a get returned (all of
 *   a batch fetched ahead), kept by a client until it uses them
 *   ({@linkcode QueueLedger.consumed}) or gives them back
 *   ({@linkcode QueueLedger.unget});
 * - outstanding (joinable queues only): every item taken and not yet
 *   acknowledged by `taskDone()`, in the order taken.
 */
export class QueueLedger<T> {
  #joinable: boolean;
  /** Items handed out in a batch and not used yet, oldest first, by owner. */
  #held = new Map<Owner, Numbered<T>>();
  #heldCount = 0;
  /** Outstanding items by their numbers, in the order they were taken. */
  #outstanding = new Map<number, Outstanding<T>>();
  #byOwner = new Map<Owner, Set<number>>();
  /** The newest item each owner used (a get's own item, or a held one it used), by number. */
  #used = new Map<Owner, number>();

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
   *
   * @param seqs The items' numbers.
   */
  track(owner: Owner, items: readonly T[], seqs: readonly number[], ahead = false): void {
    const first = ahead ? 0 : 1;
    if (!ahead && seqs.length > 0) this.#use(owner, seqs[0]);
    if (items.length > first) {
      let held = this.#held.get(owner);
      if (held === undefined) this.#held.set(owner, held = { items: [], seqs: [] });
      for (let i = first; i < items.length; i++) {
        held.items.push(items[i]);
        held.seqs.push(seqs[i]);
      }
      this.#heldCount += items.length - first;
    }
    if (!this.#joinable) return;
    let mine = this.#byOwner.get(owner);
    if (mine === undefined) {
      mine = new Set();
      this.#byOwner.set(owner, mine);
    }
    for (let i = 0; i < items.length; i++) {
      this.#outstanding.set(seqs[i], { owner, item: items[i] });
      mine.add(seqs[i]);
    }
  }

  /** Records that `owner` used `n` of the items it holds, oldest first. */
  consumed(owner: Owner, n: number): void {
    const used = this.#takeHeld(owner, n).seqs;
    if (used.length > 0) this.#use(owner, used[used.length - 1]);
  }

  #use(owner: Owner, seq: number): void {
    if (seq > (this.#used.get(owner) ?? -Infinity)) this.#used.set(owner, seq);
  }

  /**
   * The number of the newest item `owner` used or holds (`-Infinity` for
   * none): it uses what it holds, oldest first, before anything it gets
   * next, so an item older than this would reach it out of order.
   */
  newest(owner: Owner): number {
    const held = this.#held.get(owner);
    const used = this.#used.get(owner) ?? -Infinity;
    return held === undefined ? used : Math.max(used, held.seqs[held.seqs.length - 1]);
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
   * redeliver with their numbers, in the order of their numbers: for a
   * joinable queue what it took and did not acknowledge; for a plain queue
   * what it was handed in a batch and did not use (what it used is gone, as
   * in Python).
   */
  dropOwner(owner: Owner): Numbered<T> {
    this.#used.delete(owner);
    const held = this.#takeHeld(owner, Infinity);
    if (!this.#joinable) return sorted(held);
    const mine = this.#byOwner.get(owner);
    const out: Numbered<T> = { items: [], seqs: [] };
    if (mine === undefined) return out;
    this.#byOwner.delete(owner);
    for (const seq of mine) {
      out.items.push((this.#outstanding.get(seq) as Outstanding<T>).item);
      out.seqs.push(seq);
      this.#outstanding.delete(seq);
    }
    return sorted(out);
  }

  /**
   * Takes back the `n` oldest items `owner` holds: it gave back `n` items
   * it was handed and did not use (a client gives back what it holds, in
   * order, once what it used was recorded). Their outstanding records go
   * with them.
   *
   * @returns The numbers of the items given back, in the order of `items`.
   */
  unget(owner: Owner, n: number): number[] {
    const back = this.#takeHeld(owner, n);
    // More than it holds (a client out of step): those count as the oldest, given back first.
    const seqs = new Array<number>(n - back.seqs.length).fill(-1).concat(back.seqs);
    this.#forget(owner, back.seqs);
    return seqs;
  }

  /**
   * Takes back every item `owner` holds, with their outstanding records:
   * it left without giving them back.
   *
   * @returns The items with their numbers, in the order of their numbers.
   */
  returnHeld(owner: Owner): Numbered<T> {
    this.#used.delete(owner);
    const back = this.#takeHeld(owner, Infinity);
    this.#forget(owner, back.seqs);
    return sorted(back);
  }

  /** Drops the outstanding records `seqs` of `owner`. */
  #forget(owner: Owner, seqs: readonly number[]): void {
    const mine = this.#byOwner.get(owner);
    if (mine === undefined) return;
    for (const seq of seqs) {
      mine.delete(seq);
      this.#outstanding.delete(seq);
    }
    if (mine.size === 0) this.#byOwner.delete(owner);
  }

  /** Removes and returns the `n` oldest items `owner` holds. */
  #takeHeld(owner: Owner, n: number): Numbered<T> {
    const held = this.#held.get(owner);
    if (held === undefined) return { items: [], seqs: [] };
    const k = Math.min(n, held.items.length);
    this.#heldCount -= k;
    if (k === held.items.length) {
      this.#held.delete(owner);
      return held;
    }
    return { items: held.items.splice(0, k), seqs: held.seqs.splice(0, k) };
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

/** `numbered` in the order of its numbers (it usually is already). */
export function sorted<T>(numbered: Numbered<T>): Numbered<T> {
  const { items, seqs } = numbered;
  let inOrder = true;
  for (let i = 1; i < seqs.length && inOrder; i++) inOrder = seqs[i - 1] < seqs[i];
  if (inOrder) return numbered;
  const order = seqs.map((_, i) => i).sort((a, b) => seqs[a] - seqs[b]);
  return { items: order.map((i) => items[i]), seqs: order.map((i) => seqs[i]) };
}
