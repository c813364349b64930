// Copyright the multiproc authors. MIT license.
/**
 * Read-your-writes over the hub's status file, which only the hub writes.
 *
 * A synchronous read in Python sees the caller's own write at once: after
 * `ev.set()`, `ev.is_set()` is true; after `sem.release()`, `get_value()`
 * counts it. Here the write is an operation sent to the hub, which publishes
 * the slot when it handles it. Until then the client shows, to readers in its
 * own thread, the value its last write implies: an overlay per slot, dropped
 * once the hub has answered every operation that set it. From then on the
 * status file is the truth again, so a later change by another process is
 * hidden for at most as long as the hub takes to answer.
 *
 * @module
 */

import { SLOTS_PER_OBJECT, type StatusSlot } from "./status_slots.ts";

interface Shown {
  value: number;
  /** Operations that set this slot and that the hub has not answered yet. */
  pending: number;
}

/** The values this thread's own unanswered operations imply, per object and slot. */
export class StatusOverlay {
  #shown = new Map<number, Shown>();

  /** The value shown for slot `slot` of object `id`, or `undefined` to read the status file. */
  get(id: number, slot: StatusSlot): number | undefined {
    return this.#shown.get(key(id, slot))?.value;
  }

  /**
   * Shows `values` (by slot) for object `id` until `answered` settles; a
   * later call for the same slot replaces the value and extends the wait to
   * its own answer.
   */
  show(
    id: number,
    values: ReadonlyArray<readonly [StatusSlot, number]>,
    answered: Promise<unknown>,
  ): void {
    const keys = values.map(([slot, value]) => {
      const k = key(id, slot);
      const shown = this.#shown.get(k);
      if (shown) {
        shown.value = value;
        shown.pending++;
      } else this.#shown.set(k, { value, pending: 1 });
      return k;
    });
    const done = () => {
      for (const k of keys) {
        const shown = this.#shown.get(k)!;
        if (--shown.pending === 0) this.#shown.delete(k);
      }
    };
    answered.then(done, done);
  }
}

/** One number per slot of every object. */
function key(id: number, slot: StatusSlot): number {
  return id * SLOTS_PER_OBJECT + slot;
}
