// Copyright the multiproc authors. MIT license.
/**
 * A FIFO of queue items with O(1) shift and front insertion (the queue state's storage).
 *
 * @module
 */

/** A FIFO of items with O(1) shift and front insertion when there is room. */
export class Deque<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /**
   * Removes and returns up to `n` items from the front, fewer if their
   * weights would pass `budget` (at least one).
   */
  take(n: number, weigh?: (item: T) => number, budget = Infinity): T[] {
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
    if (end === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else {
      this.#items.fill(undefined, this.#head, end);
      this.#head = end;
      if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
    }
    return taken;
  }

  /** Inserts `items` at the front, in their order. */
  unshiftAll(items: readonly T[]): void {
    if (items.length <= this.#head) {
      this.#head -= items.length;
      for (let i = 0; i < items.length; i++) this.#items[this.#head + i] = items[i];
    } else {
      this.#items = (items as (T | undefined)[]).concat(this.#items.slice(this.#head));
      this.#head = 0;
    }
  }
}
