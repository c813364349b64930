// Copyright the multiproc authors. MIT license.
/**
 * What a queue object has sent to its hub that the hub's published status
 * may not show yet: its batches of puts (`queue.putMany`) and of items used
 * (`queue.consumed`), counted until their answers come. `HubQueue` adds them
 * to the published size, so that `qsize()` counts this object's own puts
 * and gets at once (as Python's does), and a bounded queue's producer tells
 * whether it has room without asking.
 *
 * @module
 */

import { beforeGoodbye } from "../hub_client.ts";
import type { HubBinding } from "../shared.ts";
import { QUEUE_SLOTS } from "../status_slots.ts";

/** One batch reply being watched, and what it counts. */
export interface Counted {
  reply: Promise<unknown>;
  count: number;
}

/**
 * Batches of puts on bounded queues not answered yet: the hub may hold them
 * until there is room (see `HubQueue.put`), and a clean exit would drop
 * them, so a child that returns waits for them first, as Python's waits for
 * its feeder thread.
 */
const boundedPuts = new Set<Promise<unknown>>();
beforeGoodbye(() => Promise.allSettled(boundedPuts));

/** The batches of one queue object that the hub has not answered yet. */
export class InFlight {
  #b: HubBinding;
  #bounded: boolean;
  #lost: (error: unknown) => void;
  /**
   * Batches of puts not answered yet, oldest first: what they add to the
   * published size until the hub counts them (see {@linkcode InFlight.plusUnapplied}).
   */
  #puts: Counted[] = [];
  /** The items of those batches. */
  #putItems = 0;
  /** The hub's count of applied batches of puts (`QUEUE_SLOTS.applied`) as its last answer gave. */
  #answered = 0;
  /** Items used whose report the hub has not answered yet (0 or less). */
  #uses = 0;
  /** The last batch reply {@linkcode InFlight.counted} watches. */
  #batch: Counted | undefined;
  /** The same for the other kind of batch (puts and consumed gets alternate in a loop). */
  #otherBatch: Counted | undefined;

  /**
   * @param binding The queue's hub object.
   * @param bounded Whether the queue is bounded (its puts may wait in the hub for room).
   * @param lost Told of a batch of puts that never reached the hub.
   */
  constructor(binding: HubBinding, bounded: boolean, lost: (error: unknown) => void) {
    this.#b = binding;
    this.#bounded = bounded;
    this.#lost = lost;
  }

  /** The items of the batches of puts not answered yet. */
  get putItems(): number {
    return this.#putItems;
  }

  /** Minus the items used whose report is not answered yet. */
  get uses(): number {
    return this.#uses;
  }

  /** The replies to the batches of puts not answered yet. */
  putReplies(): Promise<unknown>[] {
    return this.#puts.map((batch) => batch.reply);
  }

  /**
   * Counts `delta` (a put: 1, a use: -1) in the batch that `reply` answers,
   * pending until that answer comes; one handler per batch, not per entry.
   */
  counted(reply: Promise<unknown>, delta: number): void {
    let batch = this.#batch?.reply === reply
      ? this.#batch
      : this.#otherBatch?.reply === reply
      ? this.#otherBatch
      : undefined;
    if (batch === undefined) {
      const created: Counted = { reply, count: 0 };
      batch = created;
      const puts = delta > 0;
      if (puts) {
        // With none pending, what the hub has applied includes every earlier batch (read only if
        // this thread has the status file open already: else the last answer stands, and batches
        // of other objects applied since make this object's count short until the next answer).
        if (this.#puts.length === 0) {
          this.#answered = this.#b.client.statusIfOpen(this.#b.id, QUEUE_SLOTS.applied) ??
            this.#answered;
        }
        this.#puts.push(created);
        if (this.#bounded) boundedPuts.add(reply);
      }
      const settle = () => {
        if (!puts) this.#uses -= created.count;
        else {
          this.#puts.splice(this.#puts.indexOf(created) >>> 0, 1);
          this.#putItems -= created.count;
          boundedPuts.delete(reply);
        }
      };
      reply.then((applied) => {
        settle();
        if (puts && typeof applied === "number") this.#answered = applied;
      }, (error) => {
        settle();
        if (created.count > 0) this.#lost(error);
      });
      this.#otherBatch = this.#batch;
      this.#batch = created;
    }
    batch.count += delta;
    if (delta < 0) this.#uses += delta;
    else this.#putItems += delta;
  }

  /**
   * `published()`, a count the hub publishes (the size, the unfinished
   * tasks), plus the items of this object's puts that it does not count yet.
   * The hub publishes a batch of puts before its answer comes back, so a
   * batch not answered may be counted already: the hub also publishes how
   * many batches of puts it has applied, and each answer says how many it
   * had then; as it applies a connection's batches in order, the applied
   * ones are the first of those not answered, as many as were applied since
   * the last answer. That count is read before and after `published()`,
   * and both again if a batch was applied in between, so that none is
   * counted twice or not at all. Exact while this object is the only one
   * putting; with others putting, short for the few milliseconds before an
   * answer.
   */
  plusUnapplied(published: () => number): number {
    const puts = this.#puts;
    if (puts.length === 0) return published();
    const { client, id } = this.#b;
    let applied = client.status(id, QUEUE_SLOTS.applied);
    for (;;) {
      const value = published();
      const again = client.status(id, QUEUE_SLOTS.applied);
      if (again === applied) {
        const since = (applied - this.#answered) & 0x7fffffff;
        let count = value;
        for (let i = Math.min(since, puts.length); i < puts.length; i++) count += puts[i].count;
        return count;
      }
      applied = again;
    }
  }
}
