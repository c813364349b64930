/**
 * The state of a lock behind one interface, {@linkcode LockBacking}, that
 * each backing implements: the local one (`sync/_hybrid_lock.ts`: futex
 * words in shared memory, or a `flock`) and the Redis one
 * (`redis/_lock_backing.ts`: a key with a lease). What every lock does on
 * top of its state is written once, here, and the public classes (`Lock`,
 * `RLock`, `RemoteLock`, `RemoteRLock`) are thin over it:
 *
 * - {@linkcode LockFront}: a plain lock (argument checks, the synchronous
 *   fast path, `hold()`, the messages, Condition's hooks);
 * - {@linkcode ReentrantFront}: the same made reentrant by a hold count
 *   (only the first acquire takes the backing, only the last release gives
 *   it back).
 *
 * @module
 */

import type { HandleData } from "../handles.ts";
import { checkTimeout, type WaitOptions } from "../wait.ts";

/** Whether the calling holder (process and thread, or object) holds a lock (for Condition). */
export const HELD: unique symbol = Symbol("multiproc.held");
/** Releases completely, returning what to restore (for Condition.wait). */
export const RELEASE_SAVE: unique symbol = Symbol("multiproc.releaseSave");
/** Re-acquires and restores what RELEASE_SAVE returned. */
export const ACQUIRE_RESTORE: unique symbol = Symbol("multiproc.acquireRestore");

/**
 * The state of one lock as one holder sees it: one object, in one process
 * and thread. A backing answers; the fronts below check arguments, count
 * reentrant holds and word the errors.
 */
export interface LockBacking {
  /** What the lock is called in messages: `lock`, `reentrant lock`, `remote lock "stock"`. */
  readonly what: string;
  /** Who holds a lock, in messages: `process and thread` (local) or `object` (remote). */
  readonly owner: string;
  /** Whether this holder holds the lock. */
  readonly held: boolean;
  /**
   * Whether the latest acquire by this holder took the lock over from a
   * holder that died holding it (so what it protected may be half-updated).
   */
  readonly ownerDied: boolean;
  /**
   * Takes the lock if the state tells at once, synchronously, that it is
   * free and no caller of this holder is queued; `false` otherwise (always,
   * where the state is remote).
   */
  acquireNow(): boolean;
  /**
   * Waits for the lock: `true` once held, `false` when the timeout (checked
   * by the front) expires first; rejects with the signal's reason when it
   * aborts, at once if it already has.
   */
  acquire(options: WaitOptions): Promise<boolean>;
  /** Gives the lock back. Called only while {@linkcode LockBacking.held}. */
  release(): void;
  /** Whether anyone holds the lock (a snapshot). */
  locked(): boolean;
  /** Releases the lock if this holder holds it and frees its resources. Harmless twice. */
  close(): void;
  /**
   * Describes the lock for another process or thread, under `kind`: the
   * reviver registered for `kind` (in `module`) builds the same kind of
   * backing from it, on the same state.
   */
  handle(kind: string, module: string, dest: "process" | "thread"): HandleData;
}

/**
 * The message of a release by a holder that does not hold the lock.
 *
 * @param what What the lock is called, e.g. `lock`.
 * @param owner Who holds a lock, e.g. `process and thread`.
 */
export function notHeldMessage(what: string, owner: string): string {
  return `Cannot release ${what} as it is not held: release() was called more times than ` +
    `acquire(), or not by the ${owner} that acquired it`;
}

/** The result of every acquire that did not wait (one settled Promise, shared). */
const ACQUIRED: Promise<boolean> = Promise.resolve(true);

/** A plain (non-reentrant) lock over a backing: what `Lock` and `RemoteLock` do. */
export class LockFront {
  /** The state. */
  readonly backing: LockBacking;

  constructor(backing: LockBacking) {
    this.backing = backing;
  }

