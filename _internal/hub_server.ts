/**
 * The hub: the one place where the state of a process's shared primitives
 * lives. It dispatches operations from sessions (the owner's threads, and
 * child processes over the socket) to the state machines of `state/`, and
 * cleans up after a session that goes away: permits it held are released,
 * its pending waits are cancelled, and JoinableQueue items it took but did
 * not acknowledge are redelivered.
 *
 * Transport-agnostic: `_hub_worker.ts` feeds it from a socket and a port.
 *
 * @module
 */

import { BrokenBarrierError } from "./errors.ts";
import { give, take } from "./shared_semaphore.ts";
import { wakeSequence } from "./futex_wait.ts";
import type { Reply, Request, WireError } from "./protocol.ts";
import { isLargeItem, MAX_OBJECTS, STATUS_SLOT_BYTES, weighItem } from "./protocol.ts";
import { markHeavy } from "./framing.ts";
import type { SharedFile } from "./runtime.ts";
import type { Owner } from "./state/common.ts";
import { BarrierState } from "./state/barrier.ts";
import { ConditionState } from "./state/condition.ts";
import { EventState } from "./state/event.ts";
import { QueueState } from "./state/queue.ts";
import { SemaphoreState } from "./state/semaphore.ts";

/** How long `whenGone` waits at most for a dead process's connections to close. */
const GONE_LIMIT_MS = 2_000;
/** Most bytes of items one reply to a consumer fetching ahead carries (beyond its first item). */
const BATCH_BYTES = 1024 * 1024;

type Kind = "semaphore" | "event" | "condition" | "barrier" | "queue";

interface HubObject {
  kind: Kind;
  // deno-lint-ignore no-explicit-any
  state: any;
  /** Queues: sessions that may hold prefetched items, to ask back when a getter must wait. */
  prefetchers?: Set<Owner>;
  /** Queues: sessions that get from it (for fair batch sizes). */
  consumers?: Set<Owner>;
  /** Events created on the owner's main thread: the flag its threads use, in shared memory. */
  flag?: Int32Array;
  /** Semaphores created on the owner's main thread: the count in shared memory (see shared_semaphore.ts). */
  permits?: Int32Array;
  /** With `permits`: permits each client holds, returned if it dies. */
  held?: Map<Owner, number>;
  /** With `permits`: the bound of a BoundedSemaphore. */
  bound?: number;
  /** Conditions created on the owner's main thread: the wait sequence its threads use (see wakeSequence). */
  seq?: Int32Array;
}

interface OpContext {
  owner: Owner;
  timeout?: number;
  signal?: AbortSignal;
}

type Op = (obj: HubObject, args: unknown[], ctx: OpContext, hub: HubServer, id: number) => unknown;

function num(value: unknown, what: string): number {
  if (typeof value !== "number" || Number.isNaN(value)) throw new TypeError(`Invalid ${what}`);
  return value;
}

