// Copyright the multiproc authors. MIT license.
/**
 * State machines of the shared primitives: semaphore (and so lock), event,
 * condition, barrier and queue (joinable or not).
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

import { BrokenBarrierError, Empty, Full, QueueClosed } from "./errors.ts";
import { Waiters, type WaitOptions } from "./waiters.ts";

export type { WaitOptions } from "./waiters.ts";

/** Identifies a caller of a shared primitive (for the hub, its connection id). */
export type Owner = number;

/** Whether `timeout` means "do not wait" (a number `<= 0`, or `NaN`). */
function noWait(timeout: number | undefined): boolean {
  return timeout !== undefined && !(timeout > 0);
}

// ---------------------------------------------------------------------------
// Semaphore

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

// ---------------------------------------------------------------------------
// Event

/**
 * State of an event: a flag that callers can wait for.
 *
 * - Mirrors Python's `threading.Event`/`multiprocessing.Event`.
 * - {@linkcode EventState.set} wakes every waiter; waiting on a set event
 *   resolves `true` at once.
 */
export class EventState {
  #flag = false;
  #waiters = new Waiters<boolean>();

  /** Whether the flag is set. */
  get isSet(): boolean {
    return this.#flag;
  }

  /** Number of pending {@linkcode EventState.wait} calls. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** Sets the flag and wakes every waiter with `true`. */
  set(): void {
    this.#flag = true;
    this.#waiters.wakeAll(true);
  }

  /** Clears the flag. */
  clear(): void {
    this.#flag = false;
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
    if (this.#flag || noWait(opts.timeout)) return Promise.resolve(this.#flag);
    return this.#waiters.wait(opts, () => false);
  }
}

// ---------------------------------------------------------------------------
// Condition

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

// ---------------------------------------------------------------------------
// Barrier

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

// ---------------------------------------------------------------------------
// Queue

/** A FIFO of items with O(1) shift and front insertion when there is room. */
class Deque {
  #items: unknown[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: unknown): void {
    this.#items.push(item);
  }

