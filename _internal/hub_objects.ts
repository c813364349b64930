// Copyright the multiproc authors. MIT license.
/**
 * The hub's objects: one class per kind of shared primitive around its state
 * machine (`state/`), and the operations sessions may call on each, by wire
 * name (`<kind>.<method>`). Arguments come from the wire, so each operation
 * checks its own.
 *
 * Every object can say what it publishes in the status file
 * ({@linkcode HubObjectBase.status}), release what a dead session held
 * ({@linkcode HubObjectBase.dropOwner}) and forget a session that left
 * ({@linkcode HubObjectBase.left}).
 *
 * @module
 */

import { wakeSequence } from "./futex_wait.ts";
import type { Owner } from "./state/common.ts";
import { BarrierState } from "./state/barrier.ts";
import { ConditionState } from "./state/condition.ts";
import { EndCopies } from "./state/end_copies.ts";
import { EventState } from "./state/event.ts";
import { QueueState } from "./state/queue.ts";
import type { QueueOrder } from "./state/queue_order.ts";
import { compareKeys } from "./priority_key.ts";
import { SemaphoreState } from "./state/semaphore.ts";
import {
  BARRIER_SLOTS,
  EVENT_SLOTS,
  QUEUE_SLOTS,
  SEMAPHORE_SLOTS,
  SLOT_BYTES,
  type StatusSlot,
} from "./status_slots.ts";

/** The kinds of hub objects. */
export type Kind = HubObject["kind"];

/** Who calls an operation, and how long it may wait. */
export interface OpContext {
  owner: Owner;
  timeout?: number;
  signal?: AbortSignal;
}

/** What operations need from the hub. */
export interface ObjectHost {
  /** Publishes `obj`'s status slots (see {@linkcode HubObjectBase.status}). */
  publish(id: number, obj: HubObject): void;
  /** Records that `owner` may hold prefetched items of queue `id`. */
  notePrefetch(id: number, obj: QueueObject, owner: Owner): void;
  /** Asks every other session that may hold prefetched items of queue `id` to give them back. */
  revokePrefetch(id: number, obj: QueueObject, except: Owner): void;
  /**
   * Gives items given back to queue `id` to every getter after a while, if
   * getters still wait that may not have them (see `QueueState.releaseReturned`).
   */
  releaseLater(id: number, obj: QueueObject): void;
}

/** An operation on an object of any kind (checked by {@linkcode OPS}'s entries). */
export type Op = (
  obj: HubObject,
  args: unknown[],
  ctx: OpContext,
  hub: ObjectHost,
  id: number,
) => unknown;

/** An operation on an object of type `O`. */
type OpOf<O> = (obj: O, args: unknown[], ctx: OpContext, hub: ObjectHost, id: number) => unknown;

/** What every hub object does. */
export interface HubObjectBase {
  /** Which primitive it is: the prefix of its operations' names. */
  readonly kind: string;
  /**
   * Writes the slots it publishes into `out` (the first words of its
   * record, see {@linkcode setSlot}).
   *
   * @returns How many slots, from the first, to publish; 0 for none.
   */
  status(out: DataView): number;
  /** Releases what `owner` holds, as it died. */
  dropOwner(owner: Owner): void;
  /**
   * Forgets `owner`'s role (consumer, prefetcher), as it left; `clean` when
   * it said goodbye (else {@linkcode HubObjectBase.dropOwner} follows).
   */
  left(owner: Owner, clean: boolean): void;
}

/** Writes `value` in slot `slot` of a status record being built. */
export function setSlot(out: DataView, slot: StatusSlot, value: number): void {
  out.setInt32(slot * SLOT_BYTES, value, true);
}

/** A checked number from the wire. */
export function num(value: unknown, what: string): number {
  if (typeof value !== "number" || Number.isNaN(value)) throw new TypeError(`Invalid ${what}`);
  return value;
}

// ---------------------------------------------------------------------------
// Semaphore

/**
 * A semaphore. Its count is the hub's own, or, for one created on the
 * owner's main thread, in shared memory that the owner's threads use too.
 */
export class SemaphoreObject implements HubObjectBase {
  readonly kind = "semaphore";
  readonly state: SemaphoreState;

  constructor(state: SemaphoreState) {
    this.state = state;
  }

