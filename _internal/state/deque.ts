// Copyright the multiproc authors. MIT license.
/**
 * A FIFO of queue items with O(1) shift (the queue state's storage). Each
 * item carries the number it was given when it was put (its `seq`), and the
 * deque stays in that order: items given back are merged in by number, so
 * that a queue hands out every producer's items in the order they were put,
 * even after some were taken and given back.
 *
 * @module
 */

/** A FIFO of numbered items, kept in the order of their numbers. */
export class Deque<T> {
  #items: (T | undefined)[] = [];
  #seqs: number[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Adds an item at the end; `seq` must be greater than every number in the deque. */
  push(item: T, seq: number): void {
    this.#items.push(item);
    this.#seqs.push(seq);
  }

  /**
   * Removes and returns up to `n` items from the front, fewer if their
   * weights would pass `budget` (at least one).
   *
   * @param seqs Receives the numbers of the items taken, in order.
   */
  take(n: number, seqs: number[], weigh?: (item: T) => number, budget = Infinity): T[] {
    let end = Math.min(this.#head + n, this.#items.length);
    if (weigh && budget !== Infinity) {
      let total = 0;
      for (let i = this.#head; i < end; i++) {
        total += weigh(this.#items[i] as T);
        if (total > budget && i > this.#head) {
          end = i;
          break;
        }
      }
    }
    const taken = this.#items.slice(this.#head, end) as T[];
    for (let i = this.#head; i < end; i++) seqs.push(this.#seqs[i]);
    if (end === this.#items.length) {
      this.#items = [];
      this.#seqs = [];
      this.#head = 0;
    } else {
      this.#items.fill(undefined, this.#head, end);
      this.#head = end;
      if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#seqs = this.#seqs.slice(this.#head);
        this.#head = 0;
      }
    }
    return taken;
  }

  /**
   * Puts back items taken earlier, each where its number places it (given
   * back items are older than most of the queue, so usually at the front).
   *
   * @param items The items.
   * @param seqs Their numbers, in ascending order.
   */
  merge(items: readonly T[], seqs: readonly number[]): void {
    if (items.length === 0) return;
    const last = seqs[seqs.length - 1];
    // The queue's items that must stay before the last one given back.
    let end = this.#head;
    while (end < this.#items.length && this.#seqs[end] < last) end++;
    if (end === this.#head && items.length <= this.#head) {
      // All of them go in front, where there is room: the common case.
      this.#head -= items.length;
      for (let i = 0; i < items.length; i++) {
        this.#items[this.#head + i] = items[i];
        this.#seqs[this.#head + i] = seqs[i];
      }
      return;
    }
    const mergedItems: (T | undefined)[] = [];
    const mergedSeqs: number[] = [];
    let i = this.#head;
    let j = 0;
    while (i < end || j < items.length) {
      if (j === items.length || (i < end && this.#seqs[i] < seqs[j])) {
        mergedItems.push(this.#items[i]);
        mergedSeqs.push(this.#seqs[i++]);
      } else {
        mergedItems.push(items[j]);
        mergedSeqs.push(seqs[j++]);
      }
    }
    this.#items = mergedItems.concat(this.#items.slice(end));
    this.#seqs = mergedSeqs.concat(this.#seqs.slice(end));
    this.#head = 0;
  }
}
