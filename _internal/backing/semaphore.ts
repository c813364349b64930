// Copyright the multiproc authors. MIT license.
/**
 * Where a `Semaphore`'s state lives, behind one interface,
 * {@linkcode SemaphoreBacking}, that the public class holds one of:
 *
 * - {@linkcode LocalSemaphore}: in the creating process's threads, the count
 *   in shared memory (`state/semaphore.ts`), which that process's hub shares
 *   too; once the semaphore has been sent to another process, every change
 *   also asks the hub to publish the count.
 * - {@linkcode HubSemaphore}: anywhere else, a proxy to the creator's hub,
 *   with the count read from the hub's status file (and this thread's own
 *   releases shown at once, see `status_overlay.ts`).
 * - `redis/_semaphore_backing.ts`: in Redis, for `RemoteSemaphore`.
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
import { type AcquireResult, SemaphoreState, SHARED } from "../state/semaphore.ts";
import { SEMAPHORE_SLOTS } from "../status_slots.ts";
import type { WaitOptions } from "../wait.ts";

/** Whether a permit was acquired, and whether its last holder had died holding it. */
export type Acquired = AcquireResult;

/** What a semaphore's state answers, wherever it lives. */
export interface SemaphoreBacking {
  /** Takes a permit, waiting (FIFO) while there is none. */
  acquire(options: WaitOptions): Promise<Acquired>;
  /**
   * Returns `n` permits (`n` checked by the caller), waking as many waiters.
   *
   * @throws {Error} If the semaphore is bounded and that would exceed its bound.
   */
  release(n: number): void;
  /** The number of free permits (this caller's own releases included). */
  value(): number;
  /** Describes the semaphore for another process or thread. */
  toHandle(dest: "process" | "thread"): HandleData;
}

/** The handle of a hub semaphore: a thread of the creating process also gets the shared count. */
export type SemaphoreHandle = HubHandle & { share?: SharedArrayBuffer };

/**
 * A new semaphore's backing: in shared memory on the main thread of a
 * process (whose hub shares it), else in this process's hub.
 *
 * @param value The initial number of permits (checked by the caller).
 * @param bounded Whether releases beyond `value` are refused.
 * @param module The module whose import registers the reviver of its handles.
 */
export function newSemaphoreBacking(
  value: number,
  bounded: boolean,
  module: string,
): SemaphoreBacking {
  const b = createHubObject("semaphore", bounded ? { value, bound: value } : { value });
  if (!b.client.carriesSharedMemory) {
    // The hub publishes the value once it has the semaphore; this thread sees it at once.
    postShowing(b, "semaphore.publish", [], [[SEMAPHORE_SLOTS.value, value]]);
    return new HubSemaphore(b, module);
  }
  const state = SemaphoreState.shared(value, boundOf(b));
  b.client.attachNow(b.id, { permits: state.words.buffer });
  return new LocalSemaphore(b, state, module);
}

/** The backing of a semaphore revived from `handle`, for a class registered by `module`. */
export function semaphoreBackingFrom(handle: SemaphoreHandle, module: string): SemaphoreBacking {
  const b = bindHubObject(handle);
  if (!handle.share) return new HubSemaphore(b, module);
  return new LocalSemaphore(
    b,
    SemaphoreState.over(new Int32Array(handle.share), boundOf(b)),
    module,
  );
}

/** Whether the semaphore's creator gave it a bound, and which. */
function boundOf(b: HubBinding): number | undefined {
  return (b.params as { bound?: number }).bound;
}

/** The owner the threads' own states know their callers by: they keep no per-caller bookkeeping. */
const LOCAL = 0;

/** A semaphore in shared memory, in the threads of the process that created it. */
export class LocalSemaphore implements SemaphoreBacking {
  #state: SemaphoreState;
  #hub: SharedMemoryLink;

  constructor(binding: HubBinding, state: SemaphoreState, module: string) {
    this.#state = state;
    this.#hub = new SharedMemoryLink(binding, module, state.words, SHARED, "semaphore.publish");
  }

  /** Once another process knows the semaphore, each change has the hub publish the count. */
  async acquire(options: WaitOptions): Promise<Acquired> {
    const result = await this.#state.acquire(LOCAL, options);
    if (result.acquired) this.#hub.tell();
    return result;
  }

  release(n: number): void {
    this.#state.release(LOCAL, n);
    this.#hub.tell();
  }

  value(): number {
    return this.#state.value;
  }

  toHandle(dest: "process" | "thread"): HandleData {
    return this.#hub.handle(dest, [[SEMAPHORE_SLOTS.value, this.value()]]);
  }
}

/** A semaphore in a hub, reached through its client. */
export class HubSemaphore implements SemaphoreBacking {
  #b: HubBinding;
  #module: string;

  constructor(binding: HubBinding, module: string) {
    this.#b = binding;
    this.#module = module;
  }

  async acquire(options: WaitOptions): Promise<Acquired> {
    const [acquired, ownerDied] = await settled(this.#b).call(
      "semaphore.acquire",
      this.#b.id,
      [],
      options,
    ) as [boolean, boolean];
    return { acquired, ownerDied };
  }

  release(n: number): void {
    const bound = boundOf(this.#b);
    if (bound !== undefined && this.value() + n > bound) {
      throw new Error("Cannot release semaphore: semaphore released too many times");
    }
    // The hub publishes the value when it has handled the release; value() and a following
    // release() in this thread see it at once, as in Python.
    postShowing(this.#b, "semaphore.release", [n], [[SEMAPHORE_SLOTS.value, this.value() + n]]);
  }

  value(): number {
    return readStatus(this.#b, SEMAPHORE_SLOTS.value);
  }

  toHandle(_dest: "process" | "thread"): HandleData {
    return hubHandle(this.#b, this.#module, [[SEMAPHORE_SLOTS.value, this.value()]]);
  }
}
