// Copyright the multiproc authors. MIT license.
/**
 * The layout of a hub's status file: per object id, a record of eight
 * little-endian int32 slots that the hub publishes and clients read
 * synchronously (a queue's size, a semaphore's value, …). Each kind names
 * its slots here; nobody uses slot numbers or record sizes directly.
 *
 * @module
 */

import { STATUS_SLOT_BYTES } from "./protocol.ts";

/** Bytes of one slot (an int32). */
export const SLOT_BYTES = 4;

/** Slots of one object's record. */
export const SLOTS_PER_OBJECT = STATUS_SLOT_BYTES / SLOT_BYTES;

/** A queue's slots. */
export const QUEUE_SLOTS = {
  /** Items in the queue, counting those prefetched by consumers and not used yet. */
  size: 0,
  /** 1 once closed. */
  closed: 1,
  /** Items put and not yet acknowledged by `taskDone()` (joinable queues). */
  unfinished: 2,
  /**
   * How many `queue.putMany` requests the hub has applied, modulo 2^31: with
   * the count each answer carries, a client tells which of its own puts
   * `size` already counts (see `backing/queue_in_flight.ts`).
   */
  applied: 3,
  /**
   * How many `queue.consumed` requests (items used from what a consumer
   * fetched ahead) the hub has applied, modulo 2^31: likewise, a client
   * tells which of its own uses `size` no longer counts.
   */
  used: 4,
} as const;

/** A semaphore's slots. */
export const SEMAPHORE_SLOTS = {
  /** Free permits. */
  value: 0,
} as const;

/** A barrier's slots. */
export const BARRIER_SLOTS = {
  /** Parties waiting. */
  waiting: 0,
  /** 1 while broken. */
  broken: 1,
} as const;

/** An event's slots. */
export const EVENT_SLOTS = {
  /** 1 while set. */
  flag: 0,
} as const;

/** One slot of an object's record (see the `*_SLOTS` names). */
export type StatusSlot = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** Byte offset of slot `slot` of object `id` in the status file. */
export function slotOffset(id: number, slot: StatusSlot): number {
  return id * STATUS_SLOT_BYTES + slot * SLOT_BYTES;
}
