/**
 * `RLock`: Python's `multiprocessing.RLock` (and `threading.RLock`).
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import { ReentrantCount } from "../_internal/reentrant.ts";
import { checkTimeout, newSharedPath } from "../_internal/shared.ts";
import { ACQUIRE_RESTORE, HELD, RELEASE_SAVE } from "./_file_lock.ts";
import type { AcquireOptions } from "./lock.ts";
import { HybridLock, type LockHandle } from "./_hybrid_lock.ts";
import { Reviving } from "../_internal/revive.ts";

/** The handle a RLock is being revived from, see `_internal/revive.ts`. */
const revival = new Reviving<LockHandle>();

/**
 * A reentrant lock: the holder may acquire it again, and must release it as
 * many times. It is owned by a (process, thread) pair, as in Python.
 *
 * - Same cross-process behaviour as {@linkcode Lock}: shared memory (or a flock), released
 *   if the holder dies ({@linkcode RLock.ownerDied}).
 * - Within one thread all async tasks count as the same owner (a JavaScript
 *   thread is Python's thread here).
 * - Releasing it when not held by this process and thread throws, like
 *   Python's `RuntimeError: cannot release un-acquired lock`.
 *
 * @example Reentrant acquisition
 * ```ts
 * import { RLock } from "@multiproc/multiproc";
 * import { equal, throws } from "node:assert/strict";
 *
 * const lock = new RLock();
 * equal(await lock.acquire(), true);
 * equal(await lock.acquire(), true); // the holder may acquire it again
 * lock.release();
 * lock.release(); // released as many times as acquired
 * throws(() => lock.release(), /Cannot release un-acquired/);
 * ```
 */
export class RLock implements Shareable {
  #lock: HybridLock;
  #holds = new ReentrantCount();

  /** Creates an unlocked reentrant lock. */
  constructor() {
    // A handle being revived names the existing file; otherwise this is a new reentrant lock.
    const reviving = revival.data;
    this.#lock = reviving
      ? HybridLock.fromHandle(reviving, "reentrant lock")
      : new HybridLock(newSharedPath("rlock"), "reentrant lock");
  }

  static {
    registerReviver("rlock", (data) => revival.construct(data as LockHandle, () => new RLock()));
  }

  /**
   * Acquires the lock, or increments the count if this thread holds it.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns `true` once acquired, `false` if the timeout expired first.
   */
  async acquire(options: AcquireOptions = {}): Promise<boolean> {
    checkTimeout(options.timeout, "acquire reentrant lock");
    return await this.#holds.acquire(() => this.#lock.acquire(options));
  }

  /**
   * Decrements the count, releasing the lock when it reaches zero.
   *
   * @throws {Error} If this process and thread do not hold it.
   */
  release(): void {
    this.#holds.release(
      () => this.#lock.release(),
      "Cannot release un-acquired reentrant lock: it is not held by this process and thread",
    );
  }

  /** Whether the lock is held by anyone right now (a snapshot). */
  locked(): boolean {
    return this.#holds.count > 0 || this.#lock.isLocked();
  }

  /** Whether this process and thread hold the lock. */
  isOwned(): boolean {
    return this.#holds.count > 0;
  }

  /** Whether the most recent first-level acquire took over from a holder that died. */
  get ownerDied(): boolean {
    return this.#lock.ownerDied;
  }

  /**
   * Python's `with lock:`, for `await using`.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns A guard whose disposal releases once.
   * @throws {Error} If the timeout expires first.
   */
  async hold(options: AcquireOptions = {}): Promise<Disposable> {
    if (!(await this.acquire(options))) {
      throw new Error(
        `Cannot hold reentrant lock as it was not acquired within ${options.timeout} ms`,
      );
    }
    return { [Symbol.dispose]: () => this.release() };
  }

  /** Whether this process and thread hold the lock (for Condition). */
  [HELD](): boolean {
    return this.#holds.count > 0;
  }

  /** Releases completely and returns the count (for Condition.wait). */
  [RELEASE_SAVE](): number {
    const count = this.#holds.count;
    if (count === 0) throw new Error("Cannot wait on un-acquired lock");
    this.#holds.count = 0;
    this.#lock.release();
    return count;
  }

  /** Re-acquires and restores a count saved by RELEASE_SAVE (for Condition.wait). */
  async [ACQUIRE_RESTORE](count: number): Promise<void> {
    await this.#lock.acquire();
    this.#holds.count = count;
  }

  /**
   * Closes this object's file descriptor (releasing the reentrant lock if this object
   * holds it). Other processes and threads are not affected; a later call
   * reopens it. Also done when the object is garbage collected.
   */
  close(): void {
    this.#holds.count = 0;
    this.#lock.close();
  }

  /** For `using`: {@linkcode RLock.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Describes this lock for another process or thread. */
  [toHandle](dest: "process" | "thread" = "process"): HandleData {
    return this.#lock.handle("rlock", import.meta.url, dest);
  }
}
