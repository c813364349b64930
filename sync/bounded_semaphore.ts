/**
 * `BoundedSemaphore`: Python's `multiprocessing.BoundedSemaphore`.
 *
 * @module
 */

import { registerBounded, Semaphore } from "./semaphore.ts";

/**
 * A {@linkcode Semaphore} that refuses to be released above its initial
 * value: `release()` then throws, like Python's
 * `ValueError: semaphore or lock released too many times`.
 *
 * @example Releasing more than was acquired throws
 * ```ts
 * import { BoundedSemaphore } from "@multiproc/multiproc";
 * import { throws } from "node:assert/strict";
 *
 * const sem = new BoundedSemaphore(1);
 * await sem.acquire();
 * sem.release();
 * throws(() => sem.release(), /released too many times/);
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  /** Marks instances as bounded. @internal */
  protected static override readonly bounded: boolean = true;
  /** The module whose import registers the reviver for this class's handles. */
  protected static override readonly handleModule: string = import.meta.url;

  /**
   * Creates a bounded semaphore.
   *
   * @param value Initial and maximum number of permits.
   * @default {1}
   */
  constructor(value = 1) {
    super(value);
  }
}

registerBounded(BoundedSemaphore);
