/**
 * `SharedArray`: Python's `multiprocessing.Array`, named so that it does not
 * shadow the global `Array`.
 *
 * @module
 */

import {
  type HandleData,
  registerReviver,
  reviveHandle,
  type Shareable,
  toHandle,
} from "../_internal/codec.ts";
import type { FileHandle } from "../_internal/shared.ts";
import { checkTypecode } from "../_internal/backing/value.ts";
import { type ElementOf, type MemoryShare, SharedMemory, type Typecode } from "./_shared_memory.ts";
import type { ValueOptions } from "./value.ts";
import { RLock } from "./rlock.ts";
import { Reviving } from "../_internal/revive.ts";

/** The handle a SharedArray is being revived from, see `_internal/revive.ts`. */
const revival = new Reviving<FileHandle & { lock?: HandleData; share?: MemoryShare }>();

/**
 * A fixed-length array of numbers shared by processes and threads: Python's
 * `multiprocessing.Array` (exported as `SharedArray` so that it does not
 * shadow JavaScript's `Array`).
 *
 * - Zero-filled when created from a length; indexing (`arr[i]`, `arr[i] = x`)
 *   reads and writes the shared elements synchronously, as do `get`/`set`.
 * - Out of range indexes throw `RangeError` (Python's `IndexError`); a
 *   number that is not an integer, written to an integer typecode, throws
 *   `TypeError` (as in Python).
 * - Element-wise operations are not atomic; use `getLock()`, or the atomic
 *   {@linkcode SharedArray.add} / {@linkcode SharedArray.compareExchange}.
 *
 * @example
 * ```ts
 * import { SharedArray } from "@multiproc/multiproc";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const arr = new SharedArray("d", 3);
 * arr[1] = 2.5;
 * equal(arr.length, 3);
 * deepEqual(arr.toArray(), [0, 2.5, 0]);
 * ```
 */
export class SharedArray<T extends Typecode = Typecode>
  implements Shareable, Iterable<ElementOf<T>> {
  /** Element `index`, read and written in shared memory (like Python's `arr[i]`). */
  [index: number]: ElementOf<T>;
  #memory: SharedMemory;
  #lock: RLock | undefined;

  /**
   * Creates a shared array.
   *
   * @param typecode The element type, e.g. `"i"` or `"d"`.
   * @param sizeOrValues A length (zero-filled) or the initial elements.
   * @param options Whether it has a lock.
   * @throws {TypeError} For an unknown typecode, elements of the wrong type, or
   *   numbers that are not integers for an integer typecode.
   * @throws {RangeError} For a negative or fractional length.
   */
  constructor(
    typecode: T,
    sizeOrValues: number | Iterable<ElementOf<T>>,
    options: ValueOptions = {},
  ) {
    const reviving = revival.data;
    if (reviving) {
      const { typecode: code, length } = reviving.params as { typecode: Typecode; length: number };
      this.#memory = new SharedMemory(
        code,
        length,
        reviving.path,
        reviving.share,
        (reviving.params as { mapped?: boolean }).mapped,
      );
      this.#lock = reviving.lock ? reviveHandle(reviving.lock) as RLock : undefined;
    } else {
      checkTypecode(typecode, "create shared array");
      const values = typeof sizeOrValues === "number" ? undefined : [...sizeOrValues];
      const length = values ? values.length : sizeOrValues as number;
      if (!Number.isInteger(length) || length < 0) {
        throw new RangeError(
          `Cannot create shared array as its length must be an integer >= 0: received ${length}`,
        );
      }
      this.#memory = new SharedMemory(typecode, length);
      values?.forEach((v, i) => this.#memory.set(i, v));
      this.#lock = options.lock === false ? undefined : new RLock();
    }
    for (let i = 0; i < this.#memory.length; i++) {
      Object.defineProperty(this, i, {
        get: () => this.#memory.get(i),
        set: (v) => this.#memory.set(i, v),
        enumerable: true,
      });
    }
  }

  static {
    registerReviver(
      "shared-array",
      (data) =>
        revival.construct(
          data as FileHandle & { lock?: HandleData; share?: MemoryShare },
          () => new SharedArray("i", 0),
        ),
    );
  }

  /** The number of elements. */
  get length(): number {
    return this.#memory.length;
  }

  /** The typecode. */
  get typecode(): T {
    return this.#memory.typecode as T;
  }

  #index(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.#memory.length) {
      throw new RangeError(
        `Cannot access shared array index ${i}: valid indexes are 0 to ${this.#memory.length - 1}`,
      );
    }
    return i;
  }

  /**
   * Reads element `i`.
   *
   * @throws {RangeError} If `i` is out of range.
   */
  get(i: number): ElementOf<T> {
    return this.#memory.get(this.#index(i)) as ElementOf<T>;
  }

  /**
   * Writes element `i`.
   *
   * @throws {RangeError} If `i` is out of range.
   * @throws {TypeError} For a value of the wrong type, or a number that is not
   *   an integer for an integer typecode.
   */
  set(i: number, value: ElementOf<T>): void {
    this.#memory.set(this.#index(i), value);
  }

  /** A snapshot of all elements as a plain array. */
  toArray(): ElementOf<T>[] {
    return Array.from(
      { length: this.#memory.length },
      (_, i) => this.#memory.get(i) as ElementOf<T>,
    );
  }

  /** Iterates over a snapshot of the elements. */
  [Symbol.iterator](): Iterator<ElementOf<T>> {
    return this.toArray()[Symbol.iterator]();
  }

  /**
   * The lock that protects the array (an {@linkcode RLock}).
   *
   * @throws {Error} If the array was created with `{ lock: false }`.
   */
  getLock(): RLock {
    if (!this.#lock) {
      throw new Error("Cannot get the lock of a shared array created with { lock: false }");
    }
    return this.#lock;
  }

  /**
   * Atomically adds `delta` to element `i`; returns the previous value.
   *
   * @throws {RangeError} If `i` is out of range.
   */
  add(i: number, delta: ElementOf<T>): ElementOf<T> {
    return this.#memory.add(this.#index(i), delta) as ElementOf<T>;
  }

  /**
   * Atomically replaces element `i` if it equals `expected`; returns the previous value.
   *
   * @throws {RangeError} If `i` is out of range.
   */
  compareExchange(i: number, expected: ElementOf<T>, replacement: ElementOf<T>): ElementOf<T> {
    return this.#memory.compareExchange(this.#index(i), expected, replacement) as ElementOf<T>;
  }

  /**
   * Closes this object's file descriptors (its lock's too). Other processes
   * and threads are not affected; a later access reopens them. Also done when
   * the object is garbage collected.
   */
  close(): void {
    this.#memory.close();
    this.#lock?.close();
  }

  /** For `using`: {@linkcode SharedArray.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Describes this array (and its lock) for another process or thread. */
  [toHandle](dest: "process" | "thread"): HandleData {
    return this.#memory.handle("shared-array", import.meta.url, {
      lock: this.#lock?.[toHandle](dest),
    }, dest);
  }
}
