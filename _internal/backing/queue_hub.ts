// Copyright the multiproc authors. MIT license.
/**
 * A queue's state in its creator's hub (`Queue`, `SimpleQueue`,
 * `JoinableQueue`): the {@linkcode JoinableQueueBacking} over the hub
 * client's calls.
 *
 * - An unbounded queue's puts do not wait: each joins the batch the client
 *   sends at its next flush (like Python's feeder thread); a failed batch
 *   makes the next call throw. A bounded queue's do the same while they see
 *   room (see {@linkcode HubQueue.put}), and are a round trip otherwise.
 * - Gets take a batch of items at once (fetching ahead while there is a
 *   backlog); the hub holds those for this process until told they were
 *   used, asks for them back when another consumer has to wait, and
 *   redelivers them if this process dies.
 * - `qsize()` counts this object's puts and gets at once, before the hub
 *   has seen them, and once only after (see {@linkcode HubQueue.size});
 *   `taskDone()` calls made in a burst travel as one request.
 *
 * @module
 */

import { type Encoded, encodeItem, type HandleData, unpackEncoded } from "../codec.ts";
import { Empty } from "../errors.ts";
import { loadStored, type StoredBlock } from "../item_reader.ts";
import { encodeStored, leaveRings, releaseStored, STORE_MIN, storeBacklog } from "../item_store.ts";
import { isStoredRef } from "../stored_ref.ts";
import type { Item } from "../protocol.ts";
import {
  bindHubObject,
  createHubObject,
  type HubBinding,
  type HubHandle,
  hubHandle,
} from "../shared.ts";
import { QUEUE_SLOTS } from "../status_slots.ts";
import type { QueueOrderName } from "../hub_queue_object.ts";
import { priorityKey, withKey, withoutKey } from "../priority_key.ts";
import { beforeGoodbye } from "../hub_client.ts";
import type { WaitOptions } from "../wait.ts";
import type { AheadFetch, EndCopyRequests, JoinableQueueBacking } from "./queue.ts";
import { type Counted, InFlight } from "./queue_in_flight.ts";

/**
 * Most items a consumer fetches ahead of use (the hub also bounds a batch
 * by bytes, 1 MiB). A batch of small items must take the consumer longer to
 * use than the next one takes to arrive (a round trip through the hub's
 * thread, and the frame read and decoded): at 256 the consumer of the
 * small-string benchmark waited for every batch; at 1024 it moved about a
 * fifth more items per second.
 */
const MAX_PREFETCH = 1024;

/** The rejection of a fetch ahead that found the queue empty (made once: see {@linkcode HubQueue.fetch}). */
const NOTHING_AHEAD = new Empty("Cannot fetch items ahead from the queue as it is empty");

/** What the hub is told of a new queue (and a revived one reads back from its handle). */
interface QueueParams {
  maxsize: number;
  joinable: boolean;
  /** The order items come out in; absent: first in, first out. */
  order?: QueueOrderName;
  /** Whether it counts tasks without being joinable (`LifoQueue`, `PriorityQueue`); absent: no. */
  tasks?: true;
}

/**
 * A new queue in this process's hub.
 *
 * @param maxsize The capacity (0: unbounded).
 * @param joinable Whether it counts unfinished tasks and redelivers a dead consumer's.
 * @param order The order items come out in.
 * @param tasks Whether it counts unfinished tasks without being joinable.
 */
export function newHubQueue(
  maxsize: number,
  joinable: boolean,
  order: QueueOrderName = "fifo",
  tasks = false,
): HubQueue {
  const params: QueueParams = { maxsize, joinable };
  if (order !== "fifo") params.order = order;
  if (tasks) params.tasks = true;
  return new HubQueue(createHubObject("queue", params), maxsize, joinable, order);
}

/** The queue a handle describes (from {@linkcode HubQueue.toHandle}). */
export function hubQueueFrom(handle: HubHandle): HubQueue {
  const { maxsize, joinable, order } = handle.params as QueueParams;
  return new HubQueue(bindHubObject(handle), maxsize, joinable === true, order ?? "fifo");
}

// A realm that leaves removes its rings whose items were all read, and notes the others for the hub.
beforeGoodbye(() => Promise.resolve(leaveRings()));

/**
 * The items a realm took from a joinable queue and has not acknowledged,
 * in the order taken: the blocks of those kept in shared memory, `null` for
 * the others. The hub keeps such an item until a `taskDone()` acknowledges
 * it, and redelivers it if the realm dies first, so its block must last
 * until then. The hub credits an acknowledgement to the oldest item the
 * realm took (whichever queue object of the realm took it or acknowledges):
 * so does this list, one per realm and queue.
 */
