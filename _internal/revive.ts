// Copyright the multiproc authors. MIT license.
/**
 * How a shared primitive is built from a handle: its reviver calls the
 * public constructor with no arguments while the handle data waits in the
 * class's {@linkcode Reviving} slot, and the constructor takes the data from
 * there instead of validating its arguments and creating new state (Python
 * unpickles without calling `__init__`). The slot is set only for the
 * duration of that one synchronous `new`.
 *
 * @module
 */

import { Dynamic } from "./dynamic.ts";

/**
 * The handle data a class's constructor is reviving, if any.
 *
 * @typeParam D The class's handle data.
 *
 * @example
 * ```ts ignore
 * const reviving = new Reviving<LockHandle>();
 *
 * class Lock {
 *   constructor() {
 *     const data = reviving.data; // set only inside reviving.construct()
 *     this.#lock = data ? HybridLock.fromHandle(data) : new HybridLock(...);
 *   }
 *   static {
 *     registerReviver("lock", (data) => reviving.construct(data as LockHandle, () => new Lock()));
 *   }
 * }
 * ```
 */
export class Reviving<D> {
  #data = new Dynamic<D>();

  /** The data being revived while {@linkcode Reviving.construct} runs, else `undefined`. */
  get data(): D | undefined {
    return this.#data.value;
  }

  /**
   * Runs `construct` (a `new` of the class) with `data` in the slot.
   *
   * @param data The handle data, already checked and converted by the reviver.
   * @param construct Builds the instance, e.g. `() => new Lock()`.
   * @returns The instance.
   */
  construct<T>(data: D, construct: () => T): T {
    return this.#data.run(data, construct);
  }
}
