// Copyright the multiproc authors. MIT license.
/**
 * What every hub object is ({@linkcode HubObjectBase}), and the helpers that
 * the objects' status and operations share. Apart from the table of objects
 * and operations (`hub_objects.ts`), which imports the queue's object
 * (`hub_queue_object.ts`), so that the queue's file can use them without
 * importing the table at run time (it takes only the table's types).
 *
 * @module
 */

import type { Owner } from "./state/common.ts";
import { SLOT_BYTES, type StatusSlot } from "./status_slots.ts";

/** What every hub object does. */
export interface HubObjectBase {
  /** Which primitive it is: the prefix of its operations' names. */
  readonly kind: string;
  /**
   * Writes the slots it publishes into `out` (the first words of its
   * record, see {@linkcode setSlot}).
   *
   * @returns How many slots, from the first, to publish; 0 for none.
   */
  status(out: DataView): number;
  /** Releases what `owner` holds, as it died. */
  dropOwner(owner: Owner): void;
  /**
   * Forgets `owner`'s role (consumer, prefetcher), as it left; `clean` when
   * it said goodbye (else {@linkcode HubObjectBase.dropOwner} follows).
   */
  left(owner: Owner, clean: boolean): void;
}

/** Writes `value` in slot `slot` of a status record being built. */
export function setSlot(out: DataView, slot: StatusSlot, value: number): void {
  out.setInt32(slot * SLOT_BYTES, value, true);
}

/** A checked number from the wire. */
export function num(value: unknown, what: string): number {
  if (typeof value !== "number" || Number.isNaN(value)) throw new TypeError(`Invalid ${what}`);
  return value;
}