/** Every operation, by `<kind>.<method>`. Arguments come from the wire: checked here. */
const OPS: Record<string, Op> = {
  "semaphore.acquire": async (o, _a, c, hub, id) => {
    if (o.permits) {
      // The owner's count in shared memory: take from it on this client's behalf.
      const died = await take(o.permits, c.timeout, c.signal);
      if (died === undefined) return [false, false];
      o.held!.set(c.owner, (o.held!.get(c.owner) ?? 0) + 1);
      hub.publish(id, o);
      return [true, died];
    }
    const r = await o.state.acquire(c.owner, c);
    hub.publish(id, o);
    return [r.acquired, r.ownerDied];
  },
  "semaphore.release": (o, a, c, hub, id) => {
    const n = a[0] === undefined ? 1 : num(a[0], "count");
    if (o.permits) {
      give(o.permits, n, o.bound);
      const held = (o.held!.get(c.owner) ?? 0) - n;
      if (held > 0) o.held!.set(c.owner, held);
      else o.held!.delete(c.owner);
    } else {
      o.state.release(c.owner, n);
    }
    hub.publish(id, o);
  },
  "event.set": (o, _a, _c, hub, id) => {
    o.state.set();
    if (o.flag) {
      // The owner's threads wait on the flag in shared memory: wake them too.
      Atomics.store(o.flag, 0, 1);
      Atomics.notify(o.flag, 0);
    }
    hub.writeStatus(id, 0, 1);
  },
  "event.clear": (o, _a, _c, hub, id) => {
    o.state.clear();
    if (o.flag) Atomics.store(o.flag, 0, 0);
    hub.writeStatus(id, 0, 0);
  },
  "event.wait": (o, _a, c, hub, id) => {
    // The flag is also written by clients directly (isSet() is synchronous), so it is the truth:
    // in the owner's shared memory if it has one, else in the status file.
    const set = o.flag ? Atomics.load(o.flag, 0) === 1 : hub.readStatus(id, 0) === 1;
    if (set) return true;
    return o.state.wait(c);
  },
  "condition.register": (o, _a, c) => o.state.register(c.owner),
  "condition.wait": (o, a, c) => o.state.wait(c.owner, num(a[0], "ticket"), c),
  "condition.notify": (o, a) => {
    const n = a[0] === undefined ? 1 : num(a[0], "count");
    if (o.seq) wakeSequence(o.seq, n); // The owner's threads wait in shared memory.
    return o.state.notify(n);
  },
  "condition.notifyAll": (o) => {
    if (o.seq) wakeSequence(o.seq);
    return o.state.notifyAll();
  },
  "barrier.wait": async (o, _a, c, hub, id) => {
    const waiting = o.state.wait(c.owner, c);
    hub.publish(id, o);
    try {
      const r = await waiting;
      return [r.index, r.runAction];
    } finally {
      hub.publish(id, o);
    }
  },
  "barrier.actionDone": (o, a, _c, hub, id) => {
    o.state.actionDone(Boolean(a[0]));
    hub.publish(id, o);
  },
  "barrier.abort": (o, _a, _c, hub, id) => {
    o.state.abort();
    hub.publish(id, o);
  },
  "barrier.reset": (o, _a, _c, hub, id) => {
    o.state.reset();
    hub.publish(id, o);
  },
  "queue.put": async (o, a, c, hub, id) => {
    await o.state.put(c.owner, a[0], c);
    hub.publish(id, o);
  },
  "queue.putMany": (o, a, c, hub, id) => {
    if (!Array.isArray(a[0])) throw new TypeError("Invalid items");
    o.state.putMany(c.owner, a[0]);
    hub.publish(id, o);
  },
  "queue.get": async (o, _a, c, hub, id) => {
    if (o.state.qsize === 0) hub.revokePrefetch(id, o, c.owner);
    const item = await o.state.get(c.owner, c);
    hub.publish(id, o);
    return item;
  },
  "queue.getMany": async (o, a, c, hub, id) => {
    let max = Math.max(1, Math.min(1024, num(a[0], "count")));
    (o.consumers ??= new Set()).add(c.owner);
    const state = o.state as QueueState;
    // Someone is about to wait while others may sit on prefetched items: ask for them back.
    if (state.qsize === 0) hub.revokePrefetch(id, o, c.owner);
    // With several consumers, a batch takes at most a fair share of the backlog.
    else if (o.consumers.size > 1) {
      max = Math.min(max, Math.max(1, Math.floor(state.qsize / o.consumers.size)));
    }
    const items = await state.getMany(c.owner, max, c) as unknown[];
    if (items.length > 1) hub.notePrefetch(id, o, c.owner);
    hub.publish(id, o);
    return items;
  },
  "queue.consumed": (o, a, c, hub, id) => {
    if (!Array.isArray(a[0])) throw new TypeError("Invalid count");
    o.state.consumed(c.owner, a[0].length);
    hub.publish(id, o);
  },
  "queue.unget": (o, a, c, hub, id) => {
    if (!Array.isArray(a[0])) throw new TypeError("Invalid items");
    o.state.unget(c.owner, a[0]);
    hub.publish(id, o);
  },
  "queue.close": (o, _a, _c, hub, id) => {
    o.state.close();
    hub.publish(id, o);
  },
  "queue.taskDone": (o, a, c, hub, id) => {
    // `a[0]` lists one entry per taskDone() made in a burst (sent as one request).
    const count = Array.isArray(a[0]) ? a[0].length : 1;
    try {
      for (let i = 0; i < count; i++) o.state.taskDone(c.owner);
    } finally {
      hub.publish(id, o);
    }
  },
  "queue.join": (o, _a, c) => o.state.join(c),
  "queue.stats": (o) => ({ redelivered: o.state.redelivered }),
};

