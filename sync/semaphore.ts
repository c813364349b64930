/**
 * `Semaphore`: Python's `multiprocessing.Semaphore` (and `threading.Semaphore`).
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import { checkTimeout } from "../_internal/shared.ts";
import {
  newSemaphoreBacking,
  type SemaphoreBacking,
  semaphoreBackingFrom,
  type SemaphoreHandle,
} from "../_internal/backing/semaphore.ts";
import type { AcquireOptions } from "./lock.ts";
import { Reviving } from "../_internal/revive.ts";

/** The handle a Semaphore is being revived from, see `_internal/revive.ts`. */
const revival = new Reviving<SemaphoreHandle>();

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
  /**
   * Where the count lives: shared memory in the creating process's threads,
   * the creator's hub elsewhere (see `_internal/backing/semaphore.ts`).
   */
  #s: SemaphoreBacking;
  #ownerDied = false;

  /**
   * Creates a semaphore with `value` permits.
   *
   * @param value Initial number of permits.
   * @default {1}
   * @throws {RangeError} If `value` is negative or not an integer.
   */
  constructor(value = 1) {
    const cls = new.target as typeof Semaphore;
    const reviving = revival.data;
    if (reviving) {
      this.#s = semaphoreBackingFrom(reviving, cls.handleModule);
      return;
    }
    if (!Number.isInteger(value) || value < 0) {
      throw new RangeError(
        `Cannot create semaphore as its initial value must be an integer >= 0: received ${value}`,
      );
    }
    this.#s = newSemaphoreBacking(value, cls.bounded, cls.handleModule);
  }

  /** Whether instances refuse to be released above their initial value. */
  protected static readonly bounded: boolean = false;
  /** The module whose import registers the reviver for this class's handles. */
  protected static readonly handleModule: string = import.meta.url;

  static {
    registerReviver(
      "semaphore",
      (data) =>
        revival.construct(data as SemaphoreHandle, () => {
          const params = (data as SemaphoreHandle).params as { bound?: number };
          return params.bound === undefined || !boundedClass ? new Semaphore() : new boundedClass();
        }),
    );
  }

  /**
   * Takes a permit, waiting for one if needed.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns `true` once acquired, `false` if the timeout expired first.
   */
  async acquire(options: AcquireOptions = {}): Promise<boolean> {
    checkTimeout(options.timeout, "acquire semaphore");
    const { acquired, ownerDied } = await this.#s.acquire(options);
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
    this.#s.release(n);
  }

  /** The number of free permits (a snapshot; Python's `get_value()`). */
  getValue(): number {
    return this.#s.value();
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
    return this.#s.toHandle(dest);
  }
}

let boundedClass: (new () => Semaphore) | undefined;

/** Registers the bounded subclass so that its handles revive as it (not re-exported by mod.ts). */
export function registerBounded(cls: new () => Semaphore): void {
  boundedClass = cls;
}
