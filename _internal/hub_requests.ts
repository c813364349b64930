/**
 * The requests of a hub client that await their replies: each gets an id, the
 * reply with that id settles it, and the hub enforces timeouts. An abort is
 * sent to the hub as `cancel`, so an operation that completed before the
 * cancel arrived is not lost (a queue item already handed out is returned to
 * the caller instead of vanishing). If the connection fails, every request
 * still waiting is rejected.
 *
 * The base of `HubClient` (`hub_client.ts`, the connection); the outbox that
 * sends the requests is `hub_outbox.ts`.
 *
 * @module
 */

import { errorByName } from "./errors.ts";
import type { WaitOptions } from "./wait.ts";
import type { BatchOp, ObjectOp, ObjectOps, ObjectRequest, Reply, Request } from "./protocol.ts";
import type { Transport } from "./hub_transport.ts";

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
  /**
   * A batch of fire-and-forget operations (unbounded puts…): the items it
   * carries while it can still grow, then only their count (see
   * {@linkcode HubRequests.sealBatch}), so that the items are not kept alive
   * until the hub acknowledges them.
   */
  batch?: unknown[] | number;
}

/** The table of a hub connection's requests awaiting their replies. */
export abstract class HubRequests {
  /** The connection once it is open (see `hub_client.ts`): kept alive while replies are awaited. */
  protected transport: Transport | undefined;
  /** Why the connection failed (see `HubClient.fail()`): every later request fails with it. */
  protected closedError: Error | undefined;
  #pending = new Map<number, Pending>();
  #seq = 0;
  #pushHandlers = new Map<number, () => void>();

  /** Puts `request` in the outbox, behind the declaration of its object if it was not sent yet. */
  protected abstract send(request: Request): void;
  /** Puts `request` in the outbox as it is (a connection-level request). */
  protected abstract enqueue(request: Request): void;

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

  /**
   * Sends a batch operation on object `id` carrying `items` and waits for its
   * reply; if the connection fails first, the items count as never delivered
   * (see {@linkcode rejectAll}).
   */
  protected callBatch<K extends BatchOp>(op: K, id: number, items: unknown[]): Promise<unknown> {
    return this.#request(
      (requestId) => ({ id: requestId, op, obj: id, args: [items] }) as ObjectRequest,
      undefined,
      items,
    );
  }

  /**
   * Records that the batch request `id` (from {@linkcode callBatch}) has
   * left the outbox: no more items join it, so only their count is kept.
   */
  protected sealBatch(id: number): void {
    const pending = this.#pending.get(id);
    if (pending !== undefined && typeof pending.batch === "object") {
      pending.batch = pending.batch.length;
    }
  }

  /** Sends a request made by `make` (given its id) and waits for its reply. */
  #request(
    make: (id: number) => Request,
    signal?: AbortSignal,
    batch?: unknown[],
  ): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.closedError) return Promise.reject(this.closedError);
    const i = ++this.#seq;
    return new Promise((resolve, reject) => {
      const pending: Pending = { resolve, reject, signal, batch };
      if (signal) {
        pending.onAbort = () => this.enqueue({ id: 0, op: "cancel", obj: 0, args: [i] });
        signal.addEventListener("abort", pending.onAbort, { once: true });
      }
      if (this.#pending.size === 0) this.transport?.ref();
      this.#pending.set(i, pending);
      this.send(make(i));
    });
  }

  /** Sends a connection-level request (`sync`, `bye`, `reaped`) and waits for its reply. */
  protected connectionCall(op: "sync" | "bye" | "reaped", args?: [number]): Promise<unknown> {
    return this.#request(
      (id) => (op === "reaped" ? { id, op, obj: 0, args: args! } : { id, op, obj: 0 }),
    );
  }

  /** Asks the hub that child `pid` exited (see `childExited()` in `hub_client.ts`). */
  reaped(pid: number): Promise<unknown> {
    return this.connectionCall("reaped", [pid]);
  }

  /**
   * Resolves once the hub has handled everything sent on this connection
   * before this call (the puts of an unbounded queue included).
   *
   * @throws {Error} (as a rejection) If the hub cannot be reached.
   */
  async sync(): Promise<void> {
    await this.connectionCall("sync");
  }

  /** Sends an operation whose reply is not wanted (it is still ordered with the others). */
  post<K extends ObjectOp>(
    op: K,
    id: number,
    args: ObjectOps[K] = [] as unknown as ObjectOps[K],
  ): void {
    if (this.closedError) throw this.closedError;
    this.send({ id: 0, op, obj: id, args } as ObjectRequest);
  }

  /** Calls `handler` when the hub pushes a message about object `id` (e.g. `revoke`). */
  onPush(id: number, handler: () => void): void {
    this.#pushHandlers.set(id, handler);
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
    if (this.#pending.size === 0) this.transport?.unref();
  }

  /** Whether any request awaits its reply. */
  protected get awaitingReplies(): boolean {
    return this.#pending.size > 0;
  }

  /**
   * Rejects every request awaiting its reply with `error` (the connection
   * failed).
   *
   * @returns How many fire-and-forget operations (batch items) the hub never confirmed.
   */
  protected rejectAll(error: Error): number {
    let undelivered = 0;
    for (const pending of this.#pending.values()) {
      if (pending.onAbort) pending.signal!.removeEventListener("abort", pending.onAbort);
      const batch = pending.batch;
      if (batch !== undefined) undelivered += typeof batch === "number" ? batch : batch.length;
      pending.reject(error);
    }
    this.#pending.clear();
    return undelivered;
  }
}