  status(out: DataView): number {
    setSlot(out, SEMAPHORE_SLOTS.value, this.state.value);
    return 1;
  }

  dropOwner(owner: Owner): void {
    this.state.dropOwner(owner);
  }

  left(): void {}
}

const SEMAPHORE_OPS: Record<string, OpOf<SemaphoreObject>> = {
  acquire: async (o, _a, c, hub, id) => {
    const r = await o.state.acquire(c.owner, c);
    hub.publish(id, o);
    return [r.acquired, r.ownerDied];
  },
  release: (o, a, c, hub, id) => {
    o.state.release(c.owner, a[0] === undefined ? 1 : num(a[0], "count"));
    hub.publish(id, o);
  },
  /** The count changed in the owner's shared memory (or is new): publish it. */
  publish: (o, _a, _c, hub, id) => hub.publish(id, o),
};

// ---------------------------------------------------------------------------
// Event

/**
 * An event. Its flag is the hub's own, or, for one created on the owner's
 * main thread, in shared memory that the owner's threads use too.
 */
export class EventObject implements HubObjectBase {
  readonly kind = "event";
  readonly state: EventState;

  constructor(flag: SharedArrayBuffer | undefined) {
    this.state = flag ? EventState.over(new Int32Array(flag)) : new EventState();
  }

  status(out: DataView): number {
    setSlot(out, EVENT_SLOTS.flag, this.state.isSet ? 1 : 0);
    return 1;
  }

  dropOwner(): void {}

  left(): void {}
}

const EVENT_OPS: Record<string, OpOf<EventObject>> = {
  set: (o, _a, _c, hub, id) => {
    o.state.set(); // Over the owner's shared memory, this wakes the owner's threads too.
    hub.publish(id, o);
  },
  clear: (o, _a, _c, hub, id) => {
    o.state.clear();
    hub.publish(id, o);
  },
  wait: (o, _a, c) => o.state.wait(c),
  /** The flag changed in the owner's shared memory: publish it. */
  publish: (o, _a, _c, hub, id) => hub.publish(id, o),
};

// ---------------------------------------------------------------------------
// Condition

/** A condition variable (its lock is a separate semaphore). */
export class ConditionObject implements HubObjectBase {
  readonly kind = "condition";
  readonly state: ConditionState = new ConditionState();
  /** Conditions created on the owner's main thread: the wait sequence its threads use (see wakeSequence). */
  readonly seq: Int32Array | undefined;

  constructor(seq: SharedArrayBuffer | undefined) {
    this.seq = seq && new Int32Array(seq);
  }

  status(): number {
    return 0;
  }

  dropOwner(owner: Owner): void {
    this.state.dropOwner(owner);
  }

  left(): void {}
}

const CONDITION_OPS: Record<string, OpOf<ConditionObject>> = {
  register: (o, _a, c) => o.state.register(c.owner),
  wait: (o, a, c) => o.state.wait(c.owner, num(a[0], "ticket"), c),
  notify: (o, a) => {
    const n = a[0] === undefined ? 1 : num(a[0], "count");
    if (o.seq) wakeSequence(o.seq, n); // The owner's threads wait in shared memory.
    return o.state.notify(n);
  },
  notifyAll: (o) => {
    if (o.seq) wakeSequence(o.seq);
    return o.state.notifyAll();
  },
};

// ---------------------------------------------------------------------------
// Barrier

/** A barrier. */
export class BarrierObject implements HubObjectBase {
  readonly kind = "barrier";
  readonly state: BarrierState;

  constructor(parties: number, hasAction: boolean, timeout: number | undefined) {
    this.state = new BarrierState(parties, hasAction, timeout);
  }

  status(out: DataView): number {
    setSlot(out, BARRIER_SLOTS.waiting, this.state.nWaiting);
    setSlot(out, BARRIER_SLOTS.broken, this.state.broken ? 1 : 0);
    return 2;
  }

  dropOwner(owner: Owner): void {
    this.state.dropOwner(owner);
  }

  left(): void {}
}

