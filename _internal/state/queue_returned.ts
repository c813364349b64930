// Copyright the multiproc authors. MIT license.
/**
 * Items of a queue given back by live consumers, for `QueueState`, and who
 * may have them. A consumer uses what it holds, oldest first, before
 * anything it gets next; so an item given back goes only to a getter whose
 * newest item (used or held) is older than it. Otherwise a consumer that
 * fetched ahead and gave an item back could hand it to another that had
 * already used a newer one, which would see a producer's items out of
 * order (Python's one pipe never does).
 *
 * @module
 */

import { type Numbered, sorted } from "./queue_ledger.ts";

/** Items given back, oldest first, with their numbers. */
export class Returned<T> {
  #pool: Numbered<T> = { items: [], seqs: [] };

  /** How many items are here. */
  get length(): number {
    return this.#pool.items.length;
  }

  /** Adds items given back (in any order). */
  add(back: Numbered<T>): void {
    if (back.items.length === 0) return;
    const pool = this.#pool;
    this.#pool = sorted({
      items: pool.items.concat(back.items),
      seqs: pool.seqs.concat(back.seqs),
    });
  }

  /** How many items here a getter whose newest item is number `newest` may have. */
  countFor(newest: number): number {
    return this.length - this.#firstAfter(newest);
  }

  /**
   * Takes up to `max` of the oldest items a getter whose newest item is
   * number `newest` may have; their numbers are appended to `seqs`.
   */
  takeFor(newest: number, max: number, seqs: number[]): T[] {
    const start = this.#firstAfter(newest);
    const n = Math.min(max, this.length - start);
    if (n <= 0) return [];
    for (const seq of this.#pool.seqs.splice(start, n)) seqs.push(seq);
    return this.#pool.items.splice(start, n);
  }

  /** Takes every item, for anyone. */
  drain(): Numbered<T> {
    const pool = this.#pool;
    this.#pool = { items: [], seqs: [] };
    return pool;
  }

  /** The index of the first item newer than number `newest`. */
  #firstAfter(newest: number): number {
    const seqs = this.#pool.seqs;
    let i = seqs.length;
    while (i > 0 && seqs[i - 1] > newest) i--;
    return i;
  }
}
