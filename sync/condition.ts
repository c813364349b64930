/**
 * `Condition`: Python's `multiprocessing.Condition` (and `threading.Condition`).
 *
 * @module
 */

import {
  type HandleData,
  registerReviver,
  reviveHandle,
  type Shareable,
  toHandle,
} from "../_internal/codec.ts";
import {
  bindHubObject,
  checkTimeout,
  createHubObject,
  type HubBinding,
  type HubHandle,
  hubHandle,
} from "../_internal/shared.ts";
import {
  SEQ,
  SEQ_STALE,
  SEQ_WAITERS,
  waitWhileEqual,
  wakeSequence,
} from "../_internal/futex_wait.ts";
import { ACQUIRE_RESTORE, HELD, RELEASE_SAVE } from "../_internal/backing/lock.ts";
import type { AcquireOptions } from "./lock.ts";
import type { WaitOptions } from "../_internal/wait.ts";
import { Reviving } from "../_internal/revive.ts";

/** Word set once the condition has been sent to another process. */
const SHARED = 3;
import { Lock } from "./lock.ts";
import { RLock } from "./rlock.ts";

/**
 * Options for {@linkcode Condition.wait} and {@linkcode Condition.waitFor}:
 * the {@linkcode WaitOptions} of every blocking call. When `timeout` passes,
 * `wait()` resolves `false` and `waitFor()` the predicate's last result.
 *
 * @example
 * ```ts
 * import { Condition, type ConditionWaitOptions } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const cond = new Condition();
 * await cond.acquire();
 * const options: ConditionWaitOptions = { timeout: 10 };
 * equal(await cond.wait(options), false); // nobody notified within 10 ms
 * cond.release();
 * ```
 */
export type ConditionWaitOptions = WaitOptions;

/** The handle (and its revived lock) a Condition is being revived from, see `_internal/revive.ts`. */
const revival = new Reviving<
  { handle: HubHandle & { share?: SharedArrayBuffer }; lock: Lock | RLock }
>();

/**
 * A condition variable shared by processes and threads: wait until notified,
 * holding a lock around the shared state.
 *
 * - The lock is an {@linkcode RLock} by default, or the Lock/RLock given.
 * - `wait()` must be called with the lock held: it releases it (fully, for
 *   an RLock), waits for `notify()`, and re-acquires it before returning
 *   `true` (or `false` on timeout).
 * - `waitFor(predicate)` loops until the predicate is truthy and returns its
 *   last value (Python's `wait_for`).
 * - `notify(n)`/`notifyAll()` must be called with the lock held; waiters are
 *   woken oldest first.
 * - Without the lock held, `wait`/`notify` throw (Python's RuntimeError).
 *
 * @example Wait until a child says a value is ready
 * ```ts
 * import { Condition, Process, Value } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export async function notifyReady(cond, ready) {
 * //   await cond.acquire(); ready.value = 1; cond.notifyAll(); cond.release();
 * // }
 * const notifyReady = {
 *   module: import.meta.resolve("../examples/workers.ts"),
 *   export: "notifyReady",
 * };
 *
 * const cond = new Condition();
 * const ready = new Value("i", 0);
 * await cond.acquire();
 * await using p = new Process({ target: notifyReady, args: [cond, ready] });
 * p.start();
 * // waitFor() releases the lock while it waits, and holds it again when it returns.
 * equal(await cond.waitFor(() => ready.value === 1), true);
 * cond.release();
 * await p.join();
 * ```
 */
export class Condition implements Shareable {
  #b: HubBinding;
  #lock: Lock | RLock;
  /** Whether the lock is this condition's own (its default, or revived with it), closed with it. */
  #ownsLock = true;
  /**
   * In the creating process's threads: [sequence, waiters, stale waits,
   * shared with another process]. Its threads wait for the sequence to
   * change; the hub bumps it too when another process notifies. Other
   * processes (and a condition created on a worker thread) use the hub's
   * tickets.
   */
  #words: Int32Array | undefined;

  /**
   * Creates a condition variable.
   *
   * @param lock The lock to use; a new RLock by default.
   * @throws {TypeError} If `lock` is not a Lock or RLock.
   */
  constructor(lock?: Lock | RLock) {
    const reviving = revival.data;
    if (reviving) {
      this.#b = bindHubObject(reviving.handle);
      this.#lock = reviving.lock;
      this.#words = reviving.handle.share ? new Int32Array(reviving.handle.share) : undefined;
      return;
    }
    if (lock !== undefined && !(lock instanceof Lock) && !(lock instanceof RLock)) {
      throw new TypeError("Cannot create condition as lock is not a Lock or RLock");
    }
    this.#lock = lock ?? new RLock();
    this.#ownsLock = lock === undefined;
    this.#b = createHubObject("condition", {});
    if (this.#b.client.carriesSharedMemory) {
      this.#words = new Int32Array(new SharedArrayBuffer(16));
      this.#b.client.attachNow(this.#b.id, { seq: this.#words.buffer });
    }
  }