function createState(kind: string, params: unknown): HubObject {
  const p = (typeof params === "object" && params !== null ? params : {}) as Record<
    string,
    unknown
  >;
  switch (kind) {
    case "semaphore":
      if (p.permits instanceof SharedArrayBuffer) {
        return {
          kind,
          state: undefined,
          permits: new Int32Array(p.permits),
          held: new Map(),
          bound: p.bound === undefined ? undefined : num(p.bound, "bound"),
        };
      }
      return {
        kind,
        state: new SemaphoreState(
          num(p.value ?? 1, "value"),
          p.bound === undefined ? undefined : num(p.bound, "bound"),
        ),
      };
    case "event":
      return {
        kind,
        state: new EventState(),
        flag: p.flag instanceof SharedArrayBuffer ? new Int32Array(p.flag) : undefined,
      };
    case "condition":
      return {
        kind,
        state: new ConditionState(),
        seq: p.seq instanceof SharedArrayBuffer ? new Int32Array(p.seq) : undefined,
      };
    case "barrier":
      return {
        kind,
        state: new BarrierState(
          num(p.parties, "parties"),
          Boolean(p.hasAction),
          p.timeout === undefined ? undefined : num(p.timeout, "timeout"),
        ),
      };
    case "queue":
      return {
        kind,
        state: new QueueState({
          maxsize: num(p.maxsize ?? 0, "maxsize"),
          joinable: Boolean(p.joinable),
          weigh: weighItem,
          batchBytes: BATCH_BYTES,
        }),
      };
    default:
      throw new TypeError(`Unknown object kind "${kind}"`);
  }
}

/** A reply that hands out queue items: marked heavy if one of them is large (see markHeavy). */
function withItems(op: string, reply: { i: number; r: unknown }): Reply {
  if (op === "queue.getMany" && (reply.r as unknown[]).some(isLargeItem)) markHeavy(reply);
  else if (op === "queue.get" && isLargeItem(reply.r)) markHeavy(reply);
  return reply;
}

function toWire(error: unknown): WireError {
  if (error instanceof Error) return { name: error.name, message: error.message };
  if (error instanceof DOMException) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}

/** One client connection (a thread of the owner, or a child process). */
export class HubSession {
  readonly owner: Owner;
  /** The client's process id (socket clients say it in their hello). */
  readonly pid: number | undefined;
  #hub: HubServer;
  #send: (replies: Reply[]) => void;
  #outbox: Reply[] = [];
  #flushScheduled = false;
  #waits = new Map<number, AbortController>();
  #touched = new Set<number>();
  #closed = false;
  #clean = false;

  constructor(hub: HubServer, owner: Owner, send: (replies: Reply[]) => void, pid?: number) {
    this.#hub = hub;
    this.owner = owner;
    this.pid = pid;
    this.#send = send;
  }

  /** Handles a batch of requests from this session. */
  handle(requests: Request[]): void {
    for (const request of requests) this.#handleOne(request);
  }

