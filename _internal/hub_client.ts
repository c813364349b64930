/**
 * The client side of a hub: one connection per hub per thread, requests
 * matched to replies by id, batched per tick, with timeouts enforced by the
 * hub and aborts sent as `cancel` (so an operation that completed before the
 * cancel arrived is not lost: a queue item already handed out is returned to
 * the caller instead of vanishing).
 *
 * The owner's own threads talk to the hub through a thread port; other
 * processes through the Unix socket, authenticated with the key they got from
 * their parent.
 *
 * @module
 */

import { errorByName } from "./errors.ts";
import { Packed } from "./wire.ts";
import type { WaitOptions } from "./wait.ts";
import {
  type BatchOp,
  fromThread,
  type HubRef,
  itemBytes,
  type Kind,
  type ObjectOp,
  type ObjectOps,
  type ObjectRequest,
  type Reply,
  type Request,
  toThread,
} from "./protocol.ts";
import {
  checkSocketPermission,
  currentPid,
  type HelperThread,
  randomKey,
  type SharedFile,
  startHelperThread,
} from "./runtime.ts";
import { nextShared, processShared, runtimeDir } from "./context.ts";
import { connectSocket, type Transport } from "./hub_transport.ts";
import { openShared } from "./runtime.ts";
import { openStatusFile } from "./status_file.ts";
import { SLOT_BYTES, slotOffset, type StatusSlot } from "./status_slots.ts";
import { StatusOverlay } from "./status_overlay.ts";

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
  /** A batch of fire-and-forget operations (unbounded puts…): the items it carries. */
  batch?: unknown[];
}

/** How long an exiting process waits for the hub to acknowledge its goodbye. */
const GOODBYE_TIMEOUT_MS = 2_000;
/** Microtasks without a new operation before the outbox is sent. */
const QUIET_HOPS = 4;
/** Most microtasks an outbox waits, and most operations in one frame. */
const MAX_HOPS = 2048;
const MAX_BATCH = 4096;
/**
 * Flush once the outbox carries about this many bytes of items: large items
 * then stream in frames that the hub and the consumer handle while the
 * producer makes the next ones, instead of megabyte frames that leave the
 * other stages idle.
 */
const MAX_BATCH_BYTES = 64 * 1024;

/** A batch request still in the outbox, that more entries can join. */
interface OpenBatch {
  request: ObjectRequest;
  reply: Promise<unknown>;
  bytes: number;
}

/**
 * Batch operations whose entries may join an earlier request of theirs in the outbox, past other
 * requests: each entry refers to items this client already has (used prefetched items,
 * acknowledged tasks), so sending it earlier changes nothing, and a consumer's loop of `get()`
 * and `taskDone()` then sends one request of each per burst instead of one per call.
 */
const MOVABLE = new Set<string>(["queue.consumed", "queue.taskDone"]);

/** Bytes an entry of a batch weighs: a queue item's encoding, or a few bytes for a count. */
function weight(entry: unknown): number {
  return entry instanceof Uint8Array || entry instanceof Packed ? itemBytes(entry) : 8;
}

/** A connection to one hub, shared by every primitive of that hub in this thread. */
export class HubClient {
  readonly ref: HubRef;
  #transport: Transport | undefined;
  #connecting: Promise<Transport> | undefined;
  #outbox: Request[] = [];
  /** Counts operations added to the outbox (merged ones too), to see a burst still growing. */
  #outboxGrowth = 0;
  /** Approximate bytes of the items in the outbox (see MAX_BATCH_BYTES). */
  #outboxBytes = 0;
  #flushScheduled = false;
  /** A flush waits for the write in flight (see {@linkcode #flush}). */
  #awaitingWrite = false;
  #pending = new Map<number, Pending>();
  #seq = 0;
  #attached = new Set<number>();
  #attachParams = new Map<number, [Kind, unknown]>();
  #closedError: Error | undefined;
  /** Fire-and-forget operations the hub never confirmed because the connection failed. */
  #undelivered = 0;
  #status: SharedFile | undefined;
  #statusBuf = new Uint8Array(SLOT_BYTES);
  #statusView = new DataView(this.#statusBuf.buffer);
  #overlay = new StatusOverlay();

