// Copyright the multiproc authors. MIT license.
/**
 * State machine of a counting semaphore (and so of a lock); see `common.ts`.
 *
 * @module
 */

import { noWait, type Owner, type WaitOptions } from "./common.ts";
import { Waiters } from "./waiters.ts";

/** Outcome of {@linkcode SemaphoreState.acquire} and {@linkcode SemaphoreState.tryAcquire}. */
export interface AcquireResult {
  /** `true` if a permit was acquired, `false` on timeout or when none was free. */
  acquired: boolean;
  /**
   * `true` if the permit had been released by {@linkcode SemaphoreState.dropOwner}
   * (its holder died) and nobody had acquired it since: a lock acquirer
   * learns that the previous holder died while holding it.
   */
  ownerDied: boolean;
}

/**
 * State of a counting semaphore, bounded or not; a lock is a semaphore with
 * value and bound 1.
 *
 * - Mirrors Python's `threading.Semaphore`/`BoundedSemaphore` (and so
 *   `multiprocessing`'s): any owner may release, including permits it never
 *   acquired; releasing past the bound throws.
 * - FIFO: a release hands its permit directly to the oldest waiter, and an
 *   acquire never takes a permit while others wait.
 * - Per-owner bookkeeping: each owner's held count is what it acquired minus
 *   what it released. A release of more than the releaser holds is charged
 *   to the other holders, longest holder first (for a lock, the one holder),
 *   so that {@linkcode SemaphoreState.dropOwner} never frees a permit twice.
 * - Unlike Python, permits of a dead holder can be recovered with
 *   {@linkcode SemaphoreState.dropOwner}; the next acquirer of each such
 *   permit gets `ownerDied: true`. Permits left by dead owners are handed out
 *   before the others.
 */
export class SemaphoreState {
  #value: number;
  #bound: number | undefined;
  #diedPermits = 0;
  #held = new Map<Owner, number>();
  #waiters = new Waiters<AcquireResult, Owner>();

  /**
   * Creates the state of a semaphore.
   *
   * @param value The initial number of free permits.
   * @param bound The largest value a release may reach (Python's
   *   `BoundedSemaphore` passes its initial value); `undefined` for none.
   * @throws {RangeError} If `value` is negative or not an integer, or `bound`
   *   is not an integer at least `value`.
   */
  constructor(value: number, bound?: number) {
    if (!Number.isInteger(value)) {
      throw new RangeError(`Semaphore initial value must be an integer: received ${value}`);
    }
    if (value < 0) throw new RangeError("Semaphore initial value must be >= 0");
    if (bound !== undefined && !(Number.isInteger(bound) && bound >= value)) {
      throw new RangeError(
        `Semaphore bound must be an integer >= its initial value ${value}: received ${bound}`,
      );
    }
    this.#value = value;
    this.#bound = bound;
  }

  /** Number of free permits. */
  get value(): number {
    return this.#value;
  }

  /** Number of pending {@linkcode SemaphoreState.acquire} calls. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /**
   * Returns how many permits `owner` holds by this semaphore's bookkeeping.
   *
   * @param owner The caller.
   * @returns Its held count, 0 if none.
   */
  heldBy(owner: Owner): number {
    return this.#held.get(owner) ?? 0;
  }

  /**
   * Takes a permit without waiting.
   *
   * @param owner The caller, who becomes a holder of the permit.
   * @returns `acquired: false` when no permit is free or others are queued.
   */
  tryAcquire(owner: Owner): AcquireResult {
    if (this.#value === 0 || this.#waiters.size > 0) return { acquired: false, ownerDied: false };
    this.#value--;
    const ownerDied = this.#diedPermits > 0;
    if (ownerDied) this.#diedPermits--;
    this.#hold(owner, 1);
    return { acquired: true, ownerDied };
  }

  /**
   * Takes a permit, waiting in FIFO order until one is released.
   *
   * @param owner The caller, who becomes a holder of the permit.
   * @param opts Timeout (`<= 0` only tries) and abort signal.
   * @returns `acquired: false` on timeout.
   * @throws {unknown} The signal's reason (as a rejection) if it aborts first.
   */
  acquire(owner: Owner, opts: WaitOptions = {}): Promise<AcquireResult> {
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
    const result = this.tryAcquire(owner);
    if (result.acquired || noWait(opts.timeout)) return Promise.resolve(result);
    return this.#waiters.wait(opts, () => ({ acquired: false, ownerDied: false }), {
      data: owner,
    });
  }

  /**
   * Releases `n` permits, each handed to the oldest waiter if there is one.
   *
   * @param owner The caller; it need not hold the permits.
   * @param n How many permits to release.
   * @throws {RangeError} If `n` is not an integer >= 1.
   * @throws {Error} `Semaphore released too many times` if the semaphore is
   *   bounded and its value would exceed the bound (nothing is released).
   */
  release(owner: Owner, n = 1): void {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`Semaphore release count must be an integer >= 1: received ${n}`);
    }
    if (this.#bound !== undefined && this.#value + n > this.#bound) {
      throw new Error("Semaphore released too many times");
    }
    this.#unhold(owner, n);
    for (let i = 0; i < n; i++) this.#free(false);
  }

  /**
   * Releases every permit `owner` still holds, as it died. The next acquirer
   * of each gets `ownerDied: true`.
   *
   * @param owner The dead caller.
   * @returns How many permits were released.
   */
  dropOwner(owner: Owner): number {
    const n = this.#held.get(owner) ?? 0;
    this.#held.delete(owner);
    for (let i = 0; i < n; i++) this.#free(true);
    return n;
  }

  /** Hands one permit to the oldest waiter, or makes it free. */
  #free(ownerDied: boolean): void {
    if (this.#waiters.size > 0) {
      this.#hold(this.#waiters.peek() as Owner, 1);
      this.#waiters.wakeFirst({ acquired: true, ownerDied });
      return;
    }
    this.#value++;
    if (ownerDied) this.#diedPermits++;
  }

  #hold(owner: Owner, n: number): void {
    this.#held.set(owner, (this.#held.get(owner) ?? 0) + n);
  }

  /** Takes `n` released permits off the releaser's count, then off the other holders'. */
  #unhold(owner: Owner, n: number): void {
    const own = this.#held.get(owner) ?? 0;
    let rest = n - own;
    if (rest < 0) {
      this.#held.set(owner, -rest);
      return;
    }
    this.#held.delete(owner);
    for (const [holder, count] of this.#held) {
      if (rest <= 0) break;
      if (count > rest) {
        this.#held.set(holder, count - rest);
        return;
      }
      this.#held.delete(holder);
      rest -= count;
    }
  }
}
