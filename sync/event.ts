/**
 * `Event`: Python's `multiprocessing.Event` (and `threading.Event`).
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import { checkTimeout } from "../_internal/shared.ts";
import type { WaitOptions } from "../_internal/wait.ts";
import { Reviving } from "../_internal/revive.ts";
import {
  type EventBacking,
  eventBackingFrom,
  type EventHandle,
  newEventBacking,
} from "../_internal/backing/event.ts";

/** The handle a Event is being revived from, see `_internal/revive.ts`. */
const revival = new Reviving<EventHandle>();

/**
 * A flag shared by processes and threads, that tasks can wait for.
 *
 * - `set()`, `clear()` and `isSet()` are synchronous, like Python's: other
 *   processes read the flag from a status file that the creator's hub
 *   publishes, and see their own `set()`/`clear()` at once.
 * - `await ev.wait()` resolves `true` at once if the flag is set, else when
 *   it is set; with `{ timeout }` it resolves `false` if it was not set in
 *   time (Python returns the flag).
 *
 * @example Let a waiting child go on
 * ```ts
 * import { Event, Process } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export async function waitFor(event) { await event.wait(); }
 * const waitFor = { module: import.meta.resolve("../examples/workers.ts"), export: "waitFor" };
 *
 * const go = new Event();
 * await using p = new Process({ target: waitFor, args: [go] });
 * p.start();
 * equal(go.isSet(), false);
 * go.set(); // the child's wait() resolves
 * await p.join();
 * equal(p.exitCode, 0);
 * equal(await go.wait(), true); // resolves at once: the flag is set
 * ```
 */
export class Event implements Shareable {
  /**
   * Where the flag lives: shared memory in the creating process's threads,
   * the creator's hub elsewhere (see `_internal/backing/event.ts`).
   */
  #s: EventBacking;

  /** Creates an event whose flag is clear. */
  constructor() {
    const reviving = revival.data;
    this.#s = reviving ? eventBackingFrom(reviving) : newEventBacking(import.meta.url);
  }

  static {
    registerReviver("event", (data) => revival.construct(data as EventHandle, () => new Event()));
  }

  /** Whether the flag is set. */
  isSet(): boolean {
    return this.#s.isSet();
  }

  /** Sets the flag and wakes every waiter. */
  set(): void {
    this.#s.set();
  }

  /** Clears the flag. */
  clear(): void {
    this.#s.clear();
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
    return await this.#s.wait(options);
  }

  /** Describes this event for another process or thread. */
  [toHandle](dest: "process" | "thread" = "process"): HandleData {
    return this.#s.toHandle(dest);
  }
}