  /** Waits for the lock; a bad timeout rejects (a blocking call reports bad input so). */
  acquire(options: WaitOptions = {}): Promise<boolean> {
    try {
      checkTimeout(options.timeout, `acquire ${this.backing.what}`);
    } catch (error) {
      return Promise.reject(error);
    }
    // A free lock costs no Promise of its own: the hot path of every critical section.
    if (!options.signal?.aborted && this.backing.acquireNow()) return ACQUIRED;
    return this.backing.acquire(options);
  }

  /** Releases the lock; throws if this holder does not hold it. */
  release(): void {
    const { backing } = this;
    if (!backing.held) throw new Error(notHeldMessage(backing.what, backing.owner));
    backing.release();
  }

  /** Whether anyone holds the lock (a snapshot). */
  locked(): boolean {
    return this.backing.locked();
  }

  /** Whether the latest first-level acquire took over from a holder that died. */
  get ownerDied(): boolean {
    return this.backing.ownerDied;
  }

  /** Python's `with lock:`: acquires, and returns a guard that releases (once) when disposed. */
  async hold(options: WaitOptions = {}): Promise<Disposable> {
    if (!(await this.acquire(options))) {
      throw new Error(
        `Cannot hold ${this.backing.what} as it was not acquired within ${options.timeout} ms`,
      );
    }
    return { [Symbol.dispose]: () => this.release() };
  }

  /** Whether this holder holds the lock (for Condition). */
  [HELD](): boolean {
    return this.backing.held;
  }

  /** Releases, for Condition.wait. */
  [RELEASE_SAVE](): number {
    this.release();
    return 1;
  }

  /** Re-acquires after Condition.wait. */
  async [ACQUIRE_RESTORE](_saved: number): Promise<void> {
    await this.backing.acquire({});
  }

  /** Releases the lock if this holder holds it and frees the backing's resources. */
  close(): void {
    this.backing.close();
  }
}

/**
 * A reentrant lock over a backing: what `RLock` and `RemoteRLock` do. The
 * holder may acquire it again, and must release it as many times.
 */
export class ReentrantFront extends LockFront {
  /** How many times this holder holds the lock (0: not held). */
  #count = 0;

  /** Acquires the lock, or counts one more hold if this holder holds it. */
  override async acquire(options: WaitOptions = {}): Promise<boolean> {
    checkTimeout(options.timeout, `acquire ${this.backing.what}`);
    if (this.#count > 0) {
      this.#count++;
      return true;
    }
    const ok = await this.backing.acquire(options);
    if (ok) this.#count = 1;
    return ok;
  }

  /** Counts one hold less, releasing the lock at zero; throws if this holder holds none. */
  override release(): void {
    if (this.#count === 0) {
      throw new Error(
        `Cannot release un-acquired ${this.backing.what}: it is not held by this ${this.backing.owner}`,
      );
    }
    if (--this.#count === 0) this.backing.release();
  }

  /** Whether anyone holds the lock (a snapshot). */
  override locked(): boolean {
    return this.#count > 0 || this.backing.locked();
  }

  /** Whether this holder holds the lock. */
  isOwned(): boolean {
    return this.#count > 0;
  }

  /** Whether this holder holds the lock (for Condition). */
  override [HELD](): boolean {
    return this.#count > 0;
  }

  /** Releases completely and returns the count (for Condition.wait). */
  override [RELEASE_SAVE](): number {
    const count = this.#count;
    if (count === 0) throw new Error("Cannot wait on un-acquired lock");
    this.#count = 0;
    this.backing.release();
    return count;
  }

  /** Re-acquires and restores a count saved by RELEASE_SAVE (for Condition.wait). */
  override async [ACQUIRE_RESTORE](count: number): Promise<void> {
    await this.backing.acquire({});
    this.#count = count;
  }

  /** Releases the lock completely if this holder holds it and frees the backing's resources. */
  override close(): void {
    this.#count = 0;
    this.backing.close();
  }
}
