// Copyright the multiproc authors. MIT license.
/**
 * Items a queue keeps for one owner only, for `QueueState`: what a consumer
 * gave back after the queue stopped waiting for it (see
 * `QueueState.returnOverdue`). Other getters were served newer items
 * meanwhile, so these older ones must not reach them (a consumer would see a
 * producer's items out of order); they go back to the consumer that had
 * them, ahead of anything newer, or to the queue if it leaves.
 *
 * @module
 */

import type { Owner } from "./common.ts";
import { type Numbered, sorted } from "./queue_ledger.ts";

/** Items kept for their owner, oldest first, by owner. */
export class Reserved<T> {
  #byOwner = new Map<Owner, Numbered<T>>();
  #count = 0;

  /** How many items are kept, for all owners. */
  get count(): number {
    return this.#count;
  }

  /** The owners that have items kept for them. */
  owners(): Owner[] {
    return [...this.#byOwner.keys()];
  }

  /** Whether `owner` has items kept for it. */
  has(owner: Owner): boolean {
    return this.#byOwner.has(owner);
  }

  /**
   * Keeps `back` for `owner`, in the order of their numbers with what it
   * already has kept.
   */
  add(owner: Owner, back: Numbered<T>): void {
    if (back.items.length === 0) return;
    const mine = this.#byOwner.get(owner);
    const all = mine === undefined
      ? back
      : { items: mine.items.concat(back.items), seqs: mine.seqs.concat(back.seqs) };
    this.#byOwner.set(owner, sorted(all));
    this.#count += back.items.length;
  }

  /** Takes up to `max` of the oldest items kept for `owner` (none: `undefined`). */
  take(owner: Owner, max: number): Numbered<T> | undefined {
    const mine = this.#byOwner.get(owner);
    if (mine === undefined) return undefined;
    const n = Math.min(max, mine.items.length);
    const out = { items: mine.items.slice(0, n), seqs: mine.seqs.slice(0, n) };
    if (n === mine.items.length) this.#byOwner.delete(owner);
    else this.#byOwner.set(owner, { items: mine.items.slice(n), seqs: mine.seqs.slice(n) });
    this.#count -= n;
    return out;
  }

  /** Takes everything kept for `owner` (it left): for the queue. */
  drop(owner: Owner): Numbered<T> {
    return this.take(owner, Infinity) ?? { items: [], seqs: [] };
  }
}
