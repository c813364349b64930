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
 * This file holds the connection's life (opening, failure, goodbye) and the
 * registry of clients; `HubClient` extends the outbox (`hub_outbox.ts`),
 * which extends the table of requests awaiting replies (`hub_requests.ts`).
 *
 * @module
 */

import {
  fromThread,
  type HubRef,
  type ObjectOp,
  type ObjectOps,
  type Reply,
  type Request,
  toThread,
} from "./protocol.ts";
import {
  checkSocketPermission,
  currentPid,
  type HelperThread,
  randomKey,
  startHelperThread,
} from "./runtime.ts";
import { nextShared, processShared, runtimeDir } from "./context.ts";
import { HubOutbox } from "./hub_outbox.ts";
import { connectSocket, type Transport } from "./hub_transport.ts";
import { openShared } from "./runtime.ts";
import type { StatusSlot } from "./status_slots.ts";
import { StatusOverlay } from "./status_overlay.ts";

/** How long an exiting process waits for the hub to acknowledge its goodbye. */
const GOODBYE_TIMEOUT_MS = 2_000;

/**
 * A connection to one hub, shared by every primitive of that hub in this
 * thread: how it is opened, how it fails, and how it says goodbye. Its
 * requests are in `hub_requests.ts`, its outbox in `hub_outbox.ts`.
 */
export class HubClient extends HubOutbox {
  readonly ref: HubRef;
  #connecting: Promise<Transport> | undefined;
  /** Fire-and-forget operations the hub never confirmed because the connection failed. */
  #undelivered = 0;
  #status: StatusOverlay;

  constructor(ref: HubRef, transport?: Transport | Promise<Transport>) {
    super();
    this.ref = ref;
    this.#status = new StatusOverlay(ref.status);
    if (transport instanceof Promise) this.#connecting = transport.then((t) => this.#ready(t));
    else if (transport) this.#ready(transport);
  }

  /** Whether this is the owner's own client on the main thread, whose channel carries shared memory. */
  get carriesSharedMemory(): boolean {
    return this.#isOwn;
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
    this.enqueue({ id: 0, op: "listen", obj: 0 });
  }

  /**
   * Reads slot `slot` (named in status_slots.ts) of object `id`: as the hub
   * published it in its status file, or as an operation of this thread that
   * the hub has not answered yet will make it (see {@linkcode postShowing}).
   */
  status(id: number, slot: StatusSlot): number {
    return this.#status.read(id, slot);
  }

  /** {@linkcode HubClient.status}, or `undefined` if this thread has not opened the status file. */
  statusIfOpen(id: number, slot: StatusSlot): number | undefined {
    return this.#status.peek(id, slot);
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
    if (this.closedError) throw this.closedError;
    // Rejected only if the hub is gone, which the next operation reports (as after post()).
    this.#status.show(id, values, this.call(op, id, args));
  }

  /**
   * Says goodbye: a clean departure, after which the hub keeps what this
   * connection held (Python's semantics for a process that exits normally).
   * Resolves when the goodbye has been written.
   */
  async goodbye(): Promise<void> {
    this.#throwIfUndelivered();
    if (this.closedError) return;
    if (!this.transport && !this.#connecting && !this.hasOutbox) return; // Never used.
    for (const hook of this.#goodbyeHooks) hook();
    // Answered once the hub has handled everything this connection sent before it, so nothing
    // this process did can be overtaken by what others do after it exits.
    const answered = this.connectionCall("bye").catch(() => {});
    this.flushNow(); // Now, not after the burst or the write in flight: the caller is about to exit.
    // Like Python's feeder thread, which a process joins at exit: everything put is written
    // before the process leaves, however long the hub takes to read it (writes proceed as it
    // reads, and fail at once if it is gone). Only the acknowledgement is bounded.
    const transport = this.transport ?? await this.#connecting?.catch(() => undefined);
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
      { cause: this.closedError },
    );
  }

  #ready(transport: Transport): Transport {
    this.transport = transport;
    if (!this.awaitingReplies) transport.unref();
    else transport.ref();
    this.flushOutbox();
    return transport;
  }

  protected override connect(): void {
    this.#connecting ??= this.#connectSocket();
  }

  async #connectSocket(): Promise<Transport> {
    try {
      return this.#ready(
        await connectSocket(this.ref, (replies) => this.receive(replies), (e) => this.fail(e)),
      );
    } catch (error) {
      this.fail(error as Error);
      throw error;
    }
  }

  #goodbyeHooks = new Set<() => void>();

  /** Runs `hook` just before a clean goodbye (to give back prefetched items). */
  onGoodbye(hook: () => void): void {
    this.#goodbyeHooks.add(hook);
  }

  /** The hub went away: every pending and future call fails with a clear error. */
  fail(cause: Error): void {
    if (this.closedError) return;
    this.closedError = new Error(
      `Cannot reach the hub of process ${this.ref.pid}: the process that created this object has exited or closed it`,
      { cause },
    );
    this.#undelivered += this.rejectAll(this.closedError);
    this.dropOutbox();
    this.transport?.unref();
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