  constructor(ref: HubRef, transport?: Transport | Promise<Transport>) {
    this.ref = ref;
    if (transport instanceof Promise) this.#connecting = transport.then((t) => this.#ready(t));
    else if (transport) this.#ready(transport);
  }

  /**
   * Declares an object so the hub creates it if it does not exist yet. Sent
   * lazily before the first operation on it from this connection.
   */
  declare(id: number, kind: Kind, params: unknown): void {
    this.#attachParams.set(id, [kind, params]);
  }

  /** Whether this is the owner's own client on the main thread, whose channel carries shared memory. */
  get carriesSharedMemory(): boolean {
    return this.#isOwn;
  }

  /** Sends the declaration of object `id` now (with `extra` params, e.g. shared memory, for the owner's hub). */
  attachNow(id: number, extra: Record<string, unknown> = {}): void {
    if (this.#attached.has(id)) return;
    this.#attached.add(id);
    const declared = this.#attachParams.get(id);
    if (declared) {
      this.#enqueue({
        id: 0,
        op: "attach",
        obj: id,
        args: [declared[0], { ...(declared[1] as object), ...extra }],
      });
    }
  }

  /** Sends an operation on object `id` and waits for its reply. */
  call<K extends ObjectOp>(
    op: K,
    id: number,
    args: ObjectOps[K] = [] as unknown as ObjectOps[K],
    options: WaitOptions = {},
  ): Promise<unknown> {
    const { timeout, signal } = options;
    return this.#request((requestId) => {
      const request = { id: requestId, op, obj: id, args } as ObjectRequest;
      if (timeout !== undefined) request.timeout = timeout;
      return request;
    }, signal);
  }

  /** Sends a request made by `make` (given its id) and waits for its reply. */
  #request(make: (id: number) => Request, signal?: AbortSignal): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#closedError) return Promise.reject(this.#closedError);
    const i = ++this.#seq;
    return new Promise((resolve, reject) => {
      const pending: Pending = { resolve, reject, signal };
      if (signal) {
        pending.onAbort = () => this.#enqueue({ id: 0, op: "cancel", obj: 0, args: [i] });
        signal.addEventListener("abort", pending.onAbort, { once: true });
      }
      if (this.#pending.size === 0) this.#transport?.ref();
      this.#pending.set(i, pending);
      this.#send(make(i));
    });
  }

  /** Sends a connection-level request (`sync`, `bye`, `reaped`) and waits for its reply. */
  #connectionCall(op: "sync" | "bye" | "reaped", args?: [number]): Promise<unknown> {
    return this.#request(
      (id) => (op === "reaped" ? { id, op, obj: 0, args: args! } : { id, op, obj: 0 }),
    );
  }

  /** Asks the hub that child `pid` exited (see {@linkcode childExited}). */
  reaped(pid: number): Promise<unknown> {
    return this.#connectionCall("reaped", [pid]);
  }

  #lastBatch: OpenBatch | undefined;
  /**
   * The open request of each movable batch operation (see {@linkcode MOVABLE}) in the outbox, by
   * operation and object: later entries join it even if other requests came after it.
   */
  #openMovable = new Map<string, OpenBatch>();

  /**
   * Appends `item` to a batch operation (`queue.putMany`) on object `id`:
   * consecutive calls before the next flush travel as one request with one
   * reply, in order with everything else sent on this connection.
   *
   * @returns The batch's reply.
   */
  appendToBatch<K extends BatchOp>(
    op: K,
    id: number,
    item: ObjectOps[K][0][number],
  ): Promise<unknown> {
    const movable = MOVABLE.has(op);
    const key = movable ? `${op}:${id}` : "";
    const last = movable ? this.#openMovable.get(key) : this.#lastBatch;
    if (
      last && (movable || this.#outbox.at(-1) === last.request) && last.request.op === op &&
      last.request.obj === id && last.bytes < MAX_BATCH_BYTES
    ) {
      (last.request.args[0] as unknown[]).push(item);
      const bytes = weight(item);
      this.#outboxGrowth++;
      this.#outboxBytes += bytes;
      last.bytes += bytes;
      return last.reply;
    }
    // A new request (also once the last one is big: while connecting nothing is flushed, and one
    // request must stay well below the frame limit).
    const bytes = weight(item);
    this.#outboxBytes += bytes;
    const items = [item];
    const seq = this.#seq;
    const reply = this.call(op, id, [items] as ObjectOps[K]);
    if (this.#seq !== seq) this.#pending.get(this.#seq)!.batch = items;
    const request = this.#outbox.at(-1);
    const open = request?.op === op
      ? { request: request as ObjectRequest, reply, bytes }
      : undefined;
    if (movable) {
      if (open) this.#openMovable.set(key, open);
    } else this.#lastBatch = open;
    return reply;
  }

  /**
   * Resolves once the hub has handled everything sent on this connection
   * before this call (the puts of an unbounded queue included).
   *
   * @throws {Error} (as a rejection) If the hub cannot be reached.
   */
  async sync(): Promise<void> {
    await this.#connectionCall("sync");
  }

  /** Sends an operation whose reply is not wanted (it is still ordered with the others). */
  post<K extends ObjectOp>(
    op: K,
    id: number,
    args: ObjectOps[K] = [] as unknown as ObjectOps[K],
  ): void {
    if (this.#closedError) throw this.#closedError;
    this.#send({ id: 0, op, obj: id, args } as ObjectRequest);
  }

  #listenAsked = false;
  #isOwn = false;

  /** Marks this client as the owner's (it can ask its hub to open its socket). */
  markOwn(): void {
    this.#isOwn = true;
  }

  /** Whether other processes may be connected to this hub (its socket was asked for, or it is not ours). */
  get mayHaveRemoteClients(): boolean {
    return !this.#isOwn || this.#listenAsked;
  }

  /** Makes the owner's hub open its socket (once): an object is being shared outside this thread. */
  ensureListening(): void {
    if (!this.#isOwn || this.#listenAsked) return;
    checkSocketPermission("share this object with another thread or process");
    this.#listenAsked = true;
    this.#enqueue({ id: 0, op: "listen", obj: 0 });
  }

  /**
   * Reads slot `slot` (named in status_slots.ts) of object `id`: as the hub
   * published it in its status file, or as an operation of this thread that
   * the hub has not answered yet will make it (see {@linkcode postShowing}).
   */
  status(id: number, slot: StatusSlot): number {
    const shown = this.#overlay.get(id, slot);
    if (shown !== undefined) return shown;
    this.#status ??= openStatusFile(this.ref.status);
    this.#status.read(slotOffset(id, slot), this.#statusBuf);
    return this.#statusView.getInt32(0, true);
  }

  /**
   * Sends an operation that changes what object `id` publishes, like
   * {@linkcode post}, and until the hub has answered it shows `values` (by
   * slot) to {@linkcode status} reads in this thread: the caller reads its own
   * write at once, as in Python, and only the hub writes the status file.
   */
  postShowing<K extends ObjectOp>(
    op: K,
    id: number,
    args: ObjectOps[K],
    values: ReadonlyArray<readonly [StatusSlot, number]>,
  ): void {
    if (this.#closedError) throw this.#closedError;
    // Rejected only if the hub is gone, which the next operation reports (as after post()).
    this.#overlay.show(id, values, this.call(op, id, args));
  }

  #send(request: Request): void {
    const id = request.obj;
    if (id !== 0 && !this.#attached.has(id)) {
      this.#attached.add(id);
      const params = this.#attachParams.get(id);
      if (params) this.#enqueue({ id: 0, op: "attach", obj: id, args: params });
    }
    this.#enqueue(request);
  }

  #enqueue(request: Request): void {
    this.#outbox.push(request);
    this.#outboxGrowth++;
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    this.#flushAfter(this.#outboxGrowth, 0);
  }

  /**
   * Sends the outbox after the current burst of work: while operations keep
   * arriving from one microtask to the next (a loop of `await q.put(…)`
   * takes a few microtasks per iteration), wait longer, up to a cap, so one
   * frame carries many operations. A lone operation goes out after a few
   * microtasks, which costs well under a microsecond.
   */
  #flushAfter(seen: number, hops: number, quiet = 0): void {
    queueMicrotask(() => {
      const growth = this.#outboxGrowth;
      const stillQuiet = growth === seen ? quiet + 1 : 0;
      if (
        stillQuiet < QUIET_HOPS && hops < MAX_HOPS && this.#outbox.length < MAX_BATCH &&
        this.#outboxBytes < MAX_BATCH_BYTES
      ) {
        this.#flushAfter(growth, hops + 1, stillQuiet);
      } else {
        this.#flush();
      }
    });
  }

  /**
   * Sends the outbox as one batch: the one place where this connection's
   * requests are batched. While a write is in flight it waits for it and
   * sends everything gathered meanwhile together (unless `force`).
   */
  #flush(force = false): void {
    this.#flushScheduled = false;
    if (!this.#transport) {
      this.#connecting ??= this.#connect();
      return; // #ready flushes.
    }
    if (!force && this.#transport.busy()) {
      if (!this.#awaitingWrite) {
        this.#awaitingWrite = true;
        this.#transport.flushed().then(() => {
          this.#awaitingWrite = false;
          if (this.#outbox.length > 0 && !this.#flushScheduled) this.#flush();
        });
      }
      return;
    }
    const batch = this.#outbox;
    this.#outbox = [];
    this.#openMovable.clear();
    this.#outboxBytes = 0;
    if (batch.length > 0) this.#transport.send(batch);
  }

  /**
   * Sends the outbox now, without waiting for the burst of work to end or
   * for the write in flight: for a request whose reply should be on its way
   * while this thread goes on working (a queue's fetch ahead).
   */
  flushNow(): void {
    if (this.#outbox.length > 0) this.#flush(true);
  }

  /**
   * Says goodbye: a clean departure, after which the hub keeps what this
   * connection held (Python's semantics for a process that exits normally).
   * Resolves when the goodbye has been written.
   */
  async goodbye(): Promise<void> {
    this.#throwIfUndelivered();
    if (this.#closedError) return;
    if (!this.#transport && !this.#connecting && this.#outbox.length === 0) return; // Never used.
    for (const hook of this.#goodbyeHooks) hook();
    // Answered once the hub has handled everything this connection sent before it, so nothing
    // this process did can be overtaken by what others do after it exits.
    const answered = this.#connectionCall("bye").catch(() => {});
    this.#flush(true); // Now, not after the burst or the write in flight: the caller is about to exit.
    // Like Python's feeder thread, which a process joins at exit: everything put is written
    // before the process leaves, however long the hub takes to read it (writes proceed as it
    // reads, and fail at once if it is gone). Only the acknowledgement is bounded.
    const transport = this.#transport ?? await this.#connecting?.catch(() => undefined);
    await transport?.flushed();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      answered,
      new Promise((resolve) => (timer = setTimeout(resolve, GOODBYE_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    this.#throwIfUndelivered();
  }

  /** A clean exit must not hide operations that never reached the hub (unbounded puts…). */
  #throwIfUndelivered(): void {
    if (this.#undelivered === 0) return;
    const count = this.#undelivered;
    this.#undelivered = 0;
    throw new Error(
      `${count} operation${count === 1 ? "" : "s"} (such as put() on an unbounded queue) never ` +
        `reached the hub of process ${this.ref.pid}: the connection to it failed`,
      { cause: this.#closedError },
    );
  }

  #ready(transport: Transport): Transport {
    this.#transport = transport;
    if (this.#pending.size === 0) transport.unref();
    else transport.ref();
    if (this.#outbox.length > 0) this.#flush();
    return transport;
  }

  async #connect(): Promise<Transport> {
    try {
      return this.#ready(
        await connectSocket(this.ref, (replies) => this.receive(replies), (e) => this.fail(e)),
      );
    } catch (error) {
      this.fail(error as Error);
      throw error;
    }
  }

  #pushHandlers = new Map<number, () => void>();
  #goodbyeHooks = new Set<() => void>();

  /** Calls `handler` when the hub pushes a message about object `id` (e.g. `revoke`). */
  onPush(id: number, handler: () => void): void {
    this.#pushHandlers.set(id, handler);
  }

  /** Runs `hook` just before a clean goodbye (to give back prefetched items). */
  onGoodbye(hook: () => void): void {
    this.#goodbyeHooks.add(hook);
  }

  /** Delivers replies from the transport. */
  receive(replies: Reply[]): void {
    for (const reply of replies) {
      if (reply.id === 0) {
        if ("push" in reply && reply.push === "revoke") this.#pushHandlers.get(reply.obj)?.();
        continue;
      }
      const pending = this.#pending.get(reply.id);
      if (!pending) continue;
      this.#pending.delete(reply.id);
      if (pending.onAbort) pending.signal!.removeEventListener("abort", pending.onAbort);
      if ("error" in reply) {
        if (reply.error.name === "AbortError" && pending.signal?.aborted) {
          pending.reject(pending.signal.reason);
        } else pending.reject(errorByName(reply.error.name, reply.error.message));
      } else {
        pending.resolve((reply as { result?: unknown }).result);
      }
    }
    if (this.#pending.size === 0) this.#transport?.unref();
  }

  /** The hub went away: every pending and future call fails with a clear error. */
  fail(cause: Error): void {
    if (this.#closedError) return;
    this.#closedError = new Error(
      `Cannot reach the hub of process ${this.ref.pid}: the process that created this object has exited or closed it`,
      { cause },
    );
    for (const pending of this.#pending.values()) {
      if (pending.onAbort) pending.signal!.removeEventListener("abort", pending.onAbort);
      if (pending.batch) this.#undelivered += pending.batch.length;
      pending.reject(this.#closedError);
    }
    this.#pending.clear();
    this.#outbox = [];
    this.#openMovable.clear();
    this.#lastBatch = undefined;
    this.#transport?.unref();
  }
}

// ---------------------------------------------------------------------------
// The registry: one client per hub in this thread, and this process's own hub.

const clients = new Map<string, HubClient>();
let own: HubClient | undefined;

/** The client for a hub owned by another process (or thread-less access to our own). */
export function hubClient(ref: HubRef): HubClient {
  if (own && own.ref.path === ref.path) return own;
  let client = clients.get(ref.path);
  if (!client) {
    client = new HubClient(ref);
    clients.set(ref.path, client);
  }
  return client;
}

/**
 * This process's own hub, started on first use in a helper thread so it
 * keeps serving while the main thread is busy, and so it does not keep a
 * finished program alive.
 */
export function ownHub(): HubClient {
  if (own) return own;
  const shared = processShared();
  if (shared.hub) {
    // A thread: the process's hub runs in the main thread's helper; reach it like a child would.
    own = new HubClient(shared.hub);
    return own;
  }
  const dir = runtimeDir();
  const ref: HubRef = {
    path: `${dir}/hub.sock`,
    key: randomKey(),
    status: `${dir}/status`,
    pid: currentPid(),
  };
  // The status file exists before any client reads it.
  openShared(ref.status).close();
  const transport = startHelperThread(new URL("./_hub_worker.ts", import.meta.url).href, ref).then(
    (thread: HelperThread) => {
      thread.onMessage((replies) => client.receive(fromThread(replies as Reply[])));
      thread.onError((error) => client.fail(error as Error));
      return {
        send: (messages: Request[]) => thread.postMessage(toThread(messages)),
        busy: () => false,
        flushed: () => Promise.resolve(),
        ref: () => thread.ref(),
        unref: () => thread.unref(),
      };
    },
  );
  const client: HubClient = new HubClient(ref, transport);
  client.markOwn();
  own = client;
  shared.hub = ref;
  return client;
}

/**
 * Tells this process's hub that child `pid` has exited, and resolves once
 * the hub has handled everything the child sent and released what it held
 * (so a `join()` that returns sees a dead consumer's items redelivered).
 * Resolves at once if the hub never served another process.
 */
export async function childExited(pid: number): Promise<void> {
  if (!own || !own.mayHaveRemoteClients) return;
  try {
    await own.reaped(pid);
  } catch {
    // The hub is gone (the program is ending): nothing is left to clean up.
  }
}

/** Says goodbye to every hub this thread is connected to (a clean exit). */
export async function goodbyeAll(): Promise<void> {
  await Promise.allSettled([...flushers].map((flush) => flush()));
  await Promise.all([...clients.values()].map((client) => client.goodbye()));
}

const flushers = new Set<() => Promise<unknown>>();

/**
 * Registers work that must finish before a child process or thread that
 * returned normally says goodbye and closes (e.g. the writes of remote
 * objects that their callers did not await, such as `Event.set()`).
 */
export function beforeGoodbye(flush: () => Promise<unknown>): void {
  flushers.add(flush);
}

/** A fresh object id on this process's hub. */
export function newObjectId(): number {
  return nextShared(0);
}
