// Copyright the multiproc authors. MIT license.
/**
 * Where an `Event`'s state lives, behind one interface,
 * {@linkcode EventBacking}, that the public class holds one of:
 *
 * - {@linkcode LocalEvent}: in the creating process's threads, the flag in
 *   shared memory (`state/event.ts`), which that process's hub shares too;
 *   once the event has been sent to another process, changes are also told
 *   to the hub, which wakes that process's waiters and publishes the flag.
 * - {@linkcode HubEvent}: anywhere else, a proxy to the creator's hub, with
 *   the flag read from the hub's status file (and this thread's own changes
 *   shown at once, see `status_overlay.ts`).
 * - `redis/_event_backing.ts`: in Redis, for `RemoteEvent`.
 *
 * @module
 */

import type { HandleData } from "../handles.ts";
import { SharedMemoryLink } from "./common.ts";
import {
  bindHubObject,
  createHubObject,
  type HubBinding,
  type HubHandle,
  hubHandle,
  postShowing,
  readStatus,
  settled,
} from "../shared.ts";
import { EventState, SHARED } from "../state/event.ts";
import { EVENT_SLOTS } from "../status_slots.ts";
import type { WaitOptions } from "../wait.ts";

/** What an event's state answers, wherever it lives. */
export interface EventBacking {
  /** Whether the flag is set (this caller's own changes included). */
  isSet(): boolean;
  /** Sets the flag and wakes every waiter. */
  set(): void;
  /** Clears the flag. */
  clear(): void;
  /** Resolves `true` once the flag is set, `false` if the timeout expires first. */
  wait(options: WaitOptions): Promise<boolean>;
  /** Describes the event for another process or thread. */
  toHandle(dest: "process" | "thread"): HandleData;
}

/** The handle of a hub event: a thread of the creating process also gets the shared flag. */
export type EventHandle = HubHandle & { share?: SharedArrayBuffer };

/**
 * A new event's backing: in shared memory on the main thread of a process
 * (whose hub shares it), else in this process's hub.
 *
 * @param module The module whose import registers the reviver of its handles.
 */
export function newEventBacking(module: string): EventBacking {
  const b = createHubObject("event", {});
  if (!b.client.carriesSharedMemory) return new HubEvent(b, module);
  // Threads of this process wait on a word of shared memory; the hub gets the same word, so a
  // set() from another process wakes them too.
  const state = EventState.shared();
  b.client.attachNow(b.id, { flag: state.words.buffer });
  return new LocalEvent(b, state, module);
}

/** The backing of an event revived from `handle`. */
export function eventBackingFrom(handle: EventHandle): EventBacking {
  const b = bindHubObject(handle);
  if (!handle.share) return new HubEvent(b, handle.module);
  return new LocalEvent(b, EventState.over(new Int32Array(handle.share)), handle.module);
}

/** An event in shared memory, in the threads of the process that created it. */
export class LocalEvent implements EventBacking {
  #state: EventState;
  #hub: SharedMemoryLink;

  constructor(binding: HubBinding, state: EventState, module: string) {
    this.#state = state;
    this.#hub = new SharedMemoryLink(binding, module, state.words, SHARED, "event.publish");
  }

  isSet(): boolean {
    return this.#state.isSet;
  }

  /** Once another process knows the event, the hub also wakes its waiters and publishes the flag. */
  set(): void {
    this.#state.set();
    this.#hub.tell("event.set");
  }

  clear(): void {
    this.#state.clear();
    this.#hub.tell("event.clear");
  }

  wait(options: WaitOptions): Promise<boolean> {
    return this.#state.wait(options);
  }

  toHandle(dest: "process" | "thread"): HandleData {
    return this.#hub.handle(dest, [[EVENT_SLOTS.flag, this.isSet() ? 1 : 0]]);
  }
}

/** An event in a hub, reached through its client. */
export class HubEvent implements EventBacking {
  #b: HubBinding;
  #module: string;

  constructor(binding: HubBinding, module: string) {
    this.#b = binding;
    this.#module = module;
  }

  isSet(): boolean {
    return readStatus(this.#b, EVENT_SLOTS.flag) === 1;
  }

  set(): void {
    // The hub publishes the flag when it handles the change; this thread sees it at once.
    postShowing(this.#b, "event.set", [], [[EVENT_SLOTS.flag, 1]]);
  }

  clear(): void {
    postShowing(this.#b, "event.clear", [], [[EVENT_SLOTS.flag, 0]]);
  }

  async wait(options: WaitOptions): Promise<boolean> {
    if (this.isSet()) return true;
    return await settled(this.#b).call("event.wait", this.#b.id, [], options) as boolean;
  }

  toHandle(_dest: "process" | "thread"): HandleData {
    return hubHandle(this.#b, this.#module, [[EVENT_SLOTS.flag, this.isSet() ? 1 : 0]]);
  }
}
