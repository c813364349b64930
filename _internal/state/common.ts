// Copyright the multiproc authors. MIT license.
/**
 * What the state machines of the shared primitives have in common: one file
 * per machine beside this one (`semaphore.ts` (and so lock), `event.ts`,
 * `condition.ts`, `barrier.ts`, `queue.ts` with its `queue_core.ts` and
 * `queue_ledger.ts`), all blocking through `waiters.ts`.
 *
 * Each shared primitive keeps its state in one place, the hub of the process
 * that created it; other processes and threads send it operations. These
 * classes are that state, written once: pure (no I/O, and no timers except
 * for timeouts), so the hub and a purely local primitive can both use them.
 *
 * Callers are identified by an {@linkcode Owner} number (the hub uses the
 * connection id). When a caller dies the hub aborts the `signal` of each of
 * its pending waits and calls `dropOwner(owner)`, which only deals with what
 * the owner still holds: semaphore permits are released, joinable queue
 * items taken but not acknowledged are redelivered, a barrier it waited on
 * breaks.
 *
 * Conventions shared by every blocking method:
 * - it returns a promise and takes {@linkcode WaitOptions}: `timeout` in ms
 *   (`undefined` waits forever, `<= 0` does not wait) and `signal`;
 * - an already aborted signal rejects at once with `signal.reason`, even if
 *   the call could complete without waiting;
 * - the state changes synchronously, when the method is called or when the
 *   waiter is woken, never a microtask later;
 * - waiters are served in FIFO order, and a newcomer does not overtake them.
 *
 * @module
 */

import { waitWhileEqual } from "../futex_wait.ts";

export type { WaitOptions } from "./waiters.ts";

/** Identifies a caller of a shared primitive (for the hub, its connection id). */
export type Owner = number;

/** Whether `timeout` means "do not wait" (a number `<= 0`, or `NaN`). */
export function noWait(timeout: number | undefined): boolean {
  return timeout !== undefined && !(timeout > 0);
}

/**
 * While callers wait on a state machine whose word lives in shared memory,
 * watches the word for changes made by other threads (which notify it), and
 * calls `step` after each: the one loop the semaphore and the event use.
 */
export class WordWatch {
  #words: Int32Array;
  #index: number;
  #step: () => boolean;
  #waiting: () => boolean;
  #watching: AbortController | undefined;

  /**
   * @param words The shared words.
   * @param index The word to watch (woken while it is 0).
   * @param step Looks at the word and serves waiters; `true` ends the watch.
   * @param waiting Whether anyone still waits.
   */
  constructor(words: Int32Array, index: number, step: () => boolean, waiting: () => boolean) {
    this.#words = words;
    this.#index = index;
    this.#step = step;
    this.#waiting = waiting;
  }

  /** Starts watching, unless it already does or the words are not shared. */
  start(): void {
    if (this.#watching || !(this.#words.buffer instanceof SharedArrayBuffer)) return;
    const watching = this.#watching = new AbortController();
    const loop = async (): Promise<void> => {
      for (;;) {
        if (this.#step() || watching.signal.aborted || !this.#waiting()) return;
        await waitWhileEqual(this.#words, this.#index, 0, undefined, watching.signal);
      }
    };
    loop().catch(() => {}).finally(() => {
      if (this.#watching === watching) this.#watching = undefined;
    });
  }

  /** Stops watching once nobody waits. */
  stopIfIdle(): void {
    if (this.#waiting() || !this.#watching) return;
    this.#watching.abort();
    this.#watching = undefined;
  }
}
