// Copyright the multiproc authors. MIT license.
/**
 * Where a queue state keeps its items, by the order they come out in: a
 * {@linkcode Deque} (first in, first out: `Queue`), a {@linkcode Stack}
 * (last in, first out: `LifoQueue`) or a {@linkcode Heap} (lowest first:
 * `PriorityQueue`). Each item carries the number it was put with (its
 * `seq`): items given back or redelivered go back to the place their number
 * (and, in a heap, their key) gives them, and a heap's equal items come out
 * in the order they were put.
 *
 * @module
 */

import { Deque } from "./deque.ts";

/**
 * The order of a queue: `"fifo"`, `"lifo"`, or lowest first as `compare`
 * says (negative: `a` first), equal items in the order they were put.
 */
export type QueueOrder<T> = "fifo" | "lifo" | ((a: T, b: T) => number);

/** The items of a queue, numbered, taken in the queue's order. */
export interface Shelf<T> {
  /** How many items it holds. */
  readonly length: number;
  /** Adds an item; `seq` is greater than every number it holds. */
  push(item: T, seq: number): void;
  /**
   * Removes and returns up to `n` items, next first, fewer if their weights
   * would pass `budget` (at least one).
   *
   * @param seqs Receives the numbers of the items taken, in the order taken.
   */
  take(n: number, seqs: number[], weigh?: (item: T) => number, budget?: number): T[];
  /** Puts back items taken earlier (numbers in ascending order), each to its place. */
  merge(items: readonly T[], seqs: readonly number[]): void;
}

/** A new, empty shelf for a queue of this order. */
export function shelfFor<T>(order: QueueOrder<T>): Shelf<T> {
  if (order === "fifo") return new Deque<T>();
  if (order === "lifo") return new Stack<T>();
  return new Heap<T>(order);
}

/** How many of `items` (taken in this order) fit `budget` by `weigh` (at least one). */
function fitting<T>(items: readonly T[], weigh?: (item: T) => number, budget = Infinity): number {
  if (!weigh || budget === Infinity) return items.length;
  let total = 0;
  for (let i = 0; i < items.length; i++) {
    total += weigh(items[i]);
    if (total > budget && i > 0) return i;
  }
  return items.length;
}

/** Last in, first out: items kept by number, taken from the newest. */
export class Stack<T> {
  #items: T[] = [];
  #seqs: number[] = [];

  get length(): number {
    return this.#items.length;
  }

  push(item: T, seq: number): void {
    this.#items.push(item);
    this.#seqs.push(seq);
  }

  take(n: number, seqs: number[], weigh?: (item: T) => number, budget = Infinity): T[] {
    const newest: T[] = [];
    for (let i = this.#items.length - 1; i >= 0 && newest.length < n; i--) {
      newest.push(this.#items[i]);
    }
    const count = fitting(newest, weigh, budget);
    for (let i = 0; i < count; i++) {
      seqs.push(this.#seqs.pop()!);
      this.#items.pop();
    }
    return newest.slice(0, count);
  }

  merge(items: readonly T[], seqs: readonly number[]): void {
    for (let j = 0; j < items.length; j++) {
      // Its place by number: after every smaller one (items given back are usually the newest).
      let at = this.#seqs.length;
      while (at > 0 && this.#seqs[at - 1] > seqs[j]) at--;
      this.#items.splice(at, 0, items[j]);
      this.#seqs.splice(at, 0, seqs[j]);
    }
  }
}

/** Lowest first, by `compare` and then by number: a binary heap. */
export class Heap<T> {
  #items: T[] = [];
  #seqs: number[] = [];
  #compare: (a: T, b: T) => number;

  constructor(compare: (a: T, b: T) => number) {
    this.#compare = compare;
  }

  get length(): number {
    return this.#items.length;
  }

  /** Whether the item at `i` comes before the one at `j`. */
  #before(i: number, j: number): boolean {
    const c = this.#compare(this.#items[i], this.#items[j]);
    return c < 0 || (c === 0 && this.#seqs[i] < this.#seqs[j]);
  }

  #swap(i: number, j: number): void {
    [this.#items[i], this.#items[j]] = [this.#items[j], this.#items[i]];
    [this.#seqs[i], this.#seqs[j]] = [this.#seqs[j], this.#seqs[i]];
  }

  push(item: T, seq: number): void {
    this.#items.push(item);
    this.#seqs.push(seq);
    let i = this.#items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  /** Removes the first item, with its number. */
  #pop(): [T, number] {
    const top: [T, number] = [this.#items[0], this.#seqs[0]];
    const lastItem = this.#items.pop()!;
    const lastSeq = this.#seqs.pop()!;
    if (this.#items.length > 0) {
      this.#items[0] = lastItem;
      this.#seqs[0] = lastSeq;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let first = i;
        if (left < this.#items.length && this.#before(left, first)) first = left;
        if (right < this.#items.length && this.#before(right, first)) first = right;
        if (first === i) break;
        this.#swap(i, first);
        i = first;
      }
    }
    return top;
  }

  take(n: number, seqs: number[], weigh?: (item: T) => number, budget = Infinity): T[] {
    const taken: T[] = [];
    let total = 0;
    while (taken.length < n && this.#items.length > 0) {
      if (weigh && budget !== Infinity) {
        total += weigh(this.#items[0]);
        if (total > budget && taken.length > 0) break;
      }
      const [item, seq] = this.#pop();
      taken.push(item);
      seqs.push(seq);
    }
    return taken;
  }

  merge(items: readonly T[], seqs: readonly number[]): void {
    for (let j = 0; j < items.length; j++) this.push(items[j], seqs[j]);
  }
}