const BARRIER_OPS: Record<string, OpOf<BarrierObject>> = {
  wait: async (o, _a, c, hub, id) => {
    const waiting = o.state.wait(c.owner, c);
    hub.publish(id, o);
    try {
      const r = await waiting;
      return [r.index, r.runAction];
    } finally {
      hub.publish(id, o);
    }
  },
  actionDone: (o, a, _c, hub, id) => {
    o.state.actionDone(Boolean(a[0]));
    hub.publish(id, o);
  },
  abort: (o, _a, _c, hub, id) => {
    o.state.abort();
    hub.publish(id, o);
  },
  reset: (o, _a, _c, hub, id) => {
    o.state.reset();
    hub.publish(id, o);
  },
  publish: (o, _a, _c, hub, id) => hub.publish(id, o),
};

// ---------------------------------------------------------------------------
// Queue

/** Options of a {@linkcode QueueObject}. */
export interface QueueObjectOptions<T> {
  maxsize: number;
  joinable: boolean;
  /** Whether it counts tasks without being joinable (see `state/queue.ts`). */
  tasks: boolean;
  /** Size of an item, to bound the bytes of one batch. */
  weigh: (item: T) => number;
  /** Most bytes (as `weigh` counts them) of one batch, beyond its first item. */
  batchBytes: number;
  /** The order items come out in (see `state/queue_order.ts`). */
  order: QueueOrder<T>;
}

/** The order of a queue a client declares: items first in first out, last in first out, or by key. */
export type QueueOrderName = "fifo" | "lifo" | "priority";

/** The order of a queue whose items are encoded (a priority queue's carry their keys). */
function itemOrder(name: unknown): QueueOrder<unknown> {
  if (name === undefined || name === "fifo") return "fifo";
  if (name === "lifo") return "lifo";
  if (name === "priority") return compareKeys;
  throw new TypeError(`Invalid queue order`);
}

/** A queue, joinable or not; items are opaque (of type `T`). */
export class QueueObject<T = unknown> implements HubObjectBase {
  readonly kind = "queue";
  readonly state: QueueState<T>;
  /** Sessions that may hold prefetched items, to ask back when a getter must wait. */
  readonly prefetchers: Set<Owner> = new Set();
  /** Sessions that get from it (for fair batch sizes). */
  readonly consumers: Set<Owner> = new Set();
  /** Whether a {@linkcode ObjectHost.releaseLater} is pending. */
  releasing = false;
  /** `queue.putMany` requests applied, modulo 2^31 (see `QUEUE_SLOTS.applied`). */
  putsApplied = 0;
  /** `queue.consumed` requests applied, modulo 2^31 (see `QUEUE_SLOTS.used`). */
  usesApplied = 0;
  /** The copies of the pipe end that writes to it, if it is one's (see `state/end_copies.ts`). */
  copies: EndCopies | undefined;
  /** Whether it was closed as no copy of its pipe end was left (it opens again with a new one). */
  closedByCopies = false;

  constructor(options: QueueObjectOptions<T>) {
    this.state = new QueueState(options);
  }

  status(out: DataView): number {
    const s = this.state;
    // Items prefetched by consumers and not used yet still count, as if in the queue.
    setSlot(out, QUEUE_SLOTS.size, s.qsize + s.held);
    setSlot(out, QUEUE_SLOTS.closed, s.closed ? 1 : 0);
    setSlot(out, QUEUE_SLOTS.unfinished, s.unfinished);
    setSlot(out, QUEUE_SLOTS.applied, this.putsApplied);
    setSlot(out, QUEUE_SLOTS.used, this.usesApplied);
    return 5;
  }

  dropOwner(owner: Owner): void {
    this.state.dropOwner(owner);
  }

  /** Closes it as no copy of its pipe end is left (a new copy opens it again). */
  closeForCopies(): void {
    this.state.close();
    this.closedByCopies = true;
  }

  left(owner: Owner, clean: boolean): void {
    this.consumers.delete(owner);
    this.prefetchers.delete(owner);
    // Its copies of the pipe end go with it, as a process's descriptors do when it ends.
    if (this.copies?.leave(owner) === false) this.closeForCopies();
    // Items it was handed ahead of its gets and never used go back, even if its client could not
    // give them back before it said goodbye (a fetch ahead still on its way, say).
    if (clean) this.state.returnHeld(owner);
  }
}

/** Items of a request: `a[0]`, an array. */
function items(a: unknown[], what = "items"): unknown[] {
  if (!Array.isArray(a[0])) throw new TypeError(`Invalid ${what}`);
  return a[0];
}

