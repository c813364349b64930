/**
 * `Value`: Python's `multiprocessing.Value`.
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
import { checkTypecode, type ElementOf, type Typecode } from "../_internal/backing/value.ts";
import { SharedValueBacking, type ValueMemoryHandle } from "./_value_backing.ts";
import { RLock } from "./rlock.ts";
import { Reviving } from "../_internal/revive.ts";

export type { ElementOf, Typecode } from "../_internal/backing/value.ts";

/**
 * Options for {@linkcode Value}.
 *
 * @example Python's RawValue
 * ```ts
 * import { Value, type ValueOptions } from "@multiproc/multiproc";
 * import { equal, throws } from "node:assert/strict";
 *
 * const options: ValueOptions = { lock: false };
 * const raw = new Value("d", 0.5, options);
 * equal(raw.value, 0.5);
 * throws(() => raw.getLock(), /lock: false/);
 * ```
 */
export interface ValueOptions {
  /**
   * Whether the value has a lock (`getLock()`), as Python's `lock=True`;
   * `false` is Python's `RawValue`.
   *
   * @default {true}
   */
  lock?: boolean;
}

/** The handle a Value is being revived from, see `_internal/revive.ts`. */
const revival = new Reviving<ValueMemoryHandle & { lock?: HandleData }>();

/**
 * A number shared by processes and threads: Python's `multiprocessing.Value`.
 *
 * - `v.value` reads and writes the shared number synchronously.
 * - As in Python, `v.value += 1` is not atomic: hold `getLock()` around
 *   read-modify-write sequences, or use the atomic {@linkcode Value.add} /
 *   {@linkcode Value.compareExchange} (beyond Python).
 * - Typecodes as Python's: `b B h H i I f d` hold numbers, `l L q Q` hold
 *   bigints (64-bit). The integer ones refuse a number that is not an integer
 *   (`new Value("i", 1.7)` throws a TypeError, as in Python).
 *
 * @example A shared counter
 * ```ts
 * import { Value } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const counter = new Value("i", 0);
 * counter.value += 1; // not atomic: hold counter.getLock() when others write too
 * counter.add(2); // atomic
 * equal(counter.value, 3);
 * ```
 */
export class Value<T extends Typecode = Typecode> implements Shareable {
  /** The number (local: in shared memory). */
  #backing: SharedValueBacking<T>;
  #lock: RLock | undefined;

  /**
   * Creates a shared value.
   *
   * @param typecode The element type, e.g. `"i"` (int32) or `"d"` (double).
   * @param initial The initial value.
   * @param options Whether it has a lock.
   * @throws {TypeError} For an unknown typecode, a value of the wrong type, or
   *   a number that is not an integer for an integer typecode (Python's
   *   "'float' object cannot be interpreted as an integer").
   */
  constructor(typecode: T, initial?: ElementOf<T>, options: ValueOptions = {}) {
    const reviving = revival.data;
    if (reviving) {
      this.#backing = SharedValueBacking.fromHandle(reviving) as SharedValueBacking<T>;
      this.#lock = reviving.lock ? reviveHandle(reviving.lock) as RLock : undefined;
      return;
    }
    checkTypecode(typecode, "create value");
    this.#backing = new SharedValueBacking(typecode);
    if (initial !== undefined) this.#backing.set(initial);
    this.#lock = options.lock === false ? undefined : new RLock();
  }

  static {
    registerReviver(
      "value",
      (data) =>
        revival.construct(
          data as ValueMemoryHandle & { lock?: HandleData },
          () => new Value("i"),
        ),
    );
  }

  /** The typecode. */
  get typecode(): T {
    return this.#backing.typecode;
  }

  /** The shared value (a synchronous read). */
  get value(): ElementOf<T> {
    return this.#backing.get();
  }

  /**
   * Sets the shared value (a synchronous write). An integer typecode takes
   * integers only; one out of its range wraps around, as in Python.
   *
   * @throws {TypeError} For a value of the wrong type, or a number that is not
   *   an integer for an integer typecode.
   */
  set value(value: ElementOf<T>) {
    this.#backing.set(value);
  }

  /**
   * The lock that protects the value (an {@linkcode RLock}).
   *
   * @throws {Error} If the value was created with `{ lock: false }`.
   */
  getLock(): RLock {
    if (!this.#lock) throw new Error("Cannot get the lock of a value created with { lock: false }");
    return this.#lock;
  }

  /**
   * Atomically adds `delta`; returns the previous value (like `Atomics.add`).
   *
   * @param delta What to add.
   * @returns The value before the addition.
   */
  add(delta: ElementOf<T>): ElementOf<T> {
    return this.#backing.add(delta);
  }

  /**
   * Atomically sets the value to `replacement` if it equals `expected`;
   * returns the previous value (like `Atomics.compareExchange`).
   *
   * @param expected The value to compare with.
   * @param replacement The value to store on a match.
   * @returns The value before the operation.
   */
  compareExchange(expected: ElementOf<T>, replacement: ElementOf<T>): ElementOf<T> {
    return this.#backing.compareExchange(expected, replacement);
  }

  /**
   * Closes this object's file descriptors (its lock's too). Other processes
   * and threads are not affected; a later access reopens them. Also done when
   * the object is garbage collected.
   */
  close(): void {
    this.#backing.close();
    this.#lock?.close();
  }

  /** For `using`: {@linkcode Value.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Describes this value (and its lock) for another process or thread. */
  [toHandle](dest: "process" | "thread"): HandleData {
    return {
      ...this.#backing.handle("value", import.meta.url, dest),
      lock: this.#lock?.[toHandle](dest),
    };
  }
}
