/**
 * The hub: the one place where the state of a process's shared primitives
 * lives. It dispatches operations from sessions (the owner's threads, and
 * child processes over the socket) to its objects (`hub_objects.ts`), and
 * cleans up after a session that goes away: permits it held are released,
 * its pending waits are cancelled, and JoinableQueue items it took but did
 * not acknowledge are redelivered.
 *
 * Transport-agnostic: `_hub_worker.ts` feeds it from a socket and a port.
 *
 * @module
 */

import { BrokenBarrierError } from "./errors.ts";
import { storedWeight } from "./stored_ref.ts";
import type { ObjectOp, Reply, Request, WireError } from "./protocol.ts";
import { type Item, MAX_OBJECTS, STATUS_SLOT_BYTES } from "./protocol.ts";
import type { SharedFile } from "./runtime.ts";
import type { Owner } from "./state/common.ts";
import { num } from "./hub_object_base.ts";
import {
  createObject,
  type HubObject,
  type ObjectHost,
  type OpContext,
  OPS,
} from "./hub_objects.ts";
import type { QueueObject } from "./hub_queue_object.ts";
import { SLOT_BYTES, slotOffset } from "./status_slots.ts";

/** How long `whenGone` waits at most for a dead process's connections to close. */
const GONE_LIMIT_MS = 2_000;
/** Most bytes of items one reply to a consumer fetching ahead carries (beyond its first item). */
const BATCH_BYTES = 1024 * 1024;

/**
 * Operations whose reply only settles bookkeeping that no caller awaits (an
 * unbounded queue's puts, a consumer's used prefetched items): it rides with
 * the session's next reply instead of waking the client on its own.
 */
const LAZY_ACKS = new Set(["queue.putMany", "queue.consumed"]);
/** Longest a lazy reply waits for company. */
const LAZY_ACK_MS = 2;

/**
 * Longest wait for a client asked to give back the items it fetched ahead
 * (see {@linkcode HubServer.revokePrefetch}) before waiting getters are
 * served without them.
 */
const RETURN_WAIT_MS = 100;

/**
 * Longest that items given back wait for a getter that may have them (one
 * that has not had newer items) while getters that may not wait.
 */
const RELEASE_WAIT_MS = 1000;

function toWire(error: unknown): WireError {
  if (error instanceof Error) return { name: error.name, message: error.message };
  if (error instanceof DOMException) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}

/** The writer of a session's connection, when its writes take time (a socket's `BatchWriter`). */
export interface SessionWriter {
  /** Whether a write is in flight. */
  readonly busy: boolean;
  /** Resolves when everything written so far is out. */
  flushed(): Promise<void>;
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

  /** The connection's writer, if writes take time (a socket): see {@linkcode #flush}. */
  #writer: SessionWriter | undefined;
  /** A flush waits for the write in flight. */
  #awaitingWrite = false;

  constructor(
    hub: HubServer,
    owner: Owner,
    send: (replies: Reply[]) => void,
    pid?: number,
    writer?: SessionWriter,
  ) {
    this.#hub = hub;
    this.owner = owner;
    this.pid = pid;
    this.#send = send;
    this.#writer = writer;
  }

  /** Handles a batch of requests from this session. */
  handle(requests: Request[]): void {
    for (const request of requests) this.#handleOne(request);
  }