/** The token of a lent copy of a pipe end: `a[0]`. */
function token(a: unknown[]): string {
  if (typeof a[0] !== "string" || a[0].length === 0 || a[0].length > 64) {
    throw new TypeError("Invalid token");
  }
  return a[0];
}

/** Closes a pipe end's queue once no copy of the end is left. */
function closeUnless(open: boolean, o: QueueObject, hub: ObjectHost, id: number): void {
  if (open) return;
  o.closeForCopies();
  hub.publish(id, o);
}

/**
 * The copies of a pipe end, about to count one more: an end closed as no copy was in use opens
 * again (its holder hands it on again, or sends on it again), as it does in Python, where the
 * holder's descriptor kept it open all along.
 */
function copiesOf(o: QueueObject, hub: ObjectHost, id: number): EndCopies {
  if (o.closedByCopies) {
    o.closedByCopies = false;
    o.state.reopen();
    hub.publish(id, o);
  }
  return o.copies ??= new EndCopies();
}

const QUEUE_OPS: Record<string, OpOf<QueueObject>> = {
  put: async (o, a, c, hub, id) => {
    await o.state.put(c.owner, a[0], c);
    hub.publish(id, o);
  },
  putMany: (o, a, c, hub, id) => {
    const applied = () => {
      o.putsApplied = (o.putsApplied + 1) & 0x7fffffff;
      hub.publish(id, o);
      // The count this request brought it to: its sender then knows that `size` counts it.
      return o.putsApplied;
    };
    // A bounded queue's producer sends its puts this way when it saw room, which another one may
    // have taken since: they wait for room in order, as the put() of a producer that saw none.
    const waiting = o.state.putWaiting(c.owner, items(a), c);
    if (waiting === undefined) return applied();
    hub.publish(id, o); // Some may be in already.
    return waiting.then(applied, (error) => {
      hub.publish(id, o);
      throw error;
    });
  },
  get: async (o, _a, c, hub, id) => {
    if (!o.state.hasFor(c.owner)) hub.revokePrefetch(id, o, c.owner);
    const item = await o.state.get(c.owner, c);
    hub.publish(id, o);
    return item;
  },
  getMany: async (o, a, c, hub, id) => {
    let max = Math.max(1, Math.min(1024, num(a[0], "count")));
    // A consumer fetching ahead of its gets (it never waits): it keeps every item for later.
    const ahead = a[1] === true;
    o.consumers.add(c.owner);
    const state = o.state;
    if (!state.hasFor(c.owner)) {
      // A fetch ahead that finds nothing gets nothing, not an Empty error: at the pace of a
      // consumer keeping up with its producer, a third of its fetches (an Error's stack trace
      // each, here and in the client).
      if (ahead) return [];
      // Someone is about to wait while others may sit on prefetched items: ask for them back.
      hub.revokePrefetch(id, o, c.owner);
    } else if (o.consumers.size > 1) {
      // With several consumers, a batch takes at most a fair share of the backlog.
      max = Math.min(max, Math.max(1, Math.floor(state.qsize / o.consumers.size)));
    }
    const got = await state.getMany(c.owner, max, c, ahead);
    if (got.length > (ahead ? 0 : 1)) hub.notePrefetch(id, o, c.owner);
    hub.publish(id, o);
    return got;
  },
  consumed: (o, a, c, hub, id) => {
    o.state.consumed(c.owner, items(a, "count").length);
    o.usesApplied = (o.usesApplied + 1) & 0x7fffffff;
    hub.publish(id, o);
    // As putMany's: its sender then knows that `size` no longer counts these items.
    return o.usesApplied;
  },
  unget: (o, a, c, hub, id) => {
    o.state.unget(c.owner, items(a));
    if (o.state.stranded) hub.releaseLater(id, o);
    hub.publish(id, o);
  },
  close: (o, _a, _c, hub, id) => {
    o.state.close();
    hub.publish(id, o);
  },
  // The copies of the pipe end that writes to this queue: it closes with the last one.
  hold: (o, _a, c, hub, id) => {
    copiesOf(o, hub, id).hold(c.owner);
  },
  lend: (o, a, c, hub, id) => {
    const open = copiesOf(o, hub, id).lend(c.owner, token(a), a[1] === true);
    closeUnless(open, o, hub, id);
  },
  adopt: (o, a, c, hub, id) => {
    copiesOf(o, hub, id).adopt(c.owner, token(a));
  },
  release: (o, _a, c, hub, id) => {
    if (o.copies) closeUnless(o.copies.release(c.owner), o, hub, id);
  },
  taskDone: (o, a, c, hub, id) => {
    // `a[0]` lists one entry per taskDone() made in a burst (sent as one request).
    const count = Array.isArray(a[0]) ? a[0].length : 1;
    try {
      for (let i = 0; i < count; i++) o.state.taskDone(c.owner);
    } finally {
      hub.publish(id, o);
    }
  },
  join: (o, _a, c) => o.state.join(c),
  stats: (o) => ({ redelivered: o.state.redelivered }),
};

