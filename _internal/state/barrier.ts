// Copyright the multiproc authors. MIT license.
/**
 * State machine of a barrier; see `common.ts`.
 *
 * @module
 */

import { BrokenBarrierError } from "../errors.ts";
import { noWait, type Owner, type WaitOptions } from "./common.ts";
import { Waiters } from "./waiters.ts";

/** Outcome of {@linkcode BarrierState.wait}. */
export interface BarrierResult {
  /** Arrival order in this cycle: 0 for the first party, `parties - 1` for the last. */
  index: number;
  /**
   * `true` for the last party of a barrier with an action: it must run the
   * action, then report with {@linkcode BarrierState.actionDone}.
   */
  runAction: boolean;
}

interface PendingAction {
  readonly owner: Owner;
  readonly waiters: Waiters<void, Owner>;
}

/**
 * State of a barrier that `parties` callers pass together, cycle after cycle.
 *
 * - Mirrors Python's `threading.Barrier`: the index is the arrival order in
 *   the cycle, CPython's `index = self._count` before the count goes up, so
 *   the first party gets 0 and the last `parties - 1`.
 * - When the last party arrives and there is no action, every party is
 *   released. With an action, the last party resolves with `runAction: true`
 *   and runs it; the others stay waiting until
 *   {@linkcode BarrierState.actionDone}: `true` releases them, `false`
 *   breaks the barrier (Python: the action raised). Parties arriving
 *   meanwhile wait in the next cycle.
 * - The barrier breaks when a waiting party times out (its own timeout or
 *   the default) or its signal aborts, when a waiting party or the action
 *   runner dies ({@linkcode BarrierState.dropOwner}), on
 *   {@linkcode BarrierState.abort} and on a failed action. Every waiter then
 *   rejects with {@linkcode BrokenBarrierError} (the aborted one with the
 *   signal's reason), and so does every later wait until
 *   {@linkcode BarrierState.reset}.
 * - A wait with a timeout `<= 0` that is not the last arrival breaks the
 *   barrier at once, as in Python.
 */
export class BarrierState {
  #parties: number;
  #hasAction: boolean;
  #defaultTimeout: number | undefined;
  #current = new Waiters<void, Owner>();
  #actions: PendingAction[] = [];
  #broken: string | undefined;

  /**
   * Creates the state of a barrier.
   *
   * @param parties How many parties pass together.
   * @param hasAction Whether the last party of each cycle runs an action
   *   before the others are released.
   * @param defaultTimeout The timeout of waits that do not give one, in ms;
   *   `undefined` waits forever.
   * @throws {RangeError} If `parties` is not an integer >= 1.
   */
  constructor(parties: number, hasAction: boolean, defaultTimeout?: number) {
    if (!Number.isInteger(parties) || parties < 1) {
      throw new RangeError(`Barrier parties must be an integer >= 1: received ${parties}`);
    }
    this.#parties = parties;
    this.#hasAction = hasAction;
    this.#defaultTimeout = defaultTimeout;
  }

  /** How many parties pass together. */
  get parties(): number {
    return this.#parties;
  }

  /**
   * How many parties are waiting: those of the cycle being filled, plus
   * those waiting for an action to finish.
   */
  get nWaiting(): number {
    let n = this.#current.size;
    for (const action of this.#actions) n += action.waiters.size;
    return n;
  }

  /** Whether the barrier is broken. */
  get broken(): boolean {
    return this.#broken !== undefined;
  }

  /**
   * Waits until `parties` callers have arrived.
   *
   * @param owner The caller.
   * @param opts Timeout (defaults to the barrier's) and abort signal.
   * @returns The caller's arrival index and whether it must run the action.
   * @throws {BrokenBarrierError} (as a rejection) If the barrier is or
   *   becomes broken, including by this wait's timeout.
   * @throws {unknown} The signal's reason (as a rejection) if it aborts
   *   first; an abort while waiting breaks the barrier for the others.
   */
  wait(owner: Owner, opts: WaitOptions = {}): Promise<BarrierResult> {
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#broken !== undefined) {
      return Promise.reject(
        new BrokenBarrierError(`Cannot pass the barrier as it is broken: ${this.#broken}`),
      );
    }
    const index = this.#current.size;
    if (index + 1 === this.#parties) {
      const waiters = this.#current;
      if (this.#hasAction) {
        this.#actions.push({ owner, waiters });
        this.#current = new Waiters();
      } else {
        waiters.wakeAll();
      }
      return Promise.resolve({ index, runAction: this.#hasAction });
    }
    const timeout = opts.timeout ?? this.#defaultTimeout;
    if (noWait(timeout)) {
      return Promise.reject(this.#break(`a party timed out after ${timeout} ms`));
    }
    return this.#current.wait(
      { timeout, signal },
      () => this.#break(`a party timed out after ${timeout} ms`),
      { data: owner, onAbort: () => this.#break("a party's wait was aborted") },
    ).then(() => ({ index, runAction: false }));
  }

  /**
   * Reports that the action of the oldest pending cycle finished.
   *
   * Does nothing when no action is pending (the barrier broke or was reset
   * while it ran).
   *
   * @param ok `true` releases the cycle's waiting parties; `false` breaks the
   *   barrier.
   */
  actionDone(ok: boolean): void {
    const action = this.#actions[0];
    if (action === undefined) return;
    if (ok) {
      this.#actions.shift();
      action.waiters.wakeAll();
    } else {
      this.#break("its action failed");
    }
  }

  /** Breaks the barrier: waiters and later waits reject with {@linkcode BrokenBarrierError}. */
  abort(): void {
    this.#break("it was aborted");
  }

  /**
   * Returns the barrier to its initial state: current waiters reject with
   * {@linkcode BrokenBarrierError} and it is no longer broken.
   */
  reset(): void {
    this.#rejectAll(new BrokenBarrierError("Cannot pass the barrier as it was reset"));
    this.#broken = undefined;
  }

  /**
   * Breaks the barrier if `owner` was waiting on it or running its action,
   * as it died; otherwise the others would wait forever.
   *
   * @param owner The dead caller.
   * @returns `true` if the barrier was broken.
   */
  dropOwner(owner: Owner): boolean {
    const isOwner = (o: Owner): boolean => o === owner;
    const involved = this.#current.some(isOwner) ||
      this.#actions.some((a) => a.owner === owner || a.waiters.some(isOwner));
    if (involved) this.#break("a party died");
    return involved;
  }

  /** Breaks the barrier and returns the error for the caller that broke it. */
  #break(reason: string): BrokenBarrierError {
    this.#broken ??= reason;
    this.#rejectAll(new BrokenBarrierError(`Cannot pass the barrier as ${reason}`));
    return new BrokenBarrierError(`Cannot pass the barrier as ${reason}`);
  }

  #rejectAll(error: BrokenBarrierError): void {
    const actions = this.#actions;
    this.#actions = [];
    for (const action of actions) action.waiters.rejectAll(error);
    this.#current.rejectAll(error);
  }
}
