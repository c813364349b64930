// Copyright the multiproc authors. MIT license.
/**
 * The reading side of large queue items kept in shared memory (see
 * `item_store.ts`): a consumer maps the ring a reference names, decodes the
 * item's bytes where they are, and frees the block when its queue says.
 *
 * @module
 */

import { canMapShared, mapShared, type SharedMapping } from "./runtime.ts";
import {
  HEADER,
  IN_USE_WORD,
  KEY_BYTES,
  latin1,
  RING_BYTES,
  RING_FILE_BYTES,
  ringPath,
  u32,
} from "./stored_ref.ts";

/** A ring this realm reads: mapped once, unmapped when it is the least recently used of many. */
class Reader {
  #map: SharedMapping | undefined;
  words!: Int32Array;
  bytes!: Uint8Array;

  constructor(readonly path: string, readonly dir: string, readonly key: Uint8Array) {
    this.#mapNow();
  }

  #mapNow(): void {
    try {
      this.#map = mapShared(this.path, RING_FILE_BYTES, { existing: true });
    } catch (error) {
      throw new Error(
        `Cannot read a queue item kept in shared memory: its ring ${this.path} is gone (removed ` +
          "once all its items were read: an item delivered twice?)",
        { cause: error },
      );
    }
    this.words = this.#map.words;
    this.bytes = new Uint8Array(this.words.buffer, this.words.byteOffset, RING_BYTES);
  }

  /**
   * Frees the block whose state word is `state` if it still holds generation
   * `gen` (through the ring mapped again if it was unmapped), and counts it
   * out of the ring's blocks in use.
   */
  free(state: number, gen: number): void {
    const reader = this.#map !== undefined ? this : readerFor(this.path, this.dir, this.key);
    if (Atomics.compareExchange(reader.words, state, gen, 0) === gen) {
      Atomics.sub(reader.words, IN_USE_WORD, 1);
    }
  }

  /** Unmaps it; no view of it may be used afterwards (none outlives the call that read it). */
  unmap(): void {
    this.#map?.unmap();
    this.#map = undefined;
    this.words = new Int32Array(0);
    this.bytes = new Uint8Array(0);
  }

  get mapped(): boolean {
    return this.#map !== undefined;
  }
}

/** Rings this realm reads, by path, least recently used first. */
const reading = new Map<string, Reader>();
/**
 * Most rings one realm keeps mapped for reading (address space only: their
 * pages are the files'; a ring removed stays in memory while mapped).
 */
const MAX_MAPPED = 32;
/** The ring read last (most items in a row come from one ring). */
let lastReader: Reader | undefined;

/** Whether `ref` names a ring of `reader` (its folder and key). */
function sameRing(reader: Reader, ref: Uint8Array, dir: string): boolean {
  if (reader.dir !== dir) return false;
  const key = reader.key;
  for (let i = 0; i < KEY_BYTES; i++) if (ref[16 + i] !== key[i]) return false;
  return true;
}

function readerOf(ref: Uint8Array, dir: string): Reader {
  if (lastReader !== undefined && lastReader.mapped && sameRing(lastReader, ref, dir)) {
    return lastReader;
  }
  const key = ref.slice(16, 16 + KEY_BYTES);
  // A ring's key is hex (see item_store.ts): anything else names no ring, and is no file name.
  for (const c of key) {
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) {
      throw new Error(
        "Cannot read a queue item kept in shared memory: its reference is malformed (its ring's " +
          "name is not hex)",
      );
    }
  }
  return lastReader = readerFor(ringPath(dir, latin1(key)), dir, key);
}

/** The reader of the ring at `path`, mapped (and now the most recently used). */
function readerFor(path: string, dir: string, key: Uint8Array): Reader {
  let reader = reading.get(path);
  if (reader !== undefined) reading.delete(path); // Put back last: the most recently used.
  else {
    if (!canMapShared()) {
      throw new Error(
        "Cannot read a queue item kept in shared memory: this process cannot map memory (it " +
          "needs Linux and --allow-ffi, as the process that put it had; MULTIPROC_SHARED_MEMORY=0 " +
          "must be set for all processes or none)",
      );
    }
    reader = new Reader(path, dir, key);
  }
  reading.set(path, reader);
  if (reading.size > MAX_MAPPED) {
    const [oldest, evicted] = reading.entries().next().value!;
    reading.delete(oldest);
    evicted.unmap();
  }
  return reader;
}

/** A block read and not yet freed. */
export class StoredBlock {
  /**
   * @param reader Its ring.
   * @param state The index of its state word.
   * @param gen Its generation (what its state word holds while it is in use).
   * @param bytes The item's encoded bytes: a view of the ring, valid until {@linkcode StoredBlock.free}.
   */
  constructor(
    readonly reader: Reader,
    readonly state: number,
    readonly gen: number,
    readonly bytes: Uint8Array,
  ) {}

  /** Frees the block (the writer may reuse it); call once, after the last use of `bytes`. */
  free(): void {
    this.reader.free(this.state, this.gen);
  }
}

/**
 * The block a reference names, in the ring file in the hub's folder `dir`.
 *
 * @throws {Error} If this process cannot map it, or the block no longer
 *   holds that item (it was freed: a reference used twice).
 */
export function loadStored(ref: Uint8Array, dir: string): StoredBlock {
  const at = u32(ref, 4);
  const length = u32(ref, 8);
  const gen = u32(ref, 12);
  const reader = readerOf(ref, dir);
  const words = reader.words;
  const state = (at >> 2) + 1;
  if (Atomics.load(words, state) !== gen || words[state - 1] !== length) {
    throw new Error(
      `Cannot read a queue item kept in shared memory (${reader.path}, block ${at}): it was ` +
        "freed already (an item delivered twice?)",
    );
  }
  return new StoredBlock(
    reader,
    state,
    gen,
    reader.bytes.subarray(at + HEADER, at + HEADER + length),
  );
}
