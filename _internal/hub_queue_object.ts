// Copyright the multiproc authors. MIT license.
/**
 * The hub's object of a queue ({@linkcode QueueObject}), joinable or not,
 * around its state machine (`state/queue.ts`), and the operations sessions
 * may call on it ({@linkcode QUEUE_OPS}, `queue.<method>` on the wire). A
 * file of its own, beside the table of every kind (`hub_objects.ts`), as it
 * is the largest kind: besides its items, it keeps who fetches ahead, what
 * it published, and the copies of the pipe end that writes to it.
 *
 * @module
 */

import { type HubObjectBase, num, setSlot } from "./hub_object_base.ts";
import type { ObjectHost, OpOf } from "./hub_objects.ts";
import { compareKeys } from "./priority_key.ts";
import type { Owner } from "./state/common.ts";
import { EndCopies } from "./state/end_copies.ts";
import { QueueState } from "./state/queue.ts";
import type { QueueOrder } from "./state/queue_order.ts";
import { QUEUE_SLOTS } from "./status_slots.ts";

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
export function itemOrder(name: unknown): QueueOrder<unknown> {
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

/** The operations on a queue, by name (`queue.<name>` on the wire). */
export const QUEUE_OPS: Record<string, OpOf<QueueObject>> = {
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
  lapse: (o, a, _c, hub, id) => {
    const lent = token(a);
    // After whatever the dead receiver sent (its adoption, its messages): those come first.
    const gone = a[1] === undefined ? Promise.resolve() : hub.whenGone(num(a[1], "pid"));
    return gone.then(() => {
      const open = o.copies?.lapse(lent);
      if (open !== undefined) closeUnless(open, o, hub, id);
    });
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
