// Copyright the multiproc authors. MIT license.
/**
 * State machine of an event; see `common.ts`.
 *
 * @module
 */

import { noWait, type WaitOptions } from "./common.ts";
import { Waiters } from "./waiters.ts";

/**
 * State of an event: a flag that callers can wait for.
 *
 * - Mirrors Python's `threading.Event`/`multiprocessing.Event`.
 * - {@linkcode EventState.set} wakes every waiter; waiting on a set event
 *   resolves `true` at once.
 */
export class EventState {
  #flag = false;
  #waiters = new Waiters<boolean>();

  /** Whether the flag is set. */
  get isSet(): boolean {
    return this.#flag;
  }

  /** Number of pending {@linkcode EventState.wait} calls. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** Sets the flag and wakes every waiter with `true`. */
  set(): void {
    this.#flag = true;
    this.#waiters.wakeAll(true);
  }

  /** Clears the flag. */
  clear(): void {
    this.#flag = false;
  }

  /**
   * Waits until the flag is set.
   *
   * @param opts Timeout (`<= 0` only checks) and abort signal.
   * @returns The flag: `true` once set (at once if already set), `false` on
   *   timeout.
   * @throws {unknown} The signal's reason (as a rejection) if it aborts first.
   */
  wait(opts: WaitOptions = {}): Promise<boolean> {
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
    if (this.#flag || noWait(opts.timeout)) return Promise.resolve(this.#flag);
    return this.#waiters.wait(opts, () => false);
  }
}