// ---------------------------------------------------------------------------
// The table

/** A hub object of any kind. */
export type HubObject =
  | SemaphoreObject
  | EventObject
  | ConditionObject
  | BarrierObject
  | QueueObject;

/** The object type of `kind`. */
type ObjectOf<K extends Kind> = Extract<HubObject, { kind: K }>;

/** `ops` by wire name (`<kind>.<name>`), each checking that its object is of `kind`. */
function opsOf<K extends Kind>(kind: K, ops: Record<string, OpOf<ObjectOf<K>>>): [string, Op][] {
  return Object.entries(ops).map(([name, op]) => {
    const wireName = `${kind}.${name}`;
    const checked: Op = (obj, args, ctx, hub, id) => {
      if (obj.kind !== kind) throw new TypeError(`Unknown operation "${wireName}"`);
      return op(obj as ObjectOf<K>, args, ctx, hub, id);
    };
    return [wireName, checked];
  });
}

/** Every operation, by `<kind>.<method>`. Arguments come from the wire: checked here. */
export const OPS: Record<string, Op> = Object.fromEntries([
  ...opsOf("semaphore", SEMAPHORE_OPS),
  ...opsOf("event", EVENT_OPS),
  ...opsOf("condition", CONDITION_OPS),
  ...opsOf("barrier", BARRIER_OPS),
  ...opsOf("queue", QUEUE_OPS),
]);

/** How the hub weighs and batches queue items. */
export interface QueueItems<T> {
  /** Size of an item. */
  weigh: (item: T) => number;
  /** Most bytes of items one reply to a consumer fetching ahead carries (beyond its first). */
  batchBytes: number;
}

/**
 * Creates an object of `kind` from its creator's parameters (from the wire).
 *
 * @throws {TypeError} If the kind is unknown or a parameter is invalid.
 * @throws {RangeError} If a parameter is out of range.
 */
export function createObject(
  kind: string,
  params: unknown,
  queues: QueueItems<unknown>,
): HubObject {
  const p = (typeof params === "object" && params !== null ? params : {}) as Record<
    string,
    unknown
  >;
  switch (kind) {
    case "semaphore": {
      const bound = (): number | undefined =>
        p.bound === undefined ? undefined : num(p.bound, "bound");
      if (p.permits instanceof SharedArrayBuffer) {
        return new SemaphoreObject(SemaphoreState.over(new Int32Array(p.permits), bound()));
      }
      return new SemaphoreObject(new SemaphoreState(num(p.value ?? 1, "value"), bound()));
    }
    case "event":
      return new EventObject(p.flag instanceof SharedArrayBuffer ? p.flag : undefined);
    case "condition":
      return new ConditionObject(p.seq instanceof SharedArrayBuffer ? p.seq : undefined);
    case "barrier":
      return new BarrierObject(
        num(p.parties, "parties"),
        Boolean(p.hasAction),
        p.timeout === undefined ? undefined : num(p.timeout, "timeout"),
      );
    case "queue":
      return new QueueObject({
        maxsize: num(p.maxsize ?? 0, "maxsize"),
        joinable: Boolean(p.joinable),
        tasks: Boolean(p.tasks),
        weigh: queues.weigh,
        batchBytes: queues.batchBytes,
        order: itemOrder(p.order),
      });
    default:
      throw new TypeError(`Unknown object kind "${kind}"`);
  }
}
