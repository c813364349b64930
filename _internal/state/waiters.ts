// Copyright the multiproc authors. MIT license.
/**
 * A FIFO list of pending waiters with timeouts and abort signals, the one
 * place where the state machines beside it block.
 *
 * @module
 */

import type { WaitOptions } from "../wait.ts";

export type { WaitOptions } from "../wait.ts";

/** What a state machine attaches to one waiter. */
export interface WaiterOptions<D> {
  /**
   * Data kept with the waiter, read by {@linkcode Waiters.peek},
   * {@linkcode Waiters.some} and {@linkcode Waiters.wakeFirstWhere}.
   *
   * @default {undefined}
   */
  data?: D;
  /**
   * Called synchronously when the signal aborts the wait, after the waiter
   * left the list and before its promise rejects with `signal.reason`.
   *
   * @default {undefined}
   */
  onAbort?: () => void;
}

/** Largest delay `setTimeout` accepts (about 24.8 days); longer waits re-arm. */
const MAX_DELAY = 2 ** 31 - 1;

interface Entry<T, D> {
  readonly data: D;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/** Turns what `onTimeout` returned into a settled outcome: an `Error` rejects. */
function outcome<T>(value: T | Error): T {
  if (value instanceof Error) throw value;
  return value;
}

/**
 * A FIFO list of pending waiters, each a promise settled by the owner of the
 * list, by its timeout or by its abort signal.
 *
 * - {@linkcode Waiters.wait} adds a waiter at the end; the `wake*` and
 *   {@linkcode Waiters.rejectAll} methods settle the oldest first.
 * - A timeout settles the waiter with what `onTimeout()` returns (an `Error`
 *   rejects); an abort rejects it with `signal.reason`. Either way it leaves
 *   the list first, so hooks that run then see the list without it.
 * - A settled waiter leaves the list at once and its timer and abort
 *   listener are removed, so nothing outlives the wait.
 * - Timers are plain `setTimeout`s: a pending wait keeps the program alive,
 *   like a blocking call does in Python.
 *
 * @typeParam T What a woken waiter resolves with.
 * @typeParam D Data the state machine keeps with each waiter.
 */
export class Waiters<T, D = undefined> {
  #entries = new Set<Entry<T, D>>();

  /** Number of pending waiters. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Adds a waiter at the end of the list.
   *
   * - `opts.timeout` `undefined` (or `Infinity`) waits forever.
   * - `opts.timeout <= 0` does not wait: callers should check that case
   *   first; if they do not, the promise settles with `onTimeout()` on the
   *   next microtask without joining the list.
   * - An already aborted `opts.signal` rejects at once with its reason.
   *
   * @param opts The timeout and abort signal of the wait.
   * @param onTimeout Called when the timeout expires, after the waiter left
   *   the list; its result settles the promise, an `Error` by rejecting it.
   * @param options Data kept with the waiter and an abort hook.
   * @returns A promise settled by a `wake*` call, `rejectAll`, the timeout or
   *   the signal.
   */
  wait(
    opts: WaitOptions,
    onTimeout: () => T | Error,
    options: WaiterOptions<D> = {},
  ): Promise<T> {
    const { timeout, signal } = opts;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (timeout !== undefined && !(timeout > 0)) {
      return Promise.resolve().then(() => outcome(onTimeout()));
    }
    return new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const cleanup = (): void => {
        this.#entries.delete(entry);
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener("abort", abort);
      };
      const entry: Entry<T, D> = {
        data: options.data as D,
        resolve(value) {
          cleanup();
          resolve(value);
        },
        reject(reason) {
          cleanup();
          reject(reason);
        },
      };
      const abort = (): void => {
        cleanup();
        try {
          options.onAbort?.();
        } finally {
          reject(signal?.reason);
        }
      };
      const expire = (): void => {
        cleanup();
        try {
          resolve(outcome(onTimeout()));
        } catch (error) {
          reject(error);
        }
      };
      const arm = (ms: number): void => {
        timer = ms > MAX_DELAY
          ? setTimeout(() => arm(ms - MAX_DELAY), MAX_DELAY)
          : setTimeout(expire, ms);
      };
      this.#entries.add(entry);
      signal?.addEventListener("abort", abort, { once: true });
      if (timeout !== undefined && timeout !== Infinity) arm(timeout);
    });
  }

  /**
   * Returns the data of the oldest pending waiter, without waking it.
   *
   * @returns Its data, or `undefined` when the list is empty.
   */
  peek(): D | undefined {
    for (const entry of this.#entries) return entry.data;
    return undefined;
  }

  /**
   * Tells whether the data of any pending waiter matches `predicate`.
   *
   * @param predicate Called with each waiter's data, oldest first.
   * @returns `true` if one matched.
   */
  some(predicate: (data: D) => boolean): boolean {
    for (const entry of this.#entries) if (predicate(entry.data)) return true;
    return false;
  }

  /**
   * Resolves the oldest pending waiter with `value`.
   *
   * @param value What its promise resolves with.
   * @returns `true` if there was a waiter to wake.
   */
  wakeFirst(value: T): boolean {
    for (const entry of this.#entries) {
      entry.resolve(value);
      return true;
    }
    return false;
  }

  /**
   * Resolves the oldest pending waiter whose data matches `predicate`.
   *
   * @param predicate Called with each waiter's data, oldest first.
   * @param value What its promise resolves with.
   * @returns `true` if a waiter matched and was woken.
   */
  wakeFirstWhere(predicate: (data: D) => boolean, value: T): boolean {
    for (const entry of this.#entries) {
      if (predicate(entry.data)) {
        entry.resolve(value);
        return true;
      }
    }
    return false;
  }

  /**
   * Resolves every pending waiter with `value`, oldest first.
   *
   * @param value What their promises resolve with.
   * @returns How many were woken.
   */
  wakeAll(value: T): number {
    const entries = [...this.#entries];
    for (const entry of entries) entry.resolve(value);
    return entries.length;
  }

  /**
   * Rejects every pending waiter with `error`, oldest first.
   *
   * @param error What their promises reject with.
   * @returns How many were rejected.
   */
  rejectAll(error: Error): number {
    const entries = [...this.#entries];
    for (const entry of entries) entry.reject(error);
    return entries.length;
  }
}
