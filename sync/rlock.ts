/**
 * `RLock`: Python's `multiprocessing.RLock` (and `threading.RLock`).
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import { newSharedPath } from "../_internal/shared.ts";
import { ACQUIRE_RESTORE, HELD, ReentrantFront, RELEASE_SAVE } from "../_internal/backing/lock.ts";
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
  /** The state (local: `HybridLock`) and the reentrant hold count over it. */
  #lock: ReentrantFront;

  /** Creates an unlocked reentrant lock. */
  constructor() {
    // A handle being revived names the existing file; otherwise this is a new reentrant lock.
    const reviving = revival.data;
    this.#lock = new ReentrantFront(
      reviving
        ? HybridLock.fromHandle(reviving, "reentrant lock")
        : new HybridLock(newSharedPath("rlock"), "reentrant lock"),
    );
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
  acquire(options: AcquireOptions = {}): Promise<boolean> {
    return this.#lock.acquire(options);
  }

  /**
   * Decrements the count, releasing the lock when it reaches zero.
   *
   * @throws {Error} If this process and thread do not hold it.
   */
  release(): void {
    this.#lock.release();
  }

  /** Whether the lock is held by anyone right now (a snapshot). */
  locked(): boolean {
    return this.#lock.locked();
  }

  /** Whether this process and thread hold the lock. */
  isOwned(): boolean {
    return this.#lock.isOwned();
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
  hold(options: AcquireOptions = {}): Promise<Disposable> {
    return this.#lock.hold(options);
  }

  /** Whether this process and thread hold the lock (for Condition). */
  [HELD](): boolean {
    return this.#lock[HELD]();
  }

  /** Releases completely and returns the count (for Condition.wait). */
  [RELEASE_SAVE](): number {
    return this.#lock[RELEASE_SAVE]();
  }

  /** Re-acquires and restores a count saved by RELEASE_SAVE (for Condition.wait). */
  [ACQUIRE_RESTORE](count: number): Promise<void> {
    return this.#lock[ACQUIRE_RESTORE](count);
  }

  /**
   * Closes this object's file descriptor (releasing the reentrant lock if this object
   * holds it). Other processes and threads are not affected; a later call
   * reopens it. Also done when the object is garbage collected.
   */
  close(): void {
    this.#lock.close();
  }

  /** For `using`: {@linkcode RLock.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Describes this lock for another process or thread. */
  [toHandle](dest: "process" | "thread" = "process"): HandleData {
    return this.#lock.backing.handle("rlock", import.meta.url, dest);
  }
}
