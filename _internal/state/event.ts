// Copyright the multiproc authors. MIT license.
/**
 * State machine of an event; see `common.ts`.
 *
 * The flag lives in int32 words ({@linkcode WORDS}): a plain `Int32Array`
 * when the hub alone holds the event, or shared memory when the event was
 * created on a process's main thread. Then that thread, the process's other
 * threads and its hub each run an {@linkcode EventState} over the same
 * words: one flag for everyone, and a set anywhere wakes waiters everywhere.
 *
 * @module
 */

import { noWait, type WaitOptions, WordWatch } from "./common.ts";
import { Waiters } from "./waiters.ts";

/** Word of the flag: 1 while set. */
export const FLAG = 0;
/**
 * Word set to 1 once the event has been sent to another process (its owner
 * then also tells the hub of every change, for the status file).
 */
export const SHARED = 1;
/** Number of int32 words. */
export const WORDS = 2;

/**
 * State of an event: a flag that callers can wait for.
 *
 * - Mirrors Python's `threading.Event`/`multiprocessing.Event`.
 * - {@linkcode EventState.set} wakes every waiter; waiting on a set event
 *   resolves `true` at once.
 * - Over shared words ({@linkcode EventState.over}), a set by another
 *   thread's state wakes this one's waiters too, as soon as it is seen.
 */
export class EventState {
  #words: Int32Array = new Int32Array(WORDS);
  #waiters = new Waiters<boolean>();
  /** Over shared words with callers waiting: stops the wait for a set made elsewhere. */

  /**
   * Creates the state of an event with its flag in shared memory, for other
   * threads to run states {@linkcode EventState.over} its
   * {@linkcode EventState.words}.
   *
   * @returns A clear event.
   */
  static shared(): EventState {
    const state = new EventState();
    state.#words = new Int32Array(new SharedArrayBuffer(WORDS * Int32Array.BYTES_PER_ELEMENT));
    return state;
  }

  /**
   * Creates a state over words that already hold an event's flag, as
   * {@linkcode EventState.words} returns them.
   *
   * @param words The event's {@linkcode WORDS} words.
   * @returns A state that shares the flag with every other state over them.
   */
  static over(words: Int32Array): EventState {
    const state = new EventState();
    state.#words = words;
    return state;
  }

  /** The words that hold the flag (see {@linkcode FLAG}, {@linkcode SHARED}). */
  get words(): Int32Array {
    return this.#words;
  }

  /** Whether the flag is set. */
  get isSet(): boolean {
    return Atomics.load(this.#words, FLAG) === 1;
  }

  /** Number of pending {@linkcode EventState.wait} calls. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** Sets the flag and wakes every waiter with `true` (those of other states over the words too). */
  set(): void {
    Atomics.store(this.#words, FLAG, 1);
    Atomics.notify(this.#words, FLAG);
    this.#waiters.wakeAll(true);
    this.#unwatchIfIdle();
  }

  /** Clears the flag. */
  clear(): void {
    Atomics.store(this.#words, FLAG, 0);
  }

  /**
   * Waits until the flag is set.
   *
   * @param opts Timeout (`<= 0` only checks) and abort signal.
   * @returns The flag: `true` once set (at once if already set), `false` on
   *   timeout.
   * @throws {unknown} The signal's reason (as a rejection) if it aborts first.
   */
  wait(opts: WaitOptions = {}): Promise<boolean> {
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
    if (this.isSet || noWait(opts.timeout)) return Promise.resolve(this.isSet);
    const woken = this.#waiters.wait(opts, () => {
      this.#unwatchIfIdle();
      return false;
    }, { onAbort: () => this.#unwatchIfIdle() });
    this.#watch();
    return woken;
  }

  /** Over shared words, while callers wait: watches the word for changes by other threads. */
  #watcher: WordWatch | undefined;

  #watch(): void {
    this.#watcher ??= new WordWatch(this.#words, FLAG, () => {
      if (!this.isSet) return false;
      this.#waiters.wakeAll(true);
      return true;
    }, () => this.#waiters.size > 0);
    this.#watcher.start();
  }

  #unwatchIfIdle(): void {
    this.#watcher?.stopIfIdle();
  }
}
