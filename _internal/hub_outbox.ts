/**
 * The outbox of a hub client: the one place where a connection's requests
 * are batched. Requests gather while a burst of work goes on (and while a
 * write is in flight) and leave as one frame; consecutive entries of a batch
 * operation (`queue.putMany`, …) travel as one request; each object is
 * declared to the hub before the first request about it.
 *
 * Between the request table it extends (`hub_requests.ts`) and the
 * connection that extends it (`hub_client.ts`).
 *
 * @module
 */

import {
  type BatchOp,
  type Kind,
  type ObjectOps,
  type ObjectRequest,
  type Request,
} from "./protocol.ts";
import { HubRequests } from "./hub_requests.ts";

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
  return entry instanceof Uint8Array ? entry.byteLength : 8;
}

/** The requests of a hub connection not sent yet, and when they are sent. */
export abstract class HubOutbox extends HubRequests {
  #outbox: Request[] = [];
  /** Counts operations added to the outbox (merged ones too), to see a burst still growing. */
  #outboxGrowth = 0;
  /** Approximate bytes of the items in the outbox (see MAX_BATCH_BYTES). */
  #outboxBytes = 0;
  #flushScheduled = false;
  /** A flush waits for the write in flight (see {@linkcode #flush}). */
  #awaitingWrite = false;
  #attached = new Set<number>();
  #attachParams = new Map<number, [Kind, unknown]>();

  /** Opens the connection, if it is not being opened yet; it flushes the outbox once ready. */
  protected abstract connect(): void;

  /**
   * Declares an object so the hub creates it if it does not exist yet. Sent
   * lazily before the first operation on it from this connection.
   */
  declare(id: number, kind: Kind, params: unknown): void {
    this.#attachParams.set(id, [kind, params]);
  }

  /** Sends the declaration of object `id` now (with `extra` params, e.g. shared memory, for the owner's hub). */
  attachNow(id: number, extra: Record<string, unknown> = {}): void {
    if (this.#attached.has(id)) return;
    this.#attached.add(id);
    const declared = this.#attachParams.get(id);
    if (declared) {
      this.enqueue({
        id: 0,
        op: "attach",
        obj: id,
        args: [declared[0], { ...(declared[1] as object), ...extra }],
      });
    }
  }

  #lastBatch: OpenBatch | undefined;
  /** The ids of the batch requests in the outbox, sealed when it is sent (see `sealBatch`). */
  #batches: number[] = [];
  /**
   * The open request of each movable batch operation (see {@linkcode MOVABLE}) in the outbox, by
   * operation and object: later entries join it even if other requests came after it.
   */
  #openMovable = new Map<string, Map<number, OpenBatch>>(
    [...MOVABLE].map((op) => [op, new Map<number, OpenBatch>()]),
  );

