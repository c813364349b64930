// Copyright the multiproc authors. MIT license.
/**
 * Large queue items in memory shared between processes: the producer writes
 * an item's encoded bytes once into a ring of its own, mapped from a file in
 * the hub's folder, and the queue (its hub, its sockets) carries only a
 * 24-byte reference; the consumer decodes the bytes where they are, then
 * frees them. The hub keeps every item's place in the queue, its owner and
 * what crash safety needs, as for any item: only the bytes skip it (two
 * socket hops, the hub's copies), as faster-fifo's items skip a broker.
 *
 * Only where processes can map memory (Deno on Linux with `--allow-ffi`:
 * see `canMapShared`, which a child shares with its parent as it shares its
 * permissions), for items of at least {@linkcode STORE_MIN} bytes. Anything
 * else, and an item that finds every ring full, travels inline as before.
 *
 * **A ring** is a file of {@linkcode RING_BYTES} (sparse: pages exist once
 * written) named `items-<key>` in the hub's folder, so it lasts as long as
 * the queue can (a producer that exits leaves its items readable) and goes
 * with the folder. Only the realm (process or thread) that made it writes
 * blocks into it, in order, wrapping around; a block is an 8-byte header
 * (the payload's length, then its state: the block's generation while in
 * use, 0 once freed) and the payload. Consumers free blocks in any order;
 * the writer reuses space from its oldest block on, once that one is freed.
 *
 * **When a block is freed**: only once the hub has recorded that the item
 * was used. Until then the hub may hand the reference to another consumer
 * (the first one died, or gave the item back), which must find the bytes;
 * after it, nobody will ask. A consumer that dies between the two leaves its
 * block in use: that ring stops at it, and the writer goes on in another
 * (at most {@linkcode MAX_RINGS}, then inline).
 *
 * @module
 */

import {
  canMapShared,
  listFiles,
  mapShared,
  randomKey,
  readFileText,
  removeTree,
  type SharedMapping,
  writeFileText,
} from "./runtime.ts";
import { placeResults } from "./wire.ts";

/** Items (encoded) this long or longer go into a ring, shorter ones inline. */
export const STORE_MIN = 4096;
/** Size of one ring file (mapped whole; its pages exist once written). */
export const RING_BYTES = 16 * 1024 * 1024;
/** Most rings one realm writes per hub at a time; with all full, items go inline. */
export const MAX_RINGS = 4;

/** First byte of a reference: `0xc1` is never used by MessagePack, so no encoded item starts so. */
const REF_TAG = 0xc1;
/** Bytes of a reference: tag, 3 reserved, offset, length, generation (u32 each), ring key (8). */
const REF_BYTES = 24;
const KEY_BYTES = 8;
/** A block's header: length, then state (its generation, or 0 once freed). */
const HEADER = 8;

const latin1 = (bytes: Uint8Array): string => String.fromCharCode(...bytes);

/** Writes `n` as an unsigned 32-bit little-endian number at `at` of `bytes`. */
function setU32(bytes: Uint8Array, at: number, n: number): void {
  bytes[at] = n;
  bytes[at + 1] = n >>> 8;
  bytes[at + 2] = n >>> 16;
  bytes[at + 3] = n >>> 24;
}

/** Whether queue item bytes are a reference to bytes in a ring. */
export function isStoredRef(item: Uint8Array): boolean {
  return item.length === REF_BYTES && item[0] === REF_TAG;
}

/**
 * The bytes an item stands for: its own, or, for a reference, those of the
 * block it names (what a consumer holds when it fetches it ahead).
 */
export function storedWeight(item: Uint8Array): number {
  return isStoredRef(item) ? u32(item, 8) : item.byteLength;
}

/** A ring this realm writes. */
class Ring {
  // randomKey(n) is n random bytes in hex: KEY_BYTES characters.
  readonly key = randomKey(KEY_BYTES / 2);
  #keyBytes = Uint8Array.from(this.key, (c) => c.charCodeAt(0));
  readonly path: string;
  #map: SharedMapping;
  #bytes: Uint8Array;
  /** Offsets of the blocks in use, oldest first (`#first` is the oldest's index). */
  #blocks: number[] = [];
  #first = 0;
  /** Where the next block goes; the oldest block in use starts at `#tail`. */
  #head = 0;
  #tail = 0;
  #gen = 0;

