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

import type { Owner } from "./common.ts";
import type { Numbered } from "./queue_ledger.ts";

/** Items given back, oldest first, with their numbers and who gave each back. */
export class Returned<T> {
  #pool: Numbered<T> = { items: [], seqs: [] };
  /** Who gave back each item of the pool (parallel to it). */
  #from: Owner[] = [];

  /** How many items are here. */
  get length(): number {
    return this.#pool.items.length;
  }

  /** Adds items `owner` gave back (in any order). */
  add(back: Numbered<T>, owner: Owner): void {
    if (back.items.length === 0) return;
    const pool = this.#pool;
    const order = pool.seqs.concat(back.seqs).map((seq, i) => [seq, i] as const)
      .sort((x, y) => x[0] - y[0]).map(([, i]) => i);
    const items = pool.items.concat(back.items);
    const seqs = pool.seqs.concat(back.seqs);
    const from = this.#from.concat(back.items.map(() => owner));
    this.#pool = { items: order.map((i) => items[i]), seqs: order.map((i) => seqs[i]) };
    this.#from = order.map((i) => from[i]);
  }

  /** Whether a getter whose newest item is number `newest` may have these (all of them, then). */
  mayHave(newest: number): boolean {
    return this.length === 0 || this.#pool.seqs[0] > newest;
  }

  /** Takes up to `max` of the oldest items; their numbers are appended to `seqs`. */
  take(max: number, seqs: number[]): T[] {
    const n = Math.min(max, this.length);
    for (const seq of this.#pool.seqs.splice(0, n)) seqs.push(seq);
    this.#from.splice(0, n);
    return this.#pool.items.splice(0, n);
  }

  /** Takes every item, for anyone. */
  drain(): Numbered<T> {
    const pool = this.#pool;
    this.#pool = { items: [], seqs: [] };
    this.#from = [];
    return pool;
  }

  /**
   * Takes, for anyone, the items `owner` gave back (it left: it will not
   * come back for them); the others' stay for whoever may have them.
   */
  drainFrom(owner: Owner): Numbered<T> {
    const out: Numbered<T> = { items: [], seqs: [] };
    const kept: Numbered<T> = { items: [], seqs: [] };
    const keptFrom: Owner[] = [];
    const pool = this.#pool;
    for (let i = 0; i < pool.items.length; i++) {
      if (this.#from[i] === owner) {
        out.items.push(pool.items[i]);
        out.seqs.push(pool.seqs[i]);
      } else {
        kept.items.push(pool.items[i]);
        kept.seqs.push(pool.seqs[i]);
        keptFrom.push(this.#from[i]);
      }
    }
    this.#pool = kept;
    this.#from = keptFrom;
    return out;
  }
}
