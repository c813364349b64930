// Copyright the multiproc authors. MIT license.
/**
 * Noting what a synchronous piece of work makes, for whoever runs it to act
 * on later: a reviver notes what a pool task's arguments hold that lets go
 * when the task ends (`task_scope.ts`); an end being passed on notes the
 * copy it lends, which lapses if its receiver dies first (`loans.ts`).
 *
 * @module
 */

import { Dynamic } from "./dynamic.ts";

/** Where one kind of thing is noted while work runs (see {@linkcode Noting.during}). */
export class Noting<T> {
  #into = new Dynamic<T[]>();

  /** Notes `item` for the work under way, if any. */
  note(item: T): void {
    this.#into.value?.push(item);
  }

  /**
   * Runs `work` (synchronous), noting into `into` what it notes. Work that
   * runs inside other work notes for both: once it returns, what it noted is
   * also the enclosing work's.
   */
  during<R>(into: T[], work: () => R): R {
    const outer = this.#into.value;
    const from = into.length;
    const result = this.#into.run(into, work);
    if (outer !== undefined) { for (let i = from; i < into.length; i++) outer.push(into[i]); }
    return result;
  }
}

/** Calls `act` on each of `items`; one that throws does not keep the others (its hub is gone). */
export function eachQuietly<T>(items: readonly T[], act: (item: T) => void): void {
  for (const item of items) {
    try {
      act(item);
    } catch {
      // Its hub is gone: so is what it held there.
    }
  }
}