  #handleOne(request: Request): void {
    const id = request.id;
    // Arguments come from the wire: every handler checks the ones it uses.
    const args: unknown[] = "args" in request && Array.isArray(request.args) ? request.args : [];
    switch (request.op) {
      case "bye":
        // Answered after everything sent before it on this connection was handled.
        this.#clean = true;
        this.#reply(id, { id, result: true });
        return;
      case "sync":
        // Answered after everything sent before it on this connection was handled (see flush()).
        this.#reply(id, { id, result: true });
        return;
      case "reaped":
        // The owner saw child `args[0]` exit: answer once the hub has handled everything that
        // child sent and cleaned up after it, so a join() that returns sees its items redelivered.
        this.#hub.whenGone(num(args[0], "pid")).then(() => this.#reply(id, { id, result: true }));
        return;
      case "cancel":
        this.#waits.get(num(args[0], "request id"))?.abort(
          new DOMException("Aborted", "AbortError"),
        );
        return;
      case "listen":
        return; // Only the owner's thread channel opens the socket (see _hub_worker.ts).
    }
    const d = request.obj;
    try {
      if (request.op === "attach") {
        this.#hub.attach(d, String(args[0]), args[1]);
        this.#touched.add(d);
        return;
      }
      const o: string = request.op;
      const obj = this.#hub.object(d);
      const op = Object.hasOwn(OPS, o) ? OPS[o as ObjectOp] : undefined;
      if (!op || !o.startsWith(obj.kind + ".")) throw new TypeError(`Unknown operation "${o}"`);
      this.#touched.add(d);
      let controller: AbortController | undefined;
      if (id !== 0) {
        controller = new AbortController();
        this.#waits.set(id, controller);
      }
      const ctx: OpContext = {
        owner: this.owner,
        timeout: request.timeout,
        signal: controller?.signal,
      };
      const result = op(obj, args, ctx, this.#hub, d);
      if (result instanceof Promise) {
        result.then(
          (r) => this.#reply(id, { id, result: r }),
          (e) => this.#reply(id, { id, error: toWire(e) }),
        );
      } else {
        this.#reply(id, { id, result }, LAZY_ACKS.has(o));
      }
    } catch (error) {
      this.#reply(id, { id, error: toWire(error) });
    }
  }

  /** Sends a push message (no request). */
  push(message: Reply): void {
    this.#queueReply(message);
  }

  #reply(i: number, reply: Reply, lazy = false): void {
    if (i === 0) return;
    this.#waits.delete(i);
    this.#queueReply(reply, lazy);
  }

  /** Set while only lazy replies wait in the outbox: sends them if nothing else comes first. */
  #lazyTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Queues a reply, sent with the others of this turn. A lazy one (an
   * acknowledgement nobody waits on: see {@linkcode LAZY_ACKS}) waits for
   * the next reply to ride with, or {@linkcode LAZY_ACK_MS} at most: replies
   * still leave in order, so a `sync` answered after it still comes after it.
   */
  #queueReply(reply: Reply, lazy = false): void {
    if (this.#closed) return;
    this.#outbox.push(reply);
    if (this.#flushScheduled) return;
    if (lazy) {
      this.#lazyTimer ??= setTimeout(() => {
        this.#lazyTimer = undefined;
        if (!this.#flushScheduled) this.#flush();
      }, LAZY_ACK_MS);
      return;
    }
    this.#flushScheduled = true;
    queueMicrotask(() => this.#flush());
  }

  /**
   * Sends the outbox as one batch: the one place where this session's
   * replies are batched. While the connection's write is in flight, it waits
   * for it and sends everything gathered meanwhile together.
   */
  #flush(): void {
    this.#flushScheduled = false;
    if (this.#lazyTimer !== undefined) {
      clearTimeout(this.#lazyTimer);
      this.#lazyTimer = undefined;
    }
    if (this.#writer?.busy) {
      if (!this.#awaitingWrite) {
        this.#awaitingWrite = true;
        this.#writer.flushed().then(() => {
          this.#awaitingWrite = false;
          if (!this.#flushScheduled) this.#flush();
        });
      }
      return;
    }
    const batch = this.#outbox;
    this.#outbox = [];
    if (!this.#closed && batch.length > 0) this.#send(batch);
  }

  /** The client went away: release what it held (if it died) and cancel its waits. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#lazyTimer);
    this.#hub.forget(this.owner);
    for (const id of this.#touched) this.#hub.left(id, this.owner, this.#clean);
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
export class HubServer implements ObjectHost {
  #objects = new Map<number, HubObject>();
  #status: SharedFile;
  #nextOwner = 0;
  #slot = new Uint8Array(STATUS_SLOT_BYTES);
  #slotView = new DataView(this.#slot.buffer);

  constructor(status: SharedFile) {
    this.#status = status;
  }

  #sessions = new Map<Owner, HubSession>();

  /** Opens a session for a new client (`pid`: its process, if it is another process). */
  session(send: (replies: Reply[]) => void, pid?: number, writer?: SessionWriter): HubSession {
    const session = new HubSession(this, ++this.#nextOwner, send, pid, writer);
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
  notePrefetch(_id: number, obj: QueueObject, owner: Owner): void {
    obj.prefetchers.add(owner);
  }

  /** Asks every other session that may hold prefetched items of queue `id` to give them back. */
  revokePrefetch(id: number, obj: QueueObject, except: Owner): void {
    // A getter is about to wait while items given back, not for it, are there.
    if (obj.state.qsize > 0) this.releaseLater(id, obj);
    const asked: Owner[] = [];
    for (const owner of obj.prefetchers) {
      if (owner === except) continue;
      obj.prefetchers.delete(owner);
      const session = this.#sessions.get(owner);
      if (!session) continue;
      session.push({ id: 0, push: "revoke", obj: id });
      // Getters wait until it has answered (queue.unget, even of nothing), so that none gets a
      // newer item before the older ones it gives back.
      obj.state.awaitReturn(owner);
      asked.push(owner);
    }
    if (asked.length === 0) return;
    // A client busy with synchronous work answers late: past this, getters are served anyway.
    setTimeout(() => {
      for (const owner of asked) obj.state.returned(owner);
      this.publish(id, obj);
    }, RETURN_WAIT_MS);
  }

  /** See {@linkcode ObjectHost.releaseLater}. */
  releaseLater(id: number, obj: QueueObject): void {
    if (obj.releasing) return;
    obj.releasing = true;
    setTimeout(() => {
      obj.releasing = false;
      if (!obj.state.stranded) return;
      obj.state.releaseReturned();
      this.publish(id, obj);
    }, RELEASE_WAIT_MS);
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
    const obj = createObject(kind, params, {
      // An item kept in shared memory weighs its bytes there: a consumer fetches as many ahead.
      weigh: (item) => storedWeight(item as Item),
      batchBytes: BATCH_BYTES,
    });
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
  left(id: number, owner: Owner, clean: boolean): void {
    const obj = this.#objects.get(id);
    if (!obj) return;
    obj.left(owner, clean);
    if (clean) this.publish(id, obj);
  }

  /** Releases what a departed owner held on object `id`. */
  dropOwner(id: number, owner: Owner): void {
    const obj = this.#objects.get(id);
    if (!obj) return;
    try {
      obj.dropOwner(owner);
    } catch (error) {
      if (!(error instanceof BrokenBarrierError)) throw error;
    }
    this.publish(id, obj);
  }

  /** Publishes an object's sizes and flags for synchronous reads by clients (one write per change). */
  publish(id: number, obj: HubObject): void {
    const slots = obj.status(this.#slotView);
    if (slots > 0) {
      this.#status.write(slotOffset(id, 0), this.#slot.subarray(0, slots * SLOT_BYTES));
    }
  }
}
