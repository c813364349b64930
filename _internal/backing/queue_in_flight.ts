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

/** One kind of batch (puts, or uses) not answered yet, and the hub's count of those it applied. */
class Pending {
  /** Oldest first. */
  batches: Counted[] = [];
  /** Their entries (items put, or used). */
  entries = 0;
  /** The hub's count of applied batches of this kind, as its last answer gave it. */
  answered = 0;

  /** @param slot Where the hub publishes that count. */
  constructor(readonly slot: typeof QUEUE_SLOTS.applied | typeof QUEUE_SLOTS.used) {}

  /**
   * The entries of the batches not applied yet, the hub's count being
   * `applied`: as the hub applies a connection's batches in order, the
   * applied ones are the first of those not answered, as many as it applied
   * since the last answer.
   */
  unapplied(applied: number): number {
    const batches = this.batches;
    const since = (applied - this.answered) & 0x7fffffff;
    let count = 0;
    for (let i = Math.min(since, batches.length); i < batches.length; i++) {
      count += batches[i].count;
    }
    return count;
  }
}

/** The batches of one queue object that the hub has not answered yet. */
export class InFlight {
  #b: HubBinding;
  #bounded: boolean;
  #lost: (error: unknown) => void;
  /** Batches of puts (`queue.putMany`). */
  #puts = new Pending(QUEUE_SLOTS.applied);
  /** Batches of items used from those fetched ahead (`queue.consumed`); their counts are negative. */
  #uses = new Pending(QUEUE_SLOTS.used);
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
    return this.#puts.entries;
  }

  /** The replies to the batches of puts not answered yet. */
  putReplies(): Promise<unknown>[] {
    return this.#puts.batches.map((batch) => batch.reply);
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
    const kind = delta > 0 ? this.#puts : this.#uses;
    if (batch === undefined) {
      const created: Counted = { reply, count: 0 };
      batch = created;
      // With none pending, what the hub has applied includes every earlier batch (read only if
      // this thread has the status file open already: else the last answer stands, and batches
      // of other objects applied since make this object's count short until the next answer).
      if (kind.batches.length === 0) {
        kind.answered = this.#b.client.statusIfOpen(this.#b.id, kind.slot) ?? kind.answered;
      }
      kind.batches.push(created);
      const puts = kind === this.#puts;
      if (puts && this.#bounded) boundedPuts.add(reply);
      const settle = () => {
        kind.batches.splice(kind.batches.indexOf(created) >>> 0, 1);
        kind.entries -= created.count;
        if (puts) boundedPuts.delete(reply);
      };
      reply.then((applied) => {
        settle();
        // Answers come in order; an older count never replaces a newer one.
        if (typeof applied === "number" && ((applied - kind.answered) & 0x7fffffff) < 2 ** 30) {
          kind.answered = applied;
        }
      }, (error) => {
        settle();
        if (puts) this.#lost(error);
      });
      this.#otherBatch = this.#batch;
      this.#batch = created;
    }
    batch.count += delta;
    kind.entries += delta;
  }

  /**
   * `published()`, a count the hub publishes (the size, the unfinished
   * tasks), plus the items of this object's puts that it does not count yet,
   * less the items this object used that it still counts (`uses`: for the
   * size, not for unfinished tasks). The hub publishes a batch before its
   * answer comes back, so a batch not answered may be counted already: the
   * hub also publishes how many batches of each kind it has applied, and
   * each answer says how many it had then (see {@linkcode Pending.unapplied}).
   * Those counts are read before and after `published()`, and all again if
   * one moved in between, so that no batch is counted twice or not at all.
   * Exact while this object is the only one putting and using; with others,
   * off for the few milliseconds before an answer (another's batches make
   * this one's look applied early).
   */
  plusUnapplied(published: () => number, uses: boolean): number {
    const puts = this.#puts;
    const used = uses && this.#uses.batches.length > 0 ? this.#uses : undefined;
    if (puts.batches.length === 0 && used === undefined) return published();
    const { client, id } = this.#b;
    const read = (kind: Pending | undefined) =>
      kind === undefined || kind.batches.length === 0 ? 0 : client.status(id, kind.slot);
    let putsApplied = read(puts);
    let usesApplied = read(used);
    for (;;) {
      const value = published();
      const putsAfter = read(puts);
      const usesAfter = read(used);
      if (putsAfter === putsApplied && usesAfter === usesApplied) {
        let count = value;
        if (puts.batches.length > 0) count += puts.unapplied(putsApplied);
        if (used !== undefined) count += used.unapplied(usesApplied);
        return count;
      }
      putsApplied = putsAfter;
      usesApplied = usesAfter;
    }
  }
}