  /** Forgets the open movable requests: the outbox was sent or dropped. */
  #closeMovable(): void {
    for (const open of this.#openMovable.values()) open.clear();
  }

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
    // The open requests of a movable operation, by object (no key to build: a consumer calls this
    // for every item it takes).
    const movable = this.#openMovable.get(op);
    const last = movable ? movable.get(id) : this.#lastBatch;
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
    const reply = this.callBatch(op, id, items);
    const request = this.#outbox.at(-1);
    if (request !== undefined && request.id !== 0) this.#batches.push(request.id);
    const open = request?.op === op
      ? { request: request as ObjectRequest, reply, bytes }
      : undefined;
    if (movable) {
      if (open) movable.set(id, open);
    } else this.#lastBatch = open;
    return reply;
  }

  /** Resolves when the write in flight is done (see {@linkcode backlog}). */
  #drained: Promise<void> | undefined;

  /**
   * Flow control for operations that do not wait for the hub (an unbounded
   * queue's puts): while a write is in flight and a full batch already waits
   * behind it, a Promise that resolves once that write is done (and the
   * batch is on its way); else `undefined`. Without it a loop of such puts
   * never yields to the event loop, which is where writes complete: it would
   * gather its whole burst here (every item in memory, the hub and the
   * consumer idle) before the second frame leaves.
   */
  backlog(): Promise<void> | undefined {
    const transport = this.transport;
    if (this.#outboxBytes < MAX_BATCH_BYTES || !transport?.busy()) return undefined;
    return this.#drained ??= transport.flushed().then(() => {
      this.#drained = undefined;
    });
  }

  protected override send(request: Request): void {
    const id = request.obj;
    if (id !== 0 && !this.#attached.has(id)) {
      this.#attached.add(id);
      const params = this.#attachParams.get(id);
      if (params) this.enqueue({ id: 0, op: "attach", obj: id, args: params });
    }
    this.enqueue(request);
  }

  protected override enqueue(request: Request): void {
    this.#outbox.push(request);
    this.#outboxGrowth++;
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    this.#hopSeen = this.#outboxGrowth;
    this.#hops = 0;
    this.#quietHops = 0;
    queueMicrotask(this.#hop);
  }

  /**
   * Sends the outbox after the current burst of work: while operations keep
   * arriving from one microtask to the next (a loop of `await q.put(…)`
   * takes a few microtasks per iteration), wait longer, up to a cap, so one
   * frame carries many operations. A lone operation goes out after a few
   * microtasks, which costs well under a microsecond.
   */
  readonly #hop = (): void => {
    const growth = this.#outboxGrowth;
    this.#quietHops = growth === this.#hopSeen ? this.#quietHops + 1 : 0;
    this.#hopSeen = growth;
    if (
      this.#quietHops < QUIET_HOPS && this.#hops++ < MAX_HOPS && this.#outbox.length < MAX_BATCH &&
      this.#outboxBytes < MAX_BATCH_BYTES
    ) {
      // One microtask per hop and no allocation: a loop of puts runs a hop every put or two.
      queueMicrotask(this.#hop);
    } else {
      this.#flush();
    }
  };
  /** The outbox's growth at the last hop, the hops so far, and how many of them saw no growth. */
  #hopSeen = 0;
  #hops = 0;
  #quietHops = 0;

  /**
   * Sends the outbox as one batch: the one place where this connection's
   * requests are batched. While a write is in flight it waits for it and
   * sends everything gathered meanwhile together (unless `force`).
   */
  #flush(force = false): void {
    this.#flushScheduled = false;
    if (!this.transport) {
      this.connect();
      return; // Once ready, the connection flushes.
    }
    if (!force && this.transport.busy()) {
      if (!this.#awaitingWrite) {
        this.#awaitingWrite = true;
        this.transport.flushed().then(() => {
          this.#awaitingWrite = false;
          if (this.#outbox.length > 0 && !this.#flushScheduled) this.#flush();
        });
      }
      return;
    }
    const batch = this.#outbox;
    this.#outbox = [];
    this.#closeMovable();
    this.#outboxBytes = 0;
    if (this.#batches.length > 0) {
      for (const id of this.#batches) this.sealBatch(id);
      this.#batches = [];
    }
    if (batch.length > 0) this.transport.send(batch);
  }

  /**
   * Sends the outbox now, without waiting for the burst of work to end or
   * for the write in flight: for a request whose reply should be on its way
   * while this thread goes on working (a queue's fetch ahead), or a goodbye.
   */
  flushNow(): void {
    if (this.#outbox.length > 0) this.#flush(true);
  }

  /** Whether requests wait in the outbox. */
  protected get hasOutbox(): boolean {
    return this.#outbox.length > 0;
  }

  /** Sends the outbox, if anything waits in it, as at the end of a burst (the connection is ready). */
  protected flushOutbox(): void {
    if (this.#outbox.length > 0) this.#flush();
  }

  /** Drops what waits in the outbox (the connection failed). */
  protected dropOutbox(): void {
    this.#outbox = [];
    this.#closeMovable();
    this.#lastBatch = undefined;
    this.#batches = [];
  }
}
