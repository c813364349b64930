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
import { type Numbered, sorted } from "./queue_ledger.ts";

/** An item given back, and who gave it back. */
interface Given<T> {
  item: T;
  from: Owner;
}

/** Items given back, oldest first, with their numbers and who gave each back. */
export class Returned<T> {
  #pool: Numbered<Given<T>> = { items: [], seqs: [] };

  /** How many items are here. */
  get length(): number {
    return this.#pool.items.length;
  }

  /** Adds items `owner` gave back (in any order). */
  add(back: Numbered<T>, owner: Owner): void {
    if (back.items.length === 0) return;
    const pool = this.#pool;
    this.#pool = sorted({
      items: pool.items.concat(back.items.map((item) => ({ item, from: owner }))),
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
    return this.#pool.items.splice(0, n).map((given) => given.item);
  }

  /** Takes every item, for anyone. */
  drain(): Numbered<T> {
    return this.#takeWhere(() => true);
  }

  /**
   * Takes, for anyone, the items `owner` gave back (it left: it will not
   * come back for them); the others' stay for whoever may have them.
   */
  drainFrom(owner: Owner): Numbered<T> {
    return this.#takeWhere((given) => given.from === owner);
  }

  /** Takes the items `which` picks, in their order. */
  #takeWhere(which: (given: Given<T>) => boolean): Numbered<T> {
    const out: Numbered<T> = { items: [], seqs: [] };
    const kept: Numbered<Given<T>> = { items: [], seqs: [] };
    const { items, seqs } = this.#pool;
    for (let i = 0; i < items.length; i++) {
      if (which(items[i])) {
        out.items.push(items[i].item);
        out.seqs.push(seqs[i]);
      } else {
        kept.items.push(items[i]);
        kept.seqs.push(seqs[i]);
      }
    }
    this.#pool = kept;
    return out;
  }
}
