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
  postShowing,
  readStatus,
  settled,
} from "../_internal/shared.ts";
import type { WaitOptions } from "../_internal/wait.ts";
import { Reviving } from "../_internal/revive.ts";
import { EventState, SHARED } from "../_internal/state/event.ts";
import { EVENT_SLOTS } from "../_internal/status_slots.ts";

/** The handle a Event is being revived from, see `_internal/revive.ts`. */
const revival = new Reviving<HubHandle & { share?: SharedArrayBuffer }>();

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
  #b: HubBinding;
  /**
   * In the creating process's threads, the event's state over its flag in
   * shared memory, which the hub shares too (see
   * `_internal/state/event.ts`). Absent in other processes (and for an event
   * created on a worker thread), which use the hub and its status file.
   */
  #local: EventState | undefined;

  /** Creates an event whose flag is clear. */
  constructor() {
    const reviving = revival.data;
    if (reviving) {
      this.#b = bindHubObject(reviving);
      this.#local = reviving.share ? EventState.over(new Int32Array(reviving.share)) : undefined;
      return;
    }
    this.#b = createHubObject("event", {});
    if (this.#b.client.carriesSharedMemory) {
      // Threads of this process wait on a word of shared memory; the hub gets the same word, so
      // a set() from another process wakes them too.
      this.#local = EventState.shared();
      this.#b.client.attachNow(this.#b.id, { flag: this.#local.words.buffer });
    }
  }

  static {
    registerReviver(
      "event",
      (data) =>
        revival.construct(data as HubHandle & { share?: SharedArrayBuffer }, () => new Event()),
    );
  }

  /** Whether the flag is set. */
  isSet(): boolean {
    if (this.#local) return this.#local.isSet;
    return readStatus(this.#b, EVENT_SLOTS.flag) === 1;
  }

  /** Sets the flag and wakes every waiter. */
  set(): void {
    this.#change(1);
  }

  /** Clears the flag. */
  clear(): void {
    this.#change(0);
  }

  #change(value: 0 | 1): void {
    const local = this.#local;
    const { client, id } = this.#b;
    const op = value === 1 ? "event.set" : "event.clear";
    if (!local) {
      // The hub publishes the flag when it handles the change; this thread sees it at once.
      postShowing(this.#b, op, [], [[EVENT_SLOTS.flag, value]]);
      return;
    }
    if (value === 1) local.set();
    else local.clear();
    // Once another process knows the event, the hub wakes its waiters and publishes the flag.
    if (Atomics.load(local.words, SHARED) === 1) client.post(op, id);
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
    if (this.#local) return await this.#local.wait(options);
    return await settled(this.#b).call("event.wait", this.#b.id, [], options) as boolean;
  }

  /** Describes this event for another process or thread. */
  [toHandle](dest: "process" | "thread" = "process"): HandleData {
    const words = this.#local?.words;
    if (words && dest === "process" && Atomics.compareExchange(words, SHARED, 0, 1) === 0) {
      // From now on set()/clear() also reach the hub, for the other process; it publishes the
      // flag as it is now before it handles anything sent after this handle.
      this.#b.client.post("event.publish", this.#b.id);
    }
    const handle = hubHandle(this.#b, import.meta.url, [[EVENT_SLOTS.flag, this.isSet() ? 1 : 0]]);
    return dest === "thread" && words ? { ...handle, share: words.buffer } : handle;
  }
}
