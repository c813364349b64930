// Copyright the multiproc authors. MIT license.
/**
 * A value set only while a synchronous function runs, as a dynamically
 * scoped variable: what a reviver hands a constructor (`revive.ts`), where
 * an encoding notes what it lends (`noting.ts`).
 *
 * @module
 */

/** A value set only during {@linkcode Dynamic.run}, else `undefined`. */
export class Dynamic<T> {
  #value: T | undefined;

  /** The value of the {@linkcode Dynamic.run} under way, else `undefined`. */
  get value(): T | undefined {
    return this.#value;
  }

  /** Runs `fn` (synchronous) with the value set to `value`, then restores the one before. */
  run<R>(value: T, fn: () => R): R {
    const outer = this.#value;
    this.#value = value;
    try {
      return fn();
    } finally {
      this.#value = outer;
    }
  }
}
