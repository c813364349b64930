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

import type { SharedFile } from "./runtime.ts";
import { openStatusFile } from "./status_file.ts";
import { SLOT_BYTES, slotOffset, SLOTS_PER_OBJECT, type StatusSlot } from "./status_slots.ts";

interface Shown {
  value: number;
  /** Operations that set this slot and that the hub has not answered yet. */
  pending: number;
}

/**
 * A hub's status as this thread reads it: the status file, under the values
 * this thread's own unanswered operations imply, per object and slot.
 */
export class StatusOverlay {
  #path: string;
  #file: SharedFile | undefined;
  #buf = new Uint8Array(SLOT_BYTES);
  #view = new DataView(this.#buf.buffer);
  #shown = new Map<number, Shown>();

  /** The overlay over the status file at `path` (opened on the first read). */
  constructor(path: string) {
    this.#path = path;
  }

  /** Slot `slot` of object `id`: the value shown for it, else as the hub published it. */
  read(id: number, slot: StatusSlot): number {
    const shown = this.#shown.get(key(id, slot))?.value;
    if (shown !== undefined) return shown;
    this.#file ??= openStatusFile(this.#path);
    this.#file.read(slotOffset(id, slot), this.#buf);
    return this.#view.getInt32(0, true);
  }

  /**
   * Like {@linkcode StatusOverlay.read}, but `undefined` instead of opening
   * the status file if this thread has not read it yet (opening it maps it,
   * which loads the C library: a read that only refines a count need not).
   */
  peek(id: number, slot: StatusSlot): number | undefined {
    return this.#file === undefined ? undefined : this.read(id, slot);
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
