// Copyright the multiproc authors. MIT license.
/**
 * State machine of a condition variable; see `common.ts`.
 *
 * @module
 */

import { noWait, type Owner, type WaitOptions } from "./common.ts";
import { Waiters } from "./waiters.ts";

interface Ticket {
  readonly owner: Owner;
  notified: boolean;
  waiting: boolean;
}

/**
 * State of a condition variable. The condition's lock is a separate
 * semaphore, managed by the caller.
 *
 * - Mirrors Python's `threading.Condition` wait/notify, in two steps so no
 *   wake-up is lost while the caller releases the lock:
 *   1. with the lock held, {@linkcode ConditionState.register} returns a ticket;
 *   2. the caller releases the lock, then {@linkcode ConditionState.wait}s
 *      with the ticket (`true` even if the notify came in between), then
 *      re-acquires the lock.
 * - {@linkcode ConditionState.notify} wakes the oldest registered tickets.
 * - `wait_for(predicate)` is a loop of these steps around the predicate.
 * - Better than Python: a notification given to a ticket of an owner that
 *   dies before consuming it goes on to the next ticket.
 */
export class ConditionState {
  #tickets = new Map<number, Ticket>();
  #lastTicket = 0;
  #registered = 0;
  #waiters = new Waiters<boolean, number>();

  /** Number of registered tickets not yet notified. */
  get waiting(): number {
    return this.#registered;
  }

  /**
   * Registers a future wait; call it while holding the condition's lock.
   *
   * @param owner The caller.
   * @returns The ticket to pass to {@linkcode ConditionState.wait}.
   */
  register(owner: Owner): number {
    const ticket = ++this.#lastTicket;
    this.#tickets.set(ticket, { owner, notified: false, waiting: false });
    this.#registered++;
    return ticket;
  }

  /**
   * Waits until the ticket is notified; the ticket is spent afterwards.
   *
   * - Resolves `true` at once if the ticket was notified since
   *   {@linkcode ConditionState.register}, even if the signal has aborted
   *   (the notification is consumed, not lost).
   * - Resolves `false` on timeout; the ticket is dropped, so a later notify
   *   goes to another one.
   *
   * @param owner The caller, as given to {@linkcode ConditionState.register}.
   * @param ticket The caller's ticket.
   * @param opts Timeout (`<= 0` only checks) and abort signal.
   * @returns `true` when notified, `false` on timeout.
   * @throws {Error} (as a rejection) If the ticket is unknown, spent, of
   *   another owner or already waited on.
   * @throws {unknown} The signal's reason (as a rejection) if it aborts first.
   */
  wait(owner: Owner, ticket: number, opts: WaitOptions = {}): Promise<boolean> {
    const record = this.#tickets.get(ticket);
    if (record === undefined || record.owner !== owner || record.waiting) {
      return Promise.reject(
        new Error(
          `Cannot wait on condition ticket ${ticket} as it is not a pending ticket of owner ${owner}`,
        ),
      );
    }
    if (record.notified) {
      this.#tickets.delete(ticket);
      return Promise.resolve(true);
    }
    if (opts.signal?.aborted || noWait(opts.timeout)) {
      this.#forget(ticket, record);
      return opts.signal?.aborted ? Promise.reject(opts.signal.reason) : Promise.resolve(false);
    }
    record.waiting = true;
    const forget = (): void => this.#forget(ticket, record);
    return this.#waiters.wait(opts, () => {
      forget();
      return false;
    }, { data: ticket, onAbort: forget });
  }

  /**
   * Wakes the `n` oldest registered tickets.
   *
   * @param n How many to wake at most.
   * @returns How many were woken.
   */
  notify(n = 1): number {
    let woken = 0;
    for (const [ticket, record] of this.#tickets) {
      if (woken >= n) break;
      if (record.notified) continue;
      this.#notifyTicket(ticket, record);
      woken++;
    }
    return woken;
  }

  /**
   * Wakes every registered ticket.
   *
   * @returns How many were woken.
   */
  notifyAll(): number {
    return this.notify(Infinity);
  }

  /**
   * Forgets every ticket of `owner`, as it died. Notifications they had not
   * consumed yet are passed on to the oldest other tickets.
   *
   * @param owner The dead caller.
   * @returns How many tickets were dropped.
   */
  dropOwner(owner: Owner): number {
    let dropped = 0;
    let unconsumed = 0;
    for (const [ticket, record] of this.#tickets) {
      if (record.owner !== owner) continue;
      if (record.notified) unconsumed++;
      this.#forget(ticket, record);
      dropped++;
    }
    if (unconsumed > 0) this.notify(unconsumed);
    return dropped;
  }

  #notifyTicket(ticket: number, record: Ticket): void {
    record.notified = true;
    this.#registered--;
    if (record.waiting) {
      this.#tickets.delete(ticket);
      this.#waiters.wakeFirstWhere((t) => t === ticket, true);
    }
  }

  #forget(ticket: number, record: Ticket): void {
    if (!this.#tickets.delete(ticket)) return;
    if (!record.notified) this.#registered--;
  }
}
