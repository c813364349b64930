/**
 * `Lock`: Python's `multiprocessing.Lock` (and `threading.Lock`).
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import { newSharedPath } from "../_internal/shared.ts";
import type { WaitOptions } from "../_internal/wait.ts";
import { ACQUIRE_RESTORE, HELD, LockFront, RELEASE_SAVE } from "../_internal/backing/lock.ts";
import { HybridLock, type LockHandle } from "./_hybrid_lock.ts";
import { Reviving } from "../_internal/revive.ts";

/**
 * Options of `acquire()` and `hold()` of {@linkcode Lock}, `RLock`,
 * `Semaphore` and `Condition`: the {@linkcode WaitOptions} of every blocking
 * call. When `timeout` passes, `acquire()` resolves `false` (Python's
 * `acquire(timeout=…)`) and `hold()` rejects.
 *
 * @example
 * ```ts
 * import { type AcquireOptions, Lock } from "@multiproc/multiproc";
 * import { equal, rejects } from "node:assert/strict";
 *
 * const lock = new Lock();
 * await lock.acquire();
 * const options: AcquireOptions = { timeout: 10 };
 * equal(await lock.acquire(options), false); // still held after 10 ms
 * // An already-aborted signal rejects at once.
 * await rejects(lock.acquire({ signal: AbortSignal.abort() }));
 * lock.release();
 * ```
 */
export type AcquireOptions = WaitOptions;

/** The handle a Lock is being revived from, see `_internal/revive.ts`. */
const revival = new Reviving<LockHandle>();

/**
 * A mutual-exclusion lock shared by processes and threads.
 *
 * - `await lock.acquire()` resolves `true`; with `{ timeout }` it resolves
 *   `false` if the lock did not come free in time (Python's `acquire(timeout=…)`),
 *   `{ timeout: 0 }` is Python's `acquire(False)`.
 * - Pass it to a child in `args` (or to a thread): it arrives as a live lock
 *   on the same state.
 * - Better than Python: if the holder dies (even by SIGKILL), the lock is
 *   released and the next holder sees {@linkcode Lock.ownerDied} `true`.
 * - Differs from Python: only the process (and thread) that acquired it may
 *   release it (Python's multiprocessing lock is a semaphore anyone may
 *   release). Releasing a lock this caller does not hold throws.
 * - No round trip to another process: between threads it is a futex word in
 *   a SharedArrayBuffer; between processes, a futex word in a file every
 *   process maps into memory (Linux with `--allow-ffi`: two atomic
 *   instructions per acquire and release, as in Python), else an exclusive
 *   `flock` on that file (a few system calls). The file is in the creating
 *   process's private folder.
 *
 * @example Share a lock with child processes (the seed's mutex lesson)
 * ```ts
 * import { Lock, Process, Value } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts exports
 * // `async function decrement(n, mutex) { await using _ = await mutex.hold(); n.value -= 1; }`:
 * // `n.value -= 1` reads, then writes, so without the lock two children could lose an update.
 * const decrement = { module: import.meta.resolve("../examples/workers.ts"), export: "decrement" };
 *
 * const n = new Value("i", 2);
 * const mutex = new Lock();
 * await using p1 = new Process({ target: decrement, args: [n, mutex] });
 * await using p2 = new Process({ target: decrement, args: [n, mutex] });
 * p1.start();
 * p2.start();
 * await p1.join();
 * await p2.join();
 * equal(n.value, 0);
 * ```
 *
 * @example Acquire and release by hand
 * ```ts
 * import { Lock } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const lock = new Lock();
 * equal(await lock.acquire(), true);
 * equal(lock.locked(), true);
 * equal(await lock.acquire({ timeout: 0 }), false); // already held: Python's acquire(False)
 * lock.release();
 * equal(lock.locked(), false);
 * ```
 */
export class Lock implements Shareable {
  /** The state (local: `HybridLock`) and what every lock does over it. */
  #lock: LockFront;

  /** Creates an unlocked lock. */
  constructor() {
    // A handle being revived names the existing file; otherwise this is a new lock.
    const reviving = revival.data;
    this.#lock = new LockFront(
      reviving
        ? HybridLock.fromHandle(reviving, "lock")
        : new HybridLock(newSharedPath("lock"), "lock"),
    );
  }

  static {
    registerReviver("lock", (data) => revival.construct(data as LockHandle, () => new Lock()));
  }

  /**
   * Waits for the lock.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns `true` once acquired, `false` if the timeout expired first.
   * @throws {RangeError} For a negative timeout.
   */
  acquire(options: AcquireOptions = {}): Promise<boolean> {
    return this.#lock.acquire(options);
  }

  /**
   * Releases the lock.
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

  /**
   * Whether the most recent acquire by this object took over a lock whose
   * previous holder died while holding it (so the state it protected may be
   * half-updated). Python has no equivalent: there the lock stays held forever.
   */
  get ownerDied(): boolean {
    return this.#lock.ownerDied;
  }

  /**
   * Python's `with lock:`: acquires, and returns a guard that releases when
   * disposed, for `await using`.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns A guard whose disposal releases the lock.
   * @throws {Error} If the timeout expires before the lock is acquired.
   */
  hold(options: AcquireOptions = {}): Promise<Disposable> {
    return this.#lock.hold(options);
  }

  /** Whether this process and thread hold the lock (for Condition). */
  [HELD](): boolean {
    return this.#lock[HELD]();
  }

  /** Releases, for Condition.wait. */
  [RELEASE_SAVE](): number {
    return this.#lock[RELEASE_SAVE]();
  }

  /** Re-acquires after Condition.wait. */
  [ACQUIRE_RESTORE](saved: number): Promise<void> {
    return this.#lock[ACQUIRE_RESTORE](saved);
  }

  /**
   * Closes this object's file descriptor (releasing the lock if this object
   * holds it). Other processes and threads are not affected; a later call
   * reopens it. Also done when the object is garbage collected.
   */
  close(): void {
    this.#lock.close();
  }

  /** For `using`: {@linkcode Lock.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Describes this lock for another process or thread. */
  [toHandle](dest: "process" | "thread" = "process"): HandleData {
    return this.#lock.backing.handle("lock", import.meta.url, dest);
  }
}
