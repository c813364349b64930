// Copyright the multiproc authors. MIT license.
/**
 * State machine of a counting semaphore (and so of a lock); see `common.ts`.
 *
 * The count lives in a few int32 words ({@linkcode WORDS}): a plain
 * `Int32Array` when the hub alone holds the semaphore, or shared memory when
 * the semaphore was created on a process's main thread. Then that thread,
 * the process's other threads and its hub each run a
 * {@linkcode SemaphoreState} over the same words: one count for everyone, and
 * a release anywhere wakes waiters everywhere (`Atomics.notify` reaches the
 * other threads, the hub's helper thread included).
 *
 * @module
 */

import { noWait, type Owner, type WaitOptions, WordWatch } from "./common.ts";
import { Waiters } from "./waiters.ts";

/** Word of the free permits. */
export const COUNT = 0;
/** Word of the permits released on behalf of a dead holder and not yet handed out. */
export const DIED = 1;
/**
 * Word set to 1 once the semaphore has been sent to another process (its
 * owner then asks the hub to publish the count in the status file).
 */
export const SHARED = 2;
/** Number of int32 words. */
export const WORDS = 3;

/** Takes a permit if one is free now: `undefined` if none, else whether its holder had died. */
function tryTake(words: Int32Array): boolean | undefined {
  for (;;) {
    const c = Atomics.load(words, COUNT);
    if (c <= 0) return undefined;
    if (Atomics.compareExchange(words, COUNT, c, c - 1) === c) break;
  }
  for (;;) {
    const d = Atomics.load(words, DIED);
    if (d <= 0) return false;
    if (Atomics.compareExchange(words, DIED, d, d - 1) === d) return true;
  }
}

/**
 * Returns `n` permits and wakes the threads waiting for one (all of them:
 * each re-checks, so an abandoned wait can never swallow a wake-up).
 *
 * @param died Whether they are returned for a holder that died.
 * @throws {Error} If `bound` is given and would be exceeded (nothing is released).
 */
function give(words: Int32Array, n: number, bound: number | undefined, died: boolean): void {
  if (bound !== undefined) {
    for (;;) {
      const c = Atomics.load(words, COUNT);
      if (c + n > bound) {
        throw new Error("Cannot release semaphore: semaphore released too many times");
      }
      if (Atomics.compareExchange(words, COUNT, c, c + n) === c) break;
    }
  } else {
    Atomics.add(words, COUNT, n);
  }
  if (died) Atomics.add(words, DIED, n);
  Atomics.notify(words, COUNT);
}

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
 * - Over shared words ({@linkcode SemaphoreState.over}), FIFO order and the
 *   bookkeeping hold among the callers of this instance; other threads'
 *   instances compete for the same count, and while callers wait here, a
 *   permit given by another thread is handed to them as soon as it is seen.
 */
export class SemaphoreState {
  #words: Int32Array;
  #bound: number | undefined;
  #held = new Map<Owner, number>();
  #waiters = new Waiters<AcquireResult, Owner>();
  /** Over shared words with callers waiting: stops the wait for permits given elsewhere. */

  /**
   * Creates the state of a semaphore, its count in memory of its own.
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
    this.#words = new Int32Array(WORDS);
    this.#words[COUNT] = value;
    this.#bound = bound;
  }

  /**
   * Creates a state over words that already hold a semaphore's count, as
   * {@linkcode SemaphoreState.words} returns them, in shared memory or not.
   *
   * @param words The semaphore's {@linkcode WORDS} words.
   * @param bound The largest value a release may reach; `undefined` for none.
   * @returns A state that shares the count with every other state over them.
   */
  static over(words: Int32Array, bound?: number): SemaphoreState {
    const state = new SemaphoreState(0);
    state.#words = words;
    state.#bound = bound;
    return state;
  }

  /**
   * Creates the state of a semaphore with its count in shared memory, for
   * other threads to run states {@linkcode SemaphoreState.over} its
   * {@linkcode SemaphoreState.words}.
   *
   * @param value The initial number of free permits.
   * @param bound The largest value a release may reach; `undefined` for none.
   * @returns The state.
   * @throws {RangeError} As the constructor does.
   */
  static shared(value: number, bound?: number): SemaphoreState {
    const state = new SemaphoreState(value, bound);
    const words = new Int32Array(new SharedArrayBuffer(WORDS * Int32Array.BYTES_PER_ELEMENT));
    words.set(state.#words);
    state.#words = words;
    return state;
  }

  /** The words that hold the count (see {@linkcode COUNT}, {@linkcode DIED}, {@linkcode SHARED}). */
  get words(): Int32Array {
    return this.#words;
  }

  /** Number of free permits. */
  get value(): number {
    return Atomics.load(this.#words, COUNT);
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
    if (this.#waiters.size > 0) return { acquired: false, ownerDied: false };
    const ownerDied = tryTake(this.#words);
    if (ownerDied === undefined) return { acquired: false, ownerDied: false };
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
    const acquired = this.#waiters.wait(opts, () => {
      this.#unwatchIfIdle();
      return { acquired: false, ownerDied: false };
    }, { data: owner, onAbort: () => this.#unwatchIfIdle() });
    this.#watch();
    return acquired;
  }

  /**
   * Releases `n` permits, each handed to the oldest waiter if there is one.
   *
   * @param owner The caller; it need not hold the permits.
   * @param n How many permits to release.
   * @throws {RangeError} If `n` is not an integer >= 1.
   * @throws {Error} `Cannot release semaphore: semaphore released too many
   *   times` if the semaphore is bounded and its value would exceed the bound
   *   (nothing is released).
   */
  release(owner: Owner, n = 1): void {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`Semaphore release count must be an integer >= 1: received ${n}`);
    }
    give(this.#words, n, this.#bound, false);
    this.#unhold(owner, n);
    this.#serve();
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
    if (n > 0) {
      give(this.#words, n, undefined, true);
      this.#serve();
    }
    return n;
  }

  /** Hands free permits to the waiters, oldest first. */
  #serve(): void {
    while (this.#waiters.size > 0) {
      const ownerDied = tryTake(this.#words);
      if (ownerDied === undefined) return;
      this.#hold(this.#waiters.peek() as Owner, 1);
      this.#waiters.wakeFirst({ acquired: true, ownerDied });
    }
    this.#unwatchIfIdle();
  }

  /** Over shared words, while callers wait: watches the word for changes by other threads. */
  #watcher: WordWatch | undefined;

  #watch(): void {
    this.#watcher ??= new WordWatch(this.#words, COUNT, () => {
      this.#serve();
      return false;
    }, () => this.#waiters.size > 0);
    this.#watcher.start();
  }

  #unwatchIfIdle(): void {
    this.#watcher?.stopIfIdle();
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