  /**
   * Removes and returns up to `n` items from the front, fewer if their
   * weights would pass `budget` (at least one).
   */
  take(n: number, weigh?: (item: unknown) => number, budget = Infinity): unknown[] {
    let end = Math.min(this.#head + n, this.#items.length);
    if (weigh && budget !== Infinity) {
      let total = 0;
      for (let i = this.#head; i < end; i++) {
        total += weigh(this.#items[i]);
        if (total > budget && i > this.#head) {
          end = i;
          break;
        }
      }
    }
    const taken = this.#items.slice(this.#head, end);
    if (end === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else {
      this.#items.fill(undefined, this.#head, end);
      this.#head = end;
      if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
    }
    return taken;
  }

  /** Inserts `items` at the front, in their order. */
  unshiftAll(items: readonly unknown[]): void {
    if (items.length <= this.#head) {
      this.#head -= items.length;
      for (let i = 0; i < items.length; i++) this.#items[this.#head + i] = items[i];
    } else {
      this.#items = items.concat(this.#items.slice(this.#head));
      this.#head = 0;
    }
  }
}

/** Options of {@linkcode QueueState}. */
export interface QueueStateOptions {
  /**
   * Largest number of items the queue holds; `<= 0` (or `Infinity`) for no
   * limit.
   *
   * @default {0}
   */
  maxsize?: number;
  /**
   * Whether the queue counts unfinished items for `taskDone()`/`join()` and
   * keeps outstanding records for redelivery.
   *
   * @default {false}
   */
  joinable?: boolean;
  /**
   * Size of an item, to bound the bytes one `getMany` returns (with
   * `batchBytes`): a consumer fetching ahead then takes fewer big items.
   */
  weigh?: (item: unknown) => number;
  /** Most bytes (as `weigh` counts them) one `getMany` returns, beyond its first item. */
  batchBytes?: number;
}

interface Getter {
  readonly owner: Owner;
  readonly max: number;
}

interface Putter {
  readonly owner: Owner;
  readonly item: unknown;
}

interface Outstanding {
  readonly owner: Owner;
  readonly item: unknown;
}

/**
 * State of a FIFO queue, optionally bounded and joinable. Items are opaque:
 * never inspected, cloned or encoded.
 *
 * - Mirrors Python's `queue.Queue`/`multiprocessing.Queue`/`JoinableQueue`:
 *   `Full` and `Empty` on timeout, `unfinished` counted at put,
 *   `task_done() called too many times`, `join()` at once when idle.
 * - FIFO among getters and among putters; a put hands its item directly to
 *   the oldest waiting getter; a get admits the oldest waiting putter.
 * - {@linkcode QueueState.close} (like Python 3.13's `shutdown()`): later
 *   puts and waiting putters reject with {@linkcode QueueClosed}; gets drain
 *   what is left, then reject with it.
 * - Better than Python, joinable queues only: items returned by a get are
 *   "outstanding" until acknowledged by {@linkcode QueueState.taskDone};
 *   {@linkcode QueueState.dropOwner} puts a dead consumer's outstanding items
 *   back at the front, so they are redelivered instead of lost. This may
 *   make the queue hold more than `maxsize` items for a while; putters wait
 *   until it is below again.
 */
export class QueueState {
  #maxsize: number;
  #joinable: boolean;
  #items = new Deque();
  #getters = new Waiters<unknown[], Getter>();
  #putters = new Waiters<void, Putter>();
  #joiners = new Waiters<boolean>();
  #closed = false;
  #unfinished = 0;
  #redelivered = 0;
  /** Items handed out in a batch beyond the one the get returned: held by a client until used. */
  #held = new Map<Owner, unknown[]>();
  #heldCount = 0;
  #seq = 0;
  /** Outstanding items by sequence number, so in the order they were taken. */
  #outstanding = new Map<number, Outstanding>();
  #byOwner = new Map<Owner, Set<number>>();

  /**
   * Creates the state of a queue.
   *
   * @param options The queue's size limit and whether it is joinable.
   * @throws {RangeError} If `maxsize` is `NaN`.
   */
  constructor(options: QueueStateOptions = {}) {
    const { maxsize = 0, joinable = false, weigh, batchBytes = Infinity } = options;
    this.#weigh = weigh;
    this.#batchBytes = batchBytes;
    if (Number.isNaN(maxsize)) throw new RangeError("Queue maxsize must be a number: received NaN");
    this.#maxsize = maxsize > 0 && maxsize !== Infinity ? maxsize : 0;
    this.#joinable = joinable;
  }

  #weigh: ((item: unknown) => number) | undefined;
  #batchBytes: number;

  /** The size limit, 0 when unbounded. */
  get maxsize(): number {
    return this.#maxsize;
  }

  /** Whether the queue is joinable. */
  get joinable(): boolean {
    return this.#joinable;
  }

  /** Number of items in the queue. */
  get qsize(): number {
    return this.#items.length;
  }

  /** Whether the queue holds no item. */
  get empty(): boolean {
    return this.#items.length === 0;
  }

  /** Whether the queue is bounded and holds `maxsize` items or more. */
  get full(): boolean {
    return this.#maxsize > 0 && this.#items.length >= this.#maxsize;
  }

  /** Whether {@linkcode QueueState.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Number of items put and not yet acknowledged by `taskDone()` (joinable queues). */
  get unfinished(): number {
    return this.#unfinished;
  }

  /** Number of items taken and not yet acknowledged, which a death would redeliver. */
  get outstanding(): number {
    return this.#outstanding.size;
  }

  /** Total number of items redelivered by {@linkcode QueueState.dropOwner}. */
  /** How many items handed out in batches are not used yet (counted in the published size). */
  get held(): number {
    return this.#heldCount;
  }

  /**
   * Records that `owner` used `n` of the items it holds (from a batch
   * `getMany` returned), oldest first.
   *
   * @param owner The caller.
   * @param n How many it used.
   */
  consumed(owner: Owner, n: number): void {
    const held = this.#held.get(owner);
    if (held === undefined) return;
    const k = Math.min(n, held.length);
    held.splice(0, k);
    this.#heldCount -= k;
    if (held.length === 0) this.#held.delete(owner);
  }

  /** How many items were put back for redelivery after their consumer died. */
  get redelivered(): number {
    return this.#redelivered;
  }

  /** Number of pending gets. */
  get getting(): number {
    return this.#getters.size;
  }

  /** Number of pending puts. */
  get putting(): number {
    return this.#putters.size;
  }

  /**
   * Puts an item at the end, waiting in FIFO order for room.
   *
   * @param owner The caller.
   * @param item The item, opaque to the queue.
   * @param opts Timeout (`<= 0`: reject at once if full) and abort signal.
   * @throws {Full} (as a rejection) If there is no room before the timeout.
   * @throws {QueueClosed} (as a rejection) If the queue is or gets closed.
   * @throws {unknown} The signal's reason (as a rejection) if it aborts first.
   */
  put(owner: Owner, item: unknown, opts: WaitOptions = {}): Promise<void> {
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
    if (this.#closed) return Promise.reject(this.#closedError("put to"));
    if (this.#hasRoom(1)) {
      this.#enqueue(item);
      return Promise.resolve();
    }
    const { timeout } = opts;
    if (noWait(timeout)) {
      return Promise.reject(new Full("Cannot put to the queue as it is full"));
    }
    return this.#putters.wait(
      opts,
      () => new Full(`Cannot put to the queue as it is still full after ${timeout} ms`),
      { data: { owner, item } },
    );
  }

  /**
   * Puts several items at the end at once, without waiting.
   *
   * @param owner The caller.
   * @param items The items, opaque to the queue.
   * @throws {QueueClosed} If the queue is closed.
   * @throws {Full} If the queue is bounded and has no room for all of them
   *   (nothing is put); items handed to waiting getters count as if they
   *   went through the queue.
   */
  putMany(owner: Owner, items: readonly unknown[]): void {
    void owner;
    if (this.#closed) throw this.#closedError("put to");
    if (items.length === 0) return;
    if (!this.#hasRoom(items.length)) {
      throw new Full(`Cannot put ${items.length} items to the queue as it has no room for them`);
    }
    this.#unfinished += items.length;
    this.#deliver(items, false);
  }

  /**
   * Takes the item at the front, waiting in FIFO order for one.
   *
   * @param owner The caller; for a joinable queue, the item is outstanding
   *   for it until acknowledged.
   * @param opts Timeout (`<= 0`: reject at once if empty) and abort signal.
   * @returns The item.
   * @throws {Empty} (as a rejection) If no item came before the timeout.
   * @throws {QueueClosed} (as a rejection) If the queue is closed and empty.
   * @throws {unknown} The signal's reason (as a rejection) if it aborts first.
   */
  get(owner: Owner, opts: WaitOptions = {}): Promise<unknown> {
    return this.#get(owner, 1, opts, "get from").then((items) => items[0]);
  }

  /**
   * Takes up to `max` items from the front: waits like
   * {@linkcode QueueState.get} for the first, then takes what is there.
   *
   * @param owner The caller; for a joinable queue, the items are outstanding
   *   for it until acknowledged.
   * @param max The most items to take.
   * @param opts Timeout (`<= 0`: reject at once if empty) and abort signal.
   * @returns One to `max` items, in queue order.
   * @throws {RangeError} (as a rejection) If `max` is not an integer >= 1.
   * @throws {Empty} (as a rejection) If no item came before the timeout.
   * @throws {QueueClosed} (as a rejection) If the queue is closed and empty.
   * @throws {unknown} The signal's reason (as a rejection) if it aborts first.
   */
  getMany(owner: Owner, max: number, opts: WaitOptions = {}): Promise<unknown[]> {
    if (!Number.isInteger(max) || max < 1) {
      return Promise.reject(
        new RangeError(
          `Cannot get items from the queue as max must be an integer >= 1: received ${max}`,
        ),
      );
    }
    return this.#get(owner, max, opts, "get from");
  }

  /**
   * Closes the queue: later puts reject with {@linkcode QueueClosed}, and so
   * do waiting putters; gets drain what is left, then reject with it.
   * Closing again does nothing.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#putters.rejectAll(this.#closedError("put to"));
    if (this.#items.length === 0) this.#getters.rejectAll(this.#closedError("get from"));
  }

  /**
   * Acknowledges one item taken from a joinable queue.
   *
   * Removes one outstanding record: the caller's oldest if it has one, else
   * the oldest of anyone's.
   *
   * @param owner The caller.
   * @throws {TypeError} If the queue is not joinable.
   * @throws {Error} `task_done() called too many times` if no item is
   *   unfinished.
   */
  taskDone(owner: Owner): void {
    this.#assertJoinable("taskDone");
    if (this.#unfinished === 0) throw new Error("task_done() called too many times");
    this.#unfinished--;
    const mine = this.#byOwner.get(owner);
    if (mine !== undefined) {
      this.#settle(mine.values().next().value as number);
    } else {
      this.#settleOldest();
    }
    // Misuse (taskDone before the item was taken) could leave more records
    // than unfinished items; those records could only cause duplicates.
    while (this.#outstanding.size > this.#unfinished) this.#settleOldest();
    if (this.#unfinished === 0) this.#joiners.wakeAll(true);
  }

  /**
   * Waits until every item put has been acknowledged.
   *
   * @param opts Timeout (`<= 0` only checks) and abort signal.
   * @returns `true` when no item is unfinished (at once if none is), `false`
   *   on timeout.
   * @throws {TypeError} (as a rejection) If the queue is not joinable.
   * @throws {unknown} The signal's reason (as a rejection) if it aborts first.
   */
  join(opts: WaitOptions = {}): Promise<boolean> {
    try {
      this.#assertJoinable("join");
    } catch (error) {
      return Promise.reject(error);
    }
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
    if (this.#unfinished === 0) return Promise.resolve(true);
    if (noWait(opts.timeout)) return Promise.resolve(false);
    return this.#joiners.wait(opts, () => false);
  }

  /**
   * Redelivers the items `owner` took from a joinable queue and did not
   * acknowledge, as it died: they go back to the front in the order they
   * were taken, to waiting getters first. `unfinished` does not change.
   *
   * @param owner The dead caller.
   * For a plain queue, the items it had been handed in a batch and had not
   * used are redelivered (what it used is gone, as in Python).
   *
   * @returns How many items were redelivered.
   */
  dropOwner(owner: Owner): number {
    const held = this.#held.get(owner);
    if (held !== undefined) {
      this.#heldCount -= held.length;
      this.#held.delete(owner);
      if (!this.#joinable) {
        // A plain queue forgets what a consumer used, but not what it never got to use.
        this.#redelivered += held.length;
        this.#deliver(held, true);
        return held.length;
      }
    }
    const mine = this.#byOwner.get(owner);
    if (mine === undefined) return 0;
    this.#byOwner.delete(owner);
    const items: unknown[] = [];
    for (const seq of mine) {
      items.push((this.#outstanding.get(seq) as Outstanding).item);
      this.#outstanding.delete(seq);
    }
    this.#redelivered += items.length;
    this.#deliver(items, true);
    return items.length;
  }

  /**
   * Gives back items a caller took but did not use (a client's prefetch
   * buffer, returned on request or at a clean exit): they go back to the
   * front in their order, to waiting getters first. For a joinable queue the
   * caller's newest outstanding records are dropped with them. Not counted
   * as redelivered.
   *
   * @param owner The caller that took them.
   * @param items The unused items, oldest first.
   */
  unget(owner: Owner, items: readonly unknown[]): void {
    const held = this.#held.get(owner);
    if (held !== undefined) {
      this.#heldCount -= held.length;
      this.#held.delete(owner);
    }
    if (items.length === 0) return;
    const mine = this.#byOwner.get(owner);
    if (mine !== undefined) {
      const newest = [...mine].slice(-items.length);
      for (const seq of newest) {
        mine.delete(seq);
        this.#outstanding.delete(seq);
      }
      if (mine.size === 0) this.#byOwner.delete(owner);
    }
    this.#deliver(items, true);
  }

  #get(owner: Owner, max: number, opts: WaitOptions, what: string): Promise<unknown[]> {
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
    if (this.#items.length > 0) {
      const items = this.#items.take(max, this.#weigh, this.#batchBytes);
      this.#track(owner, items);
      this.#admitPutters();
      return Promise.resolve(items);
    }
    if (this.#closed) return Promise.reject(this.#closedError(what));
    const { timeout } = opts;
    if (noWait(timeout)) {
      return Promise.reject(new Empty(`Cannot ${what} the queue as it is empty`));
    }
    return this.#getters.wait(
      opts,
      () => new Empty(`Cannot ${what} the queue as it is still empty after ${timeout} ms`),
      { data: { owner, max } },
    );
  }

  /** Whether `n` more items may enter now without overtaking waiting putters. */
  #hasRoom(n: number): boolean {
    if (this.#putters.size > 0) return false;
    return this.#maxsize === 0 || this.#items.length + n <= this.#maxsize;
  }

  /** Adds one new item: to the oldest waiting getter, or at the end. */
  #enqueue(item: unknown): void {
    this.#unfinished++;
    this.#deliver([item], false);
  }

  /** Hands `items` to waiting getters, oldest first, and queues the rest. */
  #deliver(items: readonly unknown[], atFront: boolean): void {
    let next = 0;
    while (next < items.length && this.#getters.size > 0) {
      const getter = this.#getters.peek() as Getter;
      // Several getters waiting share the items instead of the first taking them all.
      const share = Math.ceil((items.length - next) / this.#getters.size);
      let end = next + Math.min(getter.max, share);
      if (this.#weigh && this.#batchBytes !== Infinity) {
        let total = 0;
        for (let i = next; i < end; i++) {
          total += this.#weigh(items[i]);
          if (total > this.#batchBytes && i > next) {
            end = i;
            break;
          }
        }
      }
      const batch = items.slice(next, end);
      next += batch.length;
      this.#track(getter.owner, batch);
      this.#getters.wakeFirst(batch);
    }
    if (next === items.length) return;
    const rest = next === 0 ? items : items.slice(next);
    if (atFront) {
      this.#items.unshiftAll(rest);
    } else {
      for (const item of rest) this.#items.push(item);
    }
  }

  /** Moves the items of waiting putters into the queue while there is room. */
  #admitPutters(): void {
    while (
      this.#putters.size > 0 && (this.#maxsize === 0 || this.#items.length < this.#maxsize)
    ) {
      const putter = this.#putters.peek() as Putter;
      this.#putters.wakeFirst();
      this.#enqueue(putter.item);
    }
  }

  /** Records items returned to `owner` as outstanding (joinable queues only). */
  #track(owner: Owner, items: readonly unknown[]): void {
    if (items.length > 1) {
      const held = this.#held.get(owner);
      if (held === undefined) this.#held.set(owner, items.slice(1));
      else for (let i = 1; i < items.length; i++) held.push(items[i]);
      this.#heldCount += items.length - 1;
    }
    if (!this.#joinable) return;
    let mine = this.#byOwner.get(owner);
    if (mine === undefined) {
      mine = new Set();
      this.#byOwner.set(owner, mine);
    }
    for (const item of items) {
      const seq = ++this.#seq;
      this.#outstanding.set(seq, { owner, item });
      mine.add(seq);
    }
  }

  #settleOldest(): void {
    for (const seq of this.#outstanding.keys()) {
      this.#settle(seq);
      return;
    }
  }

  #settle(seq: number): void {
    const record = this.#outstanding.get(seq);
    if (record === undefined) return;
    this.#outstanding.delete(seq);
    const mine = this.#byOwner.get(record.owner) as Set<number>;
    mine.delete(seq);
    if (mine.size === 0) this.#byOwner.delete(record.owner);
  }

  #assertJoinable(method: string): void {
    if (!this.#joinable) {
      throw new TypeError(`Cannot call ${method}() on the queue as it is not joinable`);
    }
  }

  #closedError(what: string): QueueClosed {
    return new QueueClosed(
      what === "put to"
        ? "Cannot put to the queue as it is closed"
        : `Cannot ${what} the queue as it is closed and empty`,
    );
  }
}
