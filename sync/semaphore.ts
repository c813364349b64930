/**
 * `Semaphore`: Python's `multiprocessing.Semaphore` (and `threading.Semaphore`).
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
import { SemaphoreState, SHARED } from "../_internal/state/semaphore.ts";
import { SEMAPHORE_SLOTS } from "../_internal/status_slots.ts";
import type { AcquireOptions } from "./lock.ts";
import { Reviving } from "../_internal/revive.ts";

/** The handle a Semaphore is being revived from, see `_internal/revive.ts`. */
const revival = new Reviving<HubHandle & { share?: SharedArrayBuffer }>();

/**
 * A counting semaphore shared by processes and threads.
 *
 * - `await sem.acquire()` takes a permit, waiting (FIFO) while there is none;
 *   with `{ timeout }` it resolves `false` if none came free in time.
 * - `release(n)` returns permits; unbounded, like Python's (see
 *   `BoundedSemaphore` for the checked variant).
 * - Better than Python: permits held by a process that dies are returned,
 *   and the next acquirer sees {@linkcode Semaphore.ownerDied} `true`.
 * - The state lives in the creating process's hub (a helper thread), so it
 *   keeps working while that process's main thread is busy.
 *
 * @example Limit concurrency to two
 * ```ts
 * import { Semaphore } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const sem = new Semaphore(2);
 * equal(await sem.acquire(), true);
 * equal(await sem.acquire(), true);
 * equal(await sem.acquire({ timeout: 0 }), false); // no permit left
 * sem.release();
 * equal(await sem.acquire({ timeout: 0 }), true);
 * ```
 */
export class Semaphore implements Shareable {
  #b: HubBinding;
  #ownerDied = false;
  /**
   * In the creating process's threads, the semaphore's state over its count
   * in shared memory, which the hub shares too (see
   * `_internal/state/semaphore.ts`); other processes (and a semaphore created
   * on a worker thread) go through the hub.
   */
  #local: SemaphoreState | undefined;

  /**
   * Creates a semaphore with `value` permits.
   *
   * @param value Initial number of permits.
   * @default {1}
   * @throws {RangeError} If `value` is negative or not an integer.
   */
  constructor(value = 1) {
    const reviving = revival.data;
    if (reviving) {
      this.#b = bindHubObject(reviving);
      this.#local = reviving.share
        ? SemaphoreState.over(new Int32Array(reviving.share), this.#bound)
        : undefined;
      return;
    }
    if (!Number.isInteger(value) || value < 0) {
      throw new RangeError(
        `Cannot create semaphore as its initial value must be an integer >= 0: received ${value}`,
      );
    }
    const bounded = (new.target as typeof Semaphore).bounded;
    this.#b = createHubObject("semaphore", bounded ? { value, bound: value } : { value });
    if (this.#b.client.carriesSharedMemory) {
      this.#local = SemaphoreState.shared(value, this.#bound);
      this.#b.client.attachNow(this.#b.id, { permits: this.#local.words.buffer });
    } else {
      // The hub publishes the value once it has the semaphore; this thread sees it at once.
      postShowing(this.#b, "semaphore.publish", [], [[
        SEMAPHORE_SLOTS.value,
        value,
      ]]);
    }
  }

  /** Whether instances refuse to be released above their initial value. */
  protected static readonly bounded: boolean = false;
  /** The module whose import registers the reviver for this class's handles. */
  protected static readonly handleModule: string = import.meta.url;

  static {
    registerReviver(
      "semaphore",
      (data) =>
        revival.construct(data as HubHandle & { share?: SharedArrayBuffer }, () => {
          const params = (data as HubHandle).params as { bound?: number };
          return params.bound === undefined || !boundedClass ? new Semaphore() : new boundedClass();
        }),
    );
  }

  /** The maximum value, for a bounded semaphore; `undefined` otherwise. */
  get #bound(): number | undefined {
    return (this.#b.params as { bound?: number }).bound;
  }

  /**
   * Takes a permit, waiting for one if needed.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns `true` once acquired, `false` if the timeout expired first.
   */
  async acquire(options: AcquireOptions = {}): Promise<boolean> {
    checkTimeout(options.timeout, "acquire semaphore");
    if (this.#local) {
      const { acquired, ownerDied } = await this.#local.acquire(LOCAL, options);
      if (!acquired) return false;
      this.#ownerDied = ownerDied;
      this.#publish();
      return true;
    }
    const [acquired, ownerDied] = await settled(this.#b).call(
      "semaphore.acquire",
      this.#b.id,
      [],
      options,
    ) as [boolean, boolean];
    if (acquired) this.#ownerDied = ownerDied;
    return acquired;
  }

  /**
   * Returns `n` permits, waking as many waiters.
   *
   * @param n How many permits.
   * @throws {Error} For a bounded semaphore, if that would exceed its initial value.
   */
  release(n = 1): void {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`Cannot release semaphore as n must be an integer >= 1: received ${n}`);
    }
    const bound = this.#bound;
    if (this.#local) {
      this.#local.release(LOCAL, n);
      this.#publish();
      return;
    }
    if (bound !== undefined && this.getValue() + n > bound) {
      throw new Error("Cannot release semaphore: semaphore released too many times");
    }
    // The hub publishes the value when it has handled the release; getValue() and a following
    // release() in this thread see it at once, as in Python.
    postShowing(this.#b, "semaphore.release", [n], [
      [SEMAPHORE_SLOTS.value, this.getValue() + n],
    ]);
  }

  /** Once shared with another process, has the hub publish the count that process reads. */
  #publish(): void {
    if (Atomics.load(this.#local!.words, SHARED) === 1) {
      this.#b.client.post("semaphore.publish", this.#b.id);
    }
  }

  /** The number of free permits (a snapshot; Python's `get_value()`). */
  getValue(): number {
    if (this.#local) return this.#local.value;
    return readStatus(this.#b, SEMAPHORE_SLOTS.value);
  }

  /** Whether the permit most recently acquired through this object had been held by a process that died. */
  get ownerDied(): boolean {
    return this.#ownerDied;
  }

  /**
   * Python's `with sem:`, for `await using`.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns A guard whose disposal releases the permit.
   * @throws {Error} If the timeout expires first.
   */
  async hold(options: AcquireOptions = {}): Promise<Disposable> {
    if (!(await this.acquire(options))) {
      throw new Error(`Cannot hold semaphore as no permit came free within ${options.timeout} ms`);
    }
    return { [Symbol.dispose]: () => this.release() };
  }

  /** Describes this semaphore for another process or thread. */
  [toHandle](dest: "process" | "thread" = "process"): HandleData {
    const words = this.#local?.words;
    if (words && dest === "process" && Atomics.compareExchange(words, SHARED, 0, 1) === 0) {
      this.#publish();
    }
    const handle = hubHandle(this.#b, (this.constructor as typeof Semaphore).handleModule, [
      [SEMAPHORE_SLOTS.value, this.getValue()],
    ]);
    return dest === "thread" && words ? { ...handle, share: words.buffer } : handle;
  }
}

/** The owner the threads' own states know their callers by: they keep no per-caller bookkeeping. */
const LOCAL = 0;

let boundedClass: (new () => Semaphore) | undefined;

/** Registers the bounded subclass so that its handles revive as it (not re-exported by mod.ts). */
export function registerBounded(cls: new () => Semaphore): void {
  boundedClass = cls;
}
