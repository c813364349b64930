/**
 * `Event`: Python's `multiprocessing.Event` (and `threading.Event`).
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import {
  bindHubObject,
  checkTimeout,
  createHubObject,
  type HubBinding,
  type HubHandle,
  hubHandle,
} from "../_internal/shared.ts";
import type { AcquireOptions } from "./_file_lock.ts";

/** Options for {@linkcode Event.wait}. */
export type WaitOptions = AcquireOptions;

/**
 * A flag shared by processes and threads, that tasks can wait for.
 *
 * - `set()`, `clear()` and `isSet()` are synchronous, like Python's: the flag
 *   is kept in a shared status file read and written directly.
 * - `await ev.wait()` resolves `true` at once if the flag is set, else when
 *   it is set; with `{ timeout }` it resolves `false` if it was not set in
 *   time (Python returns the flag).
 *
 * @example Start everyone at once
 * ```ts
 * import { Event } from "./event.ts";
 *
 * const start = new Event();
 * setTimeout(() => start.set(), 10);
 * console.log(await start.wait()); // true
 * console.log(start.isSet()); // true
 * ```
 */
export class Event implements Shareable {
  #b: HubBinding;

  /** Creates an event whose flag is clear. */
  constructor() {
    const reviving = Event.#reviving;
    this.#b = reviving ? bindHubObject(reviving) : createHubObject("event", {});
  }

  static #reviving: HubHandle | undefined;

  static {
    registerReviver("event", (data) => {
      Event.#reviving = data as HubHandle;
      try {
        return new Event();
      } finally {
        Event.#reviving = undefined;
      }
    });
  }

  /** Whether the flag is set. */
  isSet(): boolean {
    return this.#b.client.status(this.#b.id, 0) === 1;
  }

  /** Sets the flag and wakes every waiter. */
  set(): void {
    this.#b.client.setStatus(this.#b.id, 0, 1);
    this.#b.client.post("event.set", this.#b.id);
  }

  /** Clears the flag. */
  clear(): void {
    this.#b.client.setStatus(this.#b.id, 0, 0);
    this.#b.client.post("event.clear", this.#b.id);
  }

  /**
   * Waits until the flag is set.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns `true` when the flag is set, `false` if the timeout expired first.
   */
  async wait(options: WaitOptions = {}): Promise<boolean> {
    checkTimeout(options.timeout, "wait for event");
    if (this.isSet()) return true;
    return await this.#b.client.call("event.wait", this.#b.id, [], options) as boolean;
  }

  /** Describes this event for another process or thread. */
  [toHandle](_dest?: "process" | "thread"): HandleData {
    return hubHandle(this.#b, import.meta.url);
  }
}