  #handleOne(request: Request): void {
    const { i, o, d, a = [], t } = request;
    if (o === "bye") {
      // Answered after everything sent before it on this connection was handled.
      this.#clean = true;
      this.#reply(i, { i, r: true });
      return;
    }
    if (o === "sync") {
      // Answered after everything sent before it on this connection was handled (see flush()).
      this.#reply(i, { i, r: true });
      return;
    }
    if (o === "reaped") {
      // The owner saw child `a[0]` exit: answer once the hub has handled everything that child
      // sent and cleaned up after it, so a join() that returns sees its items redelivered.
      this.#hub.whenGone(num(a[0], "pid")).then(() => this.#reply(i, { i, r: true }));
      return;
    }
    if (o === "cancel") {
      this.#waits.get(num(a[0], "request id"))?.abort(new DOMException("Aborted", "AbortError"));
      return;
    }
    try {
      if (o === "attach") {
        this.#hub.attach(d, String(a[0]), a[1]);
        this.#touched.add(d);
        return;
      }
      const obj = this.#hub.object(d);
      const op = OPS[o];
      if (!op || !o.startsWith(obj.kind + ".")) throw new TypeError(`Unknown operation "${o}"`);
      this.#touched.add(d);
      let controller: AbortController | undefined;
      if (i !== 0) {
        controller = new AbortController();
        this.#waits.set(i, controller);
      }
      const ctx: OpContext = { owner: this.owner, timeout: t, signal: controller?.signal };
      const result = op(obj, a, ctx, this.#hub, d);
      if (result instanceof Promise) {
        result.then(
          (r) => this.#reply(i, withItems(o, { i, r })),
          (e) => this.#reply(i, { i, e: toWire(e) }),
        );
      } else {
        this.#reply(i, withItems(o, { i, r: result }));
      }
    } catch (error) {
      this.#reply(i, { i, e: toWire(error) });
    }
  }

  /** Sends a push message (no request). */
  push(message: Reply): void {
    this.#queueReply(message);
  }

  #reply(i: number, reply: Reply): void {
    if (i === 0) return;
    this.#waits.delete(i);
    this.#queueReply(reply);
  }

  #queueReply(reply: Reply): void {
    if (this.#closed) return;
    this.#outbox.push(reply);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      const batch = this.#outbox;
      this.#outbox = [];
      if (!this.#closed) this.#send(batch);
    });
  }

  /** The client went away: release what it held (if it died) and cancel its waits. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#hub.forget(this.owner);
    for (const id of this.#touched) this.#hub.left(id, this.owner);
    // One that vanished died: release its permits, redeliver its unacknowledged items, break the
    // barriers it waited at (first, so the others learn that a party died). A client that said
    // goodbye exited normally: what it holds stays held (Python's semantics).
    if (!this.#clean) {
      for (const id of this.#touched) this.#hub.dropOwner(id, this.owner);
    }
    for (const controller of this.#waits.values()) {
      controller.abort(new DOMException("Client gone", "AbortError"));
    }
    this.#waits.clear();
  }
}

/** The hub's object table and status publishing. */
export class HubServer {
  #objects = new Map<number, HubObject>();
  #status: SharedFile;
  #nextOwner = 0;
  #buf = new Uint8Array(4);
  #view = new DataView(this.#buf.buffer);
  #slot = new Uint8Array(STATUS_SLOT_BYTES);
  #slotView = new DataView(this.#slot.buffer);

  constructor(status: SharedFile) {
    this.#status = status;
  }

  #sessions = new Map<Owner, HubSession>();

  /** Opens a session for a new client (`pid`: its process, if it is another process). */
  session(send: (replies: Reply[]) => void, pid?: number): HubSession {
    const session = new HubSession(this, ++this.#nextOwner, send, pid);
    this.#sessions.set(session.owner, session);
    return session;
  }

  /** Forgets a closed session. */
  forget(owner: Owner): void {
    const pid = this.#sessions.get(owner)?.pid;
    this.#sessions.delete(owner);
    if (pid !== undefined && !this.#hasSessionOf(pid)) {
      const waiters = this.#goneWaiters.get(pid);
      this.#goneWaiters.delete(pid);
      for (const resolve of waiters ?? []) resolve();
    }
  }

  #goneWaiters = new Map<number, Array<() => void>>();

  #hasSessionOf(pid: number): boolean {
    for (const session of this.#sessions.values()) if (session.pid === pid) return true;
    return false;
  }

  /**
   * Resolves once no session of process `pid` is open. Called when that
   * process has exited, so its connections end as soon as the hub has read
   * what they carried; the time limit only guards against a lost close.
   */
  whenGone(pid: number, limitMs = GONE_LIMIT_MS): Promise<void> {
    if (!this.#hasSessionOf(pid)) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, limitMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      const waiters = this.#goneWaiters.get(pid) ?? [];
      waiters.push(done);
      this.#goneWaiters.set(pid, waiters);
    });
  }

