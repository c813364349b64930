// Copyright the multiproc authors. MIT license.
/**
 * The hub's objects: one class per kind of shared primitive around its state
 * machine (`state/`), and the operations sessions may call on each, by wire
 * name (`<kind>.<method>`). Arguments come from the wire, so each operation
 * checks its own. The queue's object and operations are in
 * `hub_queue_object.ts`, the largest kind; the others are here, with the
 * table of them all.
 *
 * Every object can say what it publishes in the status file
 * ({@linkcode HubObjectBase.status}), release what a dead session held
 * ({@linkcode HubObjectBase.dropOwner}) and forget a session that left
 * ({@linkcode HubObjectBase.left}): see `hub_object_base.ts`.
 *
 * @module
 */

import { wakeSequence } from "./futex_wait.ts";
import { type HubObjectBase, num, setSlot } from "./hub_object_base.ts";
import { itemOrder, QUEUE_OPS, QueueObject } from "./hub_queue_object.ts";
import type { Owner } from "./state/common.ts";
import { BarrierState } from "./state/barrier.ts";
import { ConditionState } from "./state/condition.ts";
import { EventState } from "./state/event.ts";
import { SemaphoreState } from "./state/semaphore.ts";
import { BARRIER_SLOTS, EVENT_SLOTS, SEMAPHORE_SLOTS } from "./status_slots.ts";

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
  /** Resolves once no session of process `pid` (which has exited) is open. */
  whenGone(pid: number): Promise<void>;
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
export type OpOf<O> = (
  obj: O,
  args: unknown[],
  ctx: OpContext,
  hub: ObjectHost,
  id: number,
) => unknown;

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