  static {
    registerReviver("condition", (data) => {
      const handle = data as HubHandle & { lock: HandleData; share?: SharedArrayBuffer };
      const lock = reviveHandle(handle.lock) as Lock | RLock;
      return revival.construct({ handle, lock }, () => new Condition());
    });
  }

  /** The underlying lock. */
  get lock(): Lock | RLock {
    return this.#lock;
  }

  /**
   * Acquires the underlying lock.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns `true` once acquired, `false` on timeout.
   */
  async acquire(options: AcquireOptions = {}): Promise<boolean> {
    return await this.#lock.acquire(options);
  }

  /** Releases the underlying lock. */
  release(): void {
    this.#lock.release();
  }

  /**
   * Python's `with cond:`, for `await using`.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns A guard whose disposal releases the lock.
   */
  async hold(options: AcquireOptions = {}): Promise<Disposable> {
    return await this.#lock.hold(options);
  }

  #owned(what: string): void {
    if (!this.#lock[HELD]()) {
      throw new Error(`Cannot ${what} on un-acquired lock: acquire the condition first`);
    }
  }

  /**
   * Releases the lock, waits to be notified, and re-acquires the lock.
   *
   * @param options `timeout` (ms) and `signal`.
   * @returns `true` if notified, `false` if the timeout expired first.
   * @throws {Error} If the lock is not held by this process and thread.
   */
  async wait(options: ConditionWaitOptions = {}): Promise<boolean> {
    checkTimeout(options.timeout, "wait on condition");
    this.#owned("wait");
    const words = this.#words;
    if (words) {
      // Read while still holding the lock, so a notify (which needs the lock) cannot slip in unseen.
      const seq = Atomics.load(words, SEQ);
      Atomics.add(words, SEQ_WAITERS, 1);
      const saved = this.#lock[RELEASE_SAVE]();
      try {
        return await waitWhileEqual(words, SEQ, seq, options.timeout, options.signal);
      } catch (error) {
        Atomics.add(words, SEQ_STALE, 1); // An aborted wait's registration may linger.
        throw error;
      } finally {
        Atomics.sub(words, SEQ_WAITERS, 1);
        await this.#lock[ACQUIRE_RESTORE](saved);
      }
    }
    const { client, id } = this.#b;
    // Registered while still holding the lock, so a notify cannot slip in unseen.
    const ticket = await client.call("condition.register", id) as number;
    const saved = this.#lock[RELEASE_SAVE]();
    try {
      return await client.call("condition.wait", id, [ticket], options) as boolean;
    } finally {
      await this.#lock[ACQUIRE_RESTORE](saved);
    }
  }

  /**
   * Waits until `predicate()` is truthy, re-checking after each notification.
   *
   * @param predicate Checked with the lock held.
   * @param options `timeout` (ms, for the whole wait) and `signal`.
   * @returns The predicate's last value (falsy if the timeout expired).
   */
  async waitFor<T>(predicate: () => T, options: ConditionWaitOptions = {}): Promise<T> {
    checkTimeout(options.timeout, "wait on condition");
    const deadline = options.timeout === undefined
      ? undefined
      : performance.now() + options.timeout;
    let result = predicate();
    while (!result) {
      let timeout: number | undefined;
      if (deadline !== undefined) {
        timeout = deadline - performance.now();
        if (timeout <= 0) break;
      }
      await this.wait({ timeout, signal: options.signal });
      result = predicate();
    }
    return result;
  }

  /**
   * Wakes up to `n` waiters, oldest first.
   *
   * @param n How many.
   * @throws {Error} If the lock is not held by this process and thread.
   */
  notify(n = 1): void {
    this.#owned("notify");
    const words = this.#words;
    if (words) {
      wakeSequence(words, n);
      if (Atomics.load(words, SHARED) === 0) return; // No other process can be waiting.
    }
    this.#b.client.post("condition.notify", this.#b.id, [n]);
  }

  /**
   * Wakes every waiter.
   *
   * @throws {Error} If the lock is not held by this process and thread.
   */
  notifyAll(): void {
    this.#owned("notify");
    const words = this.#words;
    if (words) {
      wakeSequence(words);
      if (Atomics.load(words, SHARED) === 0) return;
    }
    this.#b.client.post("condition.notifyAll", this.#b.id);
  }

  /**
   * Closes the file descriptor of the condition's own lock (the default
   * RLock, or the lock that arrived with it), as {@linkcode RLock.close}
   * does; a lock given to the constructor is its creator's to close. Other
   * processes and threads are not affected; a later call reopens it.
   */
  close(): void {
    if (this.#ownsLock) this.#lock.close();
  }

  /** For `using`: {@linkcode Condition.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Describes this condition (and its lock) for another process or thread. */
  [toHandle](dest: "process" | "thread" = "process"): HandleData {
    const words = this.#words;
    // From now on notifications also go to the hub, for waiters in the other process.
    if (words && dest === "process") Atomics.store(words, SHARED, 1);
    const handle = { ...hubHandle(this.#b, import.meta.url), lock: this.#lock[toHandle](dest) };
    return dest === "thread" && words ? { ...handle, share: words.buffer } : handle;
  }
}