  /** Records that `owner` may hold prefetched items of queue `id`. */
  notePrefetch(_id: number, obj: HubObject, owner: Owner): void {
    (obj.prefetchers ??= new Set()).add(owner);
  }

  /** Asks every other session that may hold prefetched items of queue `id` to give them back. */
  revokePrefetch(id: number, obj: HubObject, except: Owner): void {
    if (!obj.prefetchers) return;
    for (const owner of obj.prefetchers) {
      if (owner === except) continue;
      obj.prefetchers.delete(owner);
      this.#sessions.get(owner)?.push({ i: 0, p: "revoke", d: id });
    }
  }

  /** Creates object `id` of `kind` unless it exists. */
  attach(id: number, kind: string, params: unknown): void {
    if (!Number.isSafeInteger(id) || id <= 0 || id >= MAX_OBJECTS) {
      throw new RangeError(`Invalid object id ${id}`);
    }
    const existing = this.#objects.get(id);
    if (existing) {
      if (existing.kind !== kind) {
        throw new TypeError(`Object ${id} is a ${existing.kind}, not a ${kind}`);
      }
      return;
    }
    const obj = createState(kind, params);
    this.#objects.set(id, obj);
    this.publish(id, obj);
  }

  /** The object with this id. */
  object(id: number): HubObject {
    const obj = this.#objects.get(id);
    if (!obj) throw new Error(`Unknown object ${id}: it was never created on this hub`);
    return obj;
  }

  /** Forgets a departed session's role on object `id` (consumer, prefetcher). */
  left(id: number, owner: Owner): void {
    const obj = this.#objects.get(id);
    obj?.consumers?.delete(owner);
    obj?.prefetchers?.delete(owner);
  }

  /** Releases what a departed owner held on object `id`. */
  dropOwner(id: number, owner: Owner): void {
    const obj = this.#objects.get(id);
    if (obj?.permits) {
      const held = obj.held!.get(owner) ?? 0;
      obj.held!.delete(owner);
      if (held > 0) give(obj.permits, held, undefined, true);
      this.publish(id, obj);
      return;
    }
    if (!obj || typeof obj.state.dropOwner !== "function") return;
    try {
      obj.state.dropOwner(owner);
    } catch (error) {
      if (!(error instanceof BrokenBarrierError)) throw error;
    }
    this.publish(id, obj);
  }

  /** Publishes an object's sizes and flags for synchronous reads by clients (one write per change). */
  publish(id: number, obj: HubObject): void {
    const s = obj.state;
    const v = this.#slotView;
    switch (obj.kind) {
      case "queue":
        // Items prefetched by consumers and not used yet still count, as if in the queue.
        v.setInt32(0, s.qsize + s.held, true);
        v.setInt32(4, s.closed ? 1 : 0, true);
        v.setInt32(8, s.unfinished ?? 0, true);
        break;
      case "semaphore":
        v.setInt32(0, obj.permits ? Atomics.load(obj.permits, 0) : s.value, true);
        break;
      case "barrier":
        v.setInt32(0, s.nWaiting, true);
        v.setInt32(4, s.broken ? 1 : 0, true);
        break;
      default:
        return;
    }
    this.#status.write(
      id * STATUS_SLOT_BYTES,
      this.#slot.subarray(0, obj.kind === "semaphore" ? 4 : 12),
    );
  }

  /** Writes one int32 status slot. */
  writeStatus(id: number, slot: number, value: number): void {
    this.#view.setInt32(0, value, true);
    this.#status.write(id * STATUS_SLOT_BYTES + slot * 4, this.#buf);
  }

  /** Reads one int32 status slot. */
  readStatus(id: number, slot: number): number {
    this.#status.read(id * STATUS_SLOT_BYTES + slot * 4, this.#buf);
    return this.#view.getInt32(0, true);
  }
}
