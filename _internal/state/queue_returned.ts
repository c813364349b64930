// Copyright the multiproc authors. MIT license.
/**
 * Items of a queue given back by live consumers, for `QueueState`, and who
 * may have them. A consumer uses what it holds, oldest first, before
 * anything it gets next; so an item given back may go only to a getter
 * whose newest item (used or held) is older than it, such as the consumer
 * that gave it back. Otherwise a consumer that fetched ahead and gave an
 * item back could hand it to another that had already used a newer one,
 * which would see a producer's items out of order (Python's one pipe never
 * does). A getter that may not have them does not take newer items past
 * them either: a sentinel put after them must not end a consumer while they
 * are still there.
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

  /** Whether a getter whose newest item is number `newest` may have these (all of them, then). */
  mayHave(newest: number): boolean {
    return this.length === 0 || this.#pool.seqs[0] > newest;
  }

  /** Takes up to `max` of the oldest items; their numbers are appended to `seqs`. */
  take(max: number, seqs: number[]): T[] {
    const n = Math.min(max, this.length);
    for (const seq of this.#pool.seqs.splice(0, n)) seqs.push(seq);
    return this.#pool.items.splice(0, n);
  }

  /** Takes every item, for anyone. */
  drain(): Numbered<T> {
    const pool = this.#pool;
    this.#pool = { items: [], seqs: [] };
    return pool;
  }
}