  constructor(dir: string) {
    this.path = `${dir}/items-${this.key}`;
    this.#map = mapShared(this.path, RING_BYTES);
    this.#bytes = new Uint8Array(this.#map.words.buffer, this.#map.words.byteOffset, RING_BYTES);
  }

  /** Takes back the space of the oldest blocks that consumers have freed. */
  #reclaim(): void {
    const words = this.#map.words;
    const blocks = this.#blocks;
    while (
      this.#first < blocks.length && Atomics.load(words, (blocks[this.#first] >> 2) + 1) === 0
    ) {
      this.#first++;
    }
    if (this.#first === blocks.length) {
      this.#blocks = [];
      this.#first = this.#head = this.#tail = 0;
    } else {
      if (this.#first > 1024 && this.#first * 2 > blocks.length) {
        this.#blocks = blocks.slice(this.#first);
        this.#first = 0;
      }
      this.#tail = this.#blocks[this.#first];
    }
  }

  /** The bytes its blocks in use span, after taking back what was freed. */
  inUse(): number {
    this.#reclaim();
    if (this.#first === this.#blocks.length) return 0;
    return this.#head > this.#tail ? this.#head - this.#tail : RING_BYTES - this.#tail + this.#head;
  }

  /** The blocks still in use, as `[offset, generation]` pairs. */
  inUseBlocks(): [number, number][] {
    this.#reclaim();
    const words = this.#map.words;
    const left: [number, number][] = [];
    for (let i = this.#first; i < this.#blocks.length; i++) {
      const gen = Atomics.load(words, (this.#blocks[i] >> 2) + 1);
      if (gen !== 0) left.push([this.#blocks[i], gen]);
    }
    return left;
  }

  /**
   * A new block of `n` bytes: its place and its reference, or `undefined` if
   * it does not fit. Its bytes are the caller's to write before the
   * reference leaves this realm.
   */
  reserve(n: number): Placed | undefined {
    this.#reclaim();
    const need = HEADER + ((n + 7) & ~7);
    let at: number;
    if (this.#head >= this.#tail) {
      // In use: [tail, head). Free: after head, and before tail once wrapped.
      if (this.#head + need <= RING_BYTES) at = this.#head;
      else if (need < this.#tail) at = 0;
      else return undefined;
    } else if (this.#head + need < this.#tail) at = this.#head;
    else return undefined;
    const gen = this.#gen = this.#gen >= 0x7fffffff ? 1 : this.#gen + 1;
    const words = this.#map.words;
    words[at >> 2] = n;
    Atomics.store(words, (at >> 2) + 1, gen);
    this.#head = at + need;
    this.#blocks.push(at);
    if (this.#first === this.#blocks.length - 1) this.#tail = at;
    const ref = new Uint8Array(REF_BYTES);
    ref[0] = REF_TAG;
    setU32(ref, 4, at);
    setU32(ref, 8, n);
    setU32(ref, 12, gen);
    ref.set(this.#keyBytes, 16);
    return { ring: this, at, gen, ref, bytes: this.#bytes.subarray(at + HEADER, at + HEADER + n) };
  }

  /** Frees a block this realm reserved and that nobody will read (if it still holds `gen`). */
  release(at: number, gen: number): void {
    Atomics.compareExchange(this.#map.words, (at >> 2) + 1, gen, 0);
  }

  /** Removes the file (its blocks are all free: nobody will read it). */
  remove(): void {
    removeTree(this.path);
  }
}

/** A block reserved in a ring: where it is, its reference, and its bytes to write. */
interface Placed {
  ring: Ring;
  at: number;
  gen: number;
  ref: Uint8Array;
  bytes: Uint8Array;
}

/** A producer's flow control (see {@linkcode storeBacklog}). */
interface Flow {
  /** When the ring written into went over half full (0: it is not). */
  since: number;
  /** Milliseconds waited since then. */
  waited: number;
  /** No more waiting until the ring is down to a quarter. */
  stalled: boolean;
  /** The wait under way. */
  wait: Promise<void> | undefined;
}

/** The rings this realm writes into, per hub folder, and its flow control. */
const writing = new Map<string, { rings: Ring[]; current: number; flow: Flow }>();
/** Set once a ring could not be made here (no permission, no space): everything goes inline. */
let cannotStore = false;

/** A block of `n` bytes in one of this realm's rings in `dir`, or `undefined` if all are full. */
function reserve(n: number, dir: string): Placed | undefined {
  let set = writing.get(dir);
  if (set === undefined) {
    const flow = { since: 0, waited: 0, stalled: false, wait: undefined };
    writing.set(dir, set = { rings: [], current: 0, flow });
  }
  const { rings } = set;
  for (let i = 0; i < rings.length; i++) {
    const index = (set.current + i) % rings.length;
    const placed = rings[index].reserve(n);
    if (placed !== undefined) {
      set.current = index;
      return placed;
    }
  }
  if (rings.length >= MAX_RINGS || n + HEADER > RING_BYTES) return undefined;
  let ring: Ring;
  try {
    ring = new Ring(dir);
  } catch {
    cannotStore = true;
    return undefined;
  }
  rings.push(ring);
  set.current = rings.length - 1;
  return ring.reserve(n);
}

/**
 * Encodes a queue item with `encode` and, when it is large and this realm
 * can, keeps its bytes in a ring of this realm in the hub's folder `dir`:
 * written there by the encoder itself (no copy in between), and returns the
 * reference that travels instead. Otherwise returns the encoded bytes.
 */
export function encodeStored(encode: () => Uint8Array, dir: string): Uint8Array {
  if (cannotStore) return encode();
  const item: Placing = placing = { dir, asked: false, placed: undefined };
  let bytes: Uint8Array;
  try {
    bytes = placeResults(place, encode);
  } catch (error) {
    item.placed?.ring.release(item.placed.at, item.placed.gen);
    throw error;
  } finally {
    placing = undefined;
  }
  const { placed, asked } = item;
  if (placed !== undefined) {
    if (bytes.buffer === placed.bytes.buffer && bytes.byteOffset === placed.bytes.byteOffset) {
      return placed.ref;
    }
    placed.ring.release(placed.at, placed.gen);
  }
  if (bytes.length < STORE_MIN || asked || !canMapShared()) return bytes;
  // Written into a grown buffer of the encoder's own (a long string): copied in.
  const copy = reserve(bytes.length, dir);
  if (copy === undefined) return bytes;
  copy.bytes.set(bytes);
  return copy.ref;
}

/** An item {@linkcode encodeStored} encodes: its hub's folder, and the block asked for. */
interface Placing {
  dir: string;
  asked: boolean;
  placed: Placed | undefined;
}

/** The item being encoded (see {@linkcode place}). */
let placing: Placing | undefined;

/**
 * Room in a ring for the encoder's result of `n` bytes (see
 * `placeResults`): asked once per item, for a large one (a small one never
 * loads the library that maps memory).
 */
function place(n: number): Uint8Array | undefined {
  const item = placing;
  if (item === undefined || item.asked || n < STORE_MIN) return undefined;
  item.asked = true;
  if (!canMapShared()) return undefined;
  item.placed = reserve(n, item.dir);
  return item.placed?.bytes;
}

/** Flow control of a producer's large items: the longest one wait for room lasts. */
const FLOW_WAIT_MS = 100;
/** The shortest stretch over which a producer's share of time spent waiting is judged. */
const FLOW_WINDOW_MS = 1000;
/** The share of its time a producer may spend waiting for its consumers, over such a stretch. */
const FLOW_SHARE = 0.75;

/**
 * Flow control for a producer ahead of its consumers: a Promise that
 * resolves once the ring this realm writes into in `dir` is at most half
 * full (or after {@linkcode FLOW_WAIT_MS}); `undefined` when there is no
 * need to wait. A put that waits on it keeps a burst of large items in
 * shared memory, where consumers read them, rather than overflowing into
 * the hub, as long as its consumers keep up: once the producer has spent
 * more than {@linkcode FLOW_SHARE} of its time waiting over
 * {@linkcode FLOW_WINDOW_MS} or more, or one wait found no room, it stops
 * waiting (its items go into other rings, then inline) until the ring is
 * down to a quarter, so that a slow consumer does not set the pace of an
 * unbounded queue's producer for longer than about that.
 */
export function storeBacklog(dir: string): Promise<void> | undefined {
  const set = writing.get(dir);
  if (set === undefined) return undefined;
  const used = set.rings[set.current].inUse();
  const flow = set.flow;
  if (used <= RING_BYTES / 4) {
    flow.since = flow.waited = 0;
    flow.stalled = false;
  }
  if (used <= RING_BYTES / 2 || flow.stalled) return undefined;
  const now = performance.now();
  if (flow.since === 0) flow.since = now;
  else if (now - flow.since >= FLOW_WINDOW_MS && flow.waited > (now - flow.since) * FLOW_SHARE) {
    flow.stalled = true;
    return undefined;
  }
  const ring = set.rings[set.current];
  return flow.wait ??= new Promise((resolve) => {
    const look = () => {
      const full = ring.inUse() > RING_BYTES / 2;
      const waited = performance.now() - now;
      if (full && waited < FLOW_WAIT_MS) {
        setTimeout(look, 1);
        return;
      }
      flow.waited += waited;
      flow.stalled ||= full;
      flow.wait = undefined;
      resolve();
    };
    setTimeout(look, 1);
  });
}

/**
 * Frees the block of a reference this realm made that will never be read
 * (the put it was made for was refused).
 */
export function releaseStored(ref: Uint8Array): void {
  const key = latin1(ref.subarray(16, 16 + KEY_BYTES));
  for (const { rings } of writing.values()) {
    const ring = rings.find((r) => r.key === key);
    if (ring !== undefined) {
      ring.release(u32(ref, 4), u32(ref, 12));
      return;
    }
  }
}

/** Suffix of the note a realm leaves beside a ring whose items are not all read when it leaves. */
const LEFT = ".left";

/**
 * At a realm's clean exit: removes its rings whose blocks are all freed
 * (nobody will read them), and leaves a note beside each other one, the
 * blocks still in use, for {@linkcode sweepLeftRings} to remove it once its
 * consumers have freed them.
 */
export function leaveRings(): void {
  for (const { rings } of writing.values()) {
    for (const ring of rings) {
      const left = ring.inUseBlocks();
      if (left.length === 0) ring.remove();
      else {
        try {
          writeFileText(ring.path + LEFT, JSON.stringify(left));
        } catch {
          // The folder is going: so is the ring.
        }
      }
    }
  }
  writing.clear();
}

/**
 * Removes the rings in the hub's folder `dir` that realms gone left behind
 * (see {@linkcode leaveRings}) once their blocks are all freed. Run by the
 * hub when a client leaves, and again while it returns `true` (some are still
 * in use); a ring whose consumers never free it goes with the folder.
 */
export function sweepLeftRings(dir: string): boolean {
  let remaining = false;
  for (const name of listFiles(dir, "items-")) {
    if (!name.endsWith(LEFT)) continue;
    const note = `${dir}/${name}`;
    const path = note.slice(0, -LEFT.length);
    let blocks: [number, number][];
    try {
      blocks = JSON.parse(readFileText(note) ?? "[]");
    } catch {
      blocks = [];
    }
    let freed = true;
    if (blocks.length > 0 && canMapShared()) {
      const map = mapShared(path, RING_BYTES);
      freed = blocks.every(([at, gen]) => Atomics.load(map.words, (at >> 2) + 1) !== gen);
      map.unmap();
    }
    if (freed) {
      removeTree(path);
      removeTree(note);
    } else remaining = true;
  }
  return remaining;
}

/** A ring this realm reads: mapped once, unmapped when it is the least recently used of many. */
class Reader {
  #map: SharedMapping | undefined;
  words!: Int32Array;
  bytes!: Uint8Array;

  constructor(readonly path: string, readonly dir: string, readonly key: Uint8Array) {
    this.#mapNow();
  }

  #mapNow(): void {
    this.#map = mapShared(this.path, RING_BYTES);
    this.words = this.#map.words;
    this.bytes = new Uint8Array(this.words.buffer, this.words.byteOffset, RING_BYTES);
  }

  /** Frees the block whose state word is `state` (through the ring mapped again if it was unmapped). */
  free(state: number): void {
    const reader = this.#map !== undefined ? this : readerFor(this.path, this.dir, this.key);
    Atomics.store(reader.words, state, 0);
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
  return lastReader = readerFor(`${dir}/items-${latin1(key)}`, dir, key);
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
   * @param bytes The item's encoded bytes: a view of the ring, valid until {@linkcode StoredBlock.free}.
   */
  constructor(
    readonly reader: Reader,
    readonly state: number,
    readonly bytes: Uint8Array,
  ) {}

  /** Frees the block (the writer may reuse it); call once, after the last use of `bytes`. */
  free(): void {
    this.reader.free(this.state);
  }
}

/** The unsigned 32-bit little-endian number at `at` of `bytes`. */
function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16 | bytes[at + 3] << 24) >>> 0;
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
  return new StoredBlock(reader, state, reader.bytes.subarray(at + HEADER, at + HEADER + length));
}