class UntilDone {
  #blocks: (StoredBlock | null)[] = [];
  #head = 0;

  push(block: StoredBlock | null): void {
    this.#blocks.push(block);
  }

  /** `count` acknowledgements were recorded: frees the blocks of the oldest items. */
  acknowledged(count: number): void {
    const blocks = this.#blocks;
    const end = Math.min(blocks.length, this.#head + count);
    for (; this.#head < end; this.#head++) {
      blocks[this.#head]?.free();
      blocks[this.#head] = null;
    }
    if (this.#head === blocks.length) {
      this.#blocks = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > blocks.length) {
      this.#blocks = blocks.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** Each realm's {@linkcode UntilDone} per queue, by hub client and queue id. */
const untilDoneLists = new WeakMap<object, Map<number, UntilDone>>();

function untilDone(binding: HubBinding): UntilDone {
  let byId = untilDoneLists.get(binding.client);
  if (byId === undefined) untilDoneLists.set(binding.client, byId = new Map());
  let list = byId.get(binding.id);
  if (list === undefined) byId.set(binding.id, list = new UntilDone());
  return list;
}

/** A queue in a hub, reached through its client. */
export class HubQueue implements JoinableQueueBacking<Item>, AheadFetch<Item> {
  readonly what = "the queue";
  readonly maxsize: number;
  /**
   * Fetching ahead, for a first-in-first-out queue only: the items of a last-in-first-out or
   * priority queue must come out in the hub's order at the time of each get, not of an earlier
   * fetch. In a bounded queue the items fetched and not used yet still take room (the hub counts
   * them), so producers do not run ahead of `maxsize`.
   */
  readonly ahead: AheadFetch<Item> | undefined;
  /** Whether items carry their priority keys (see `priority_key.ts`). */
  #keyed: boolean;
  readonly max = MAX_PREFETCH;
  #b: HubBinding;
  #asyncError: unknown;
  /** What this object sent that the published status may not show yet. */
  #inFlight: InFlight;
  /** taskDone() calls not yet answered by the hub. */
  #acksInFlight = 0;
  /** The batch of acknowledgements being filled: its reply, how many it carries, their Promise. */
  #acks: Counted & { recorded: Promise<void> } | undefined;
  /** A joinable queue's items taken in this realm and not yet acknowledged (see `untilDone`). */
  #untilDone: UntilDone | undefined;
  /** The hub's folder, where large items' bytes are kept (see `item_store.ts`). */
  #dir: string;
  /** The requests about a pipe end's copies, made on first use (see {@linkcode HubQueue.copies}). */
  #copies: EndCopyRequests | undefined;
  /** The reply to the last report of an item used (see {@linkcode HubQueue.unpack}). */
  #usedReply: Promise<unknown> | undefined;
  /** Blocks of items used, freed once the hub has answered `reply` (it has recorded their use). */
  #toFree: { reply: Promise<unknown>; blocks: StoredBlock[] } | undefined;

  /**
   * @param binding The hub object.
   * @param maxsize Its capacity (0: unbounded).
   * @param joinable Whether it counts unfinished tasks.
   * @param order The order items come out in.
   */
  constructor(
    binding: HubBinding,
    maxsize: number,
    joinable = false,
    order: QueueOrderName = "fifo",
  ) {
    this.#b = binding;
    this.maxsize = maxsize;
    // A put that never reached the hub: the next call says so.
    this.#inFlight = new InFlight(binding, maxsize > 0, (error) => this.#asyncError ??= error);
    this.#untilDone = joinable ? untilDone(binding) : undefined;
    this.ahead = order !== "fifo" ? undefined : this;
    this.#keyed = order === "priority";
    const path = binding.client.ref.path;
    this.#dir = path.slice(0, path.lastIndexOf("/"));
  }

  /** Encodes an item; a large one's bytes go into shared memory where they can (`item_store.ts`). */
  encode(item: unknown, context: string): Item {
    // A priority queue's item carries its key for the hub to order it by; it stays inline.
    if (this.#keyed) return withKey(priorityKey(item), encodeItem(item, { context, root: "item" }));
    // A string short enough that its encoding stays under the threshold (3 bytes a UTF-16 unit at
    // most), and anything not an object, skips the store's bookkeeping: most items are such.
    if (
      typeof item === "string" ? item.length * 3 + 8 < STORE_MIN : typeof item !== "object"
    ) {
      return encodeItem(item, { context, root: "item" });
    }
    return encodeStored(() => encodeItem(item, { context, root: "item" }), this.#dir);
  }

  /**
   * Reads a stored item: a large one from shared memory, whose block is
   * freed once the hub has recorded the item's use (until then it may hand
   * the reference to another consumer: see `item_store.ts`). An item taken
   * by a get was used when the hub answered it; one from the buffer was
   * reported used just before this call, so the reply to that report is the
   * one to wait for.
   */
  unpack(stored: Item): Encoded {
    if (this.#keyed) stored = withoutKey(stored);
    if (!isStoredRef(stored)) {
      this.#untilDone?.push(null);
      return unpackEncoded(stored);
    }
    const block = loadStored(stored, this.#dir);
    try {
      return unpackEncoded(block.bytes);
    } finally {
      if (this.#untilDone !== undefined) this.#untilDone.push(block);
      else this.#freeLater(block);
    }
  }

  #freeLater(block: StoredBlock): void {
    const reply = this.#usedReply;
    if (reply === undefined) return block.free();
    let batch = this.#toFree;
    if (batch?.reply !== reply) {
      const created = { reply, blocks: [] as StoredBlock[] };
      // Not answered (the connection is gone): the hub may hand them out again, so they stay.
      reply.then(() => {
        // Answered: blocks of items used since are freed at once (or with a later report's reply).
        if (this.#usedReply === reply) this.#usedReply = undefined;
        if (this.#toFree === created) this.#toFree = undefined;
        for (const b of created.blocks) b.free();
      }, () => {});
      this.#toFree = batch = created;
    }
    batch.blocks.push(block);
  }

  throwPending(): void {
    if (this.#asyncError !== undefined) {
      const error = this.#asyncError;
      this.#asyncError = undefined;
      throw error;
    }
  }

  /**
   * Closed by another process: the hub refuses the item and the next call
   * on this object throws (a status read per put would halve the throughput).
   */
  put(encoded: unknown, options: WaitOptions): Promise<void> | undefined {
    const { client, id } = this.#b;
    const item = encoded as Item;
    if (
      options.signal === undefined &&
      (this.maxsize === 0 || (options.timeout === undefined && this.#roomSeen()))
    ) {
      // Unbounded, or bounded with room for it: return once the item is on its way. Puts made
      // before the next flush travel together as one request.
      this.#inFlight.counted(client.appendToBatch("queue.putMany", id, item), 1);
      // A burst of puts keeps at most about one batch ahead of the connection's writes, so the
      // hub and the consumer work on the first items while this thread makes the next ones. Not
      // with a timeout: the item is queued, and waiting for the socket is no reason to be late.
      if (options.timeout !== undefined) return undefined;
      // Large items kept in shared memory: as far ahead of the consumers as half a ring at most.
      return client.backlog() ?? (isStoredRef(item) ? storeBacklog(this.#dir) : undefined);
    }
    const put = client.call("queue.put", id, [item], options) as Promise<unknown> as Promise<void>;
    if (!isStoredRef(item)) return put;
    // Refused (full at the timeout, closed, aborted): nobody will read its bytes.
    return put.catch((error) => {
      releaseStored(item);
      throw error;
    });
  }

  /**
   * Whether a bounded queue has room for one more item of this object's, as
   * far as it can tell without asking: the published size, plus its own puts
   * not counted there yet, is below `maxsize` (and fewer than `maxsize` of its
   * puts are on their way). Exact while it is the only producer, so that its
   * `put()` returns at once exactly when Python's would; with several, one
   * may take the room another saw, and the hub then holds the other's items,
   * in order, until there is room (at most `maxsize` per producer). Items
   * this process used and has not reported yet still count: they err on the
   * side of asking.
   */
  #roomSeen(): boolean {
    const maxsize = this.maxsize;
    const inFlight = this.#inFlight;
    if (inFlight.putItems >= maxsize) return false;
    const { client, id } = this.#b;
    // Closed by another process: the hub's answer says so, as Python's put() raises.
    if (client.status(id, QUEUE_SLOTS.closed) === 1) return false;
    // Items used and not reported yet still count here: they err on the side of asking.
    return inFlight.plusUnapplied(() => client.status(id, QUEUE_SLOTS.size), false) < maxsize;
  }

  take(n: number, options: WaitOptions): Promise<Item[]> {
    return this.#b.client.call("queue.getMany", this.#b.id, [n], options) as Promise<Item[]>;
  }

  used(): void {
    // Told to the hub (batched with other traffic) so a crash redelivers only what was not used.
    const reply = this.#b.client.appendToBatch("queue.consumed", this.#b.id, 1);
    this.#usedReply = reply;
    this.#inFlight.counted(reply, -1);
  }

  /** A fetch ahead never waits and never asks other consumers for their items. */
  fetch(n: number): Promise<Item[]> {
    const { client, id } = this.#b;
    // The hub answers a fetch that finds the queue empty with no items: a rejection, as the
    // contract says, but one without an Error made for it.
    const items = (client.call("queue.getMany", id, [n, true], { timeout: 0 }) as Promise<Item[]>)
      .then((items) => items.length > 0 ? items : Promise.reject(NOTHING_AHEAD));
    // Sent now: this thread is busy with the buffer's items meanwhile, and the reply waits in the
    // socket until it is done with them.
    client.flushNow();
    return items;
  }

  giveBack(items: Item[]): void {
    try {
      this.#b.client.post("queue.unget", this.#b.id, [items]);
    } catch {
      // The connection is gone: the hub takes back what this process held when it notices.
    }
  }

  /** The hub asks when another consumer has to wait; this process asks at a clean exit. */
  onRevoke(revoke: (now: boolean) => void): void {
    this.#b.client.onPush(this.#b.id, () => revoke(false));
    this.#b.client.onGoodbye(() => revoke(true));
  }

  close(): void {
    this.#b.client.post("queue.close", this.#b.id);
  }

  /** The copies of a pipe end writing to this queue: counted by the hub. */
  get copies(): EndCopyRequests {
    const { client, id } = this.#b;
    return this.#copies ??= {
      hold: () => client.post("queue.hold", id),
      lend: (token, moves) => client.post("queue.lend", id, [token, moves]),
      adopt: (token) => client.post("queue.adopt", id, [token]),
      lapse: (token, pid) =>
        client.post("queue.lapse", id, pid === undefined ? [token] : [token, pid]),
      release: () => client.post("queue.release", id),
    };
  }

  /**
   * The published size, plus this object's puts that the hub has not
   * applied yet, less the items it used that the hub has not recorded yet
   * (see `InFlight.plusUnapplied`). Exact for this object's own puts and
   * gets while it is the only one putting and getting (a put, then
   * `qsize()`, is 1 and stays 1; a get, then `qsize()`, is one less and
   * stays so); with others, approximate for the few milliseconds before an
   * answer, as Python's `qsize()` is across processes (never below 0).
   */
  size(): number {
    const { client, id } = this.#b;
    return Math.max(
      0,
      this.#inFlight.plusUnapplied(() => client.status(id, QUEUE_SLOTS.size), true),
    );
  }

  closed(): boolean {
    return this.#b.client.status(this.#b.id, QUEUE_SLOTS.closed) === 1;
  }

  /**
   * The published count, less the acknowledgements still on their way to
   * the hub (it may have counted some of those already: it publishes before
   * it answers; the hub checks again in any case).
   */
  othersUnfinished(): boolean {
    return this.unfinished() - this.#acksInFlight > 0;
  }

  taskDone(): Promise<void> {
    this.#acksInFlight++;
    // Calls made in a burst travel as one request; their count is settled when it is answered,
    // and they share one Promise (no allocation per call).
    const reply = this.#b.client.appendToBatch("queue.taskDone", this.#b.id, 1);
    let batch = this.#acks;
    if (batch?.reply !== reply) {
      const created = { reply, count: 0, recorded: reply.then(() => {}) };
      const settle = () => {
        this.#acksInFlight -= created.count;
      };
      reply.then(() => {
        settle();
        this.#untilDone?.acknowledged(created.count);
      }, settle);
      created.recorded.catch(() => {}); // A caller that ignores it sees no unhandled rejection.
      this.#acks = batch = created;
    }
    batch.count++;
    return batch.recorded;
  }

  async join(options: WaitOptions): Promise<boolean> {
    return await this.#b.client.call("queue.join", this.#b.id, [], options) as boolean;
  }

  /** The published count, plus this object's puts not counted there yet (as in {@linkcode HubQueue.size}). */
  unfinished(): number {
    const { client, id } = this.#b;
    return this.#inFlight.plusUnapplied(() => client.status(id, QUEUE_SLOTS.unfinished), false);
  }

  /**
   * Waits until every earlier put of this thread has reached the hub, and
   * every put of this object is in the queue (a bounded queue's may wait
   * there for room, and a crash would drop them).
   */
  async flush(): Promise<void> {
    this.throwPending();
    await this.#b.client.sync();
    await Promise.allSettled(this.#inFlight.putReplies());
    this.throwPending();
  }

  /** The queue's handle, revived by `kind`'s reviver registered in `module`. */
  toHandle(kind: string, module: string): HandleData {
    return { ...hubHandle(this.#b, module), kind };
  }
}
