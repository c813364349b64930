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
 * **A ring** is a file of `RING_BYTES` of blocks (sparse: pages exist once
 * written) and a page holding the count of blocks in use, named
 * `items-<key>` in the hub's folder, so it lasts as long as the queue can (a
 * producer that exits leaves its items readable). Only the realm (process
 * or thread) that made it writes blocks into it, in order, wrapping around;
 * a block is an 8-byte header (the payload's length, then its state: the
 * block's generation while in use, 0 once freed) and the payload. Consumers
 * free blocks in any order; the writer reuses space from its oldest block
 * on, once that one is freed.
 *
 * **When a ring goes**: its writer holds an exclusive `flock` on it for as
 * long as it may write (made under another name, locked, then renamed, so
 * nobody sees it unlocked), which the kernel releases when the writer dies,
 * however it dies. A ring that nobody holds and whose count of blocks in
 * use is 0 will never be read again: the hub removes it (see
 * {@linkcode sweepRings}), and a writer leaving cleanly removes its own
 * rings that are all freed at once. Any other ring goes with the folder.
 *
 * **When a block is freed**: only once the hub has recorded that the item
 * was used. Until then the hub may hand the reference to another consumer
 * (the first one died, or gave the item back), which must find the bytes;
 * after it, nobody will ask. A consumer that dies between the two leaves its
 * block in use: that ring stops at it, and the writer goes on in another
 * (at most {@linkcode MAX_RINGS}, then inline).
 *
 * This file is the writing side; `item_reader.ts` is the reading side, and
 * `stored_ref.ts` the reference and the rings' layout they share.
 *
 * @module
 */

import {
  canMapShared,
  listFiles,
  mapShared,
  openShared,
  randomKey,
  removeTree,
  renameFile,
  type SharedFile,
  type SharedMapping,
} from "./runtime.ts";
import {
  HEADER,
  IN_USE_WORD,
  KEY_BYTES,
  latin1,
  REF_BYTES,
  REF_TAG,
  RING_BYTES,
  RING_FILE_BYTES,
  ringPath,
  setU32,
  u32,
} from "./stored_ref.ts";
import { placeResults } from "./wire.ts";
import { blockRoom } from "./wire_room.ts";

/**
 * Items (encoded) this long or longer go into a ring, shorter ones inline.
 * Measured with strings of each size (300k items, 1 producer -> 1 consumer
 * process, alternating runs): through the rings 512-byte items moved 7–12%
 * fewer items per second than inline, 768-byte ones 8–26% more, 1 KiB ones
 * 35% more and 2 KiB ones 38% more (the hub handles a 24-byte reference
 * instead of the bytes, which skip its copies and four socket copies).
 */
export const STORE_MIN = 768;
/** Most rings one realm writes per hub at a time; with all full, items go inline. */
export const MAX_RINGS = 4;

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
    this.path = ringPath(dir, this.key);
    // Made, mapped and locked (the lock says its writer is alive) under another name: under its
    // own, it is never seen unlocked.
    const making = `${this.path}${MAKING}`;
    try {
      this.#map = mapShared(making, RING_FILE_BYTES, { lock: true });
      try {
        renameFile(making, this.path);
      } catch (error) {
        this.#map.unmap();
        throw error;
      }
    } catch (error) {
      removeTree(making);
      throw error;
    }
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
    Atomics.add(words, IN_USE_WORD, 1);
    words[at >> 2] = n;
    Atomics.store(words, (at >> 2) + 1, gen);
    this.#head = at + need;
    this.#blocks.push(at);
    if (this.#first === this.#blocks.length - 1) this.#tail = at;
    // Carved from a block shared with other results, as an encoded item's bytes are: an
    // ArrayBuffer of its own per reference cost more than all the rest of storing a 1 KiB item
    // (the 1 KiB case moved about 30% fewer items per second through the rings that way).
    const ref = blockRoom(REF_BYTES);
    ref[0] = REF_TAG;
    ref[1] = ref[2] = ref[3] = 0;
    setU32(ref, 4, at);
    setU32(ref, 8, n);
    setU32(ref, 12, gen);
    ref.set(this.#keyBytes, 16);
    return { ring: this, at, gen, ref, bytes: this.#bytes.subarray(at + HEADER, at + HEADER + n) };
  }

  /** Frees a block this realm reserved and that nobody will read (if it still holds `gen`). */
  release(at: number, gen: number): void {
    const words = this.#map.words;
    if (Atomics.compareExchange(words, (at >> 2) + 1, gen, 0) === gen) {
      Atomics.sub(words, IN_USE_WORD, 1);
    }
  }

  /**
   * This realm stops writing it: removed if its blocks are all freed (nobody
   * will read it), else left to the hub's sweep once they are.
   */
  leave(): void {
    if (Atomics.load(this.#map.words, IN_USE_WORD) === 0) removeTree(this.path);
    this.#map.unmap();
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
/** Hub folders where a ring could not be made (no permission, no space, gone): all inline. */
const cannotStore = new Set<string>();

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
    cannotStore.add(dir);
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
  if (cannotStore.has(dir)) return encode();
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

/** The suffix of a ring's file while it is made (see the `Ring` constructor). */
const MAKING = ".making";
/** The length of a ring file's name: `items-` and its key (anything else in the folder is not one). */
const RING_NAME_LENGTH = "items-".length + KEY_BYTES;

/**
 * At a realm's clean exit: it stops writing its rings; those whose blocks
 * are all freed go at once, the others once {@linkcode sweepRings} finds
 * them freed.
 */
export function leaveRings(): void {
  for (const { rings } of writing.values()) for (const ring of rings) ring.leave();
  writing.clear();
}

/**
 * Removes the rings in the hub's folder `dir` that no writer holds any more
 * (it left, or died) once their blocks are all freed: nobody will read them
 * again. Run by the hub when a client leaves, and again while it returns
 * `true` (some are still in use); a ring whose consumers never free it goes
 * with the folder.
 */
export function sweepRings(dir: string): boolean {
  let remaining = false;
  const count = new Uint8Array(4);
  for (const name of listFiles(dir, "items-")) {
    if (name.length !== RING_NAME_LENGTH) continue;
    const path = `${dir}/${name}`;
    let file: SharedFile;
    try {
      file = openShared(path);
    } catch {
      continue; // Gone meanwhile.
    }
    try {
      if (!file.tryLock()) continue; // Its writer is alive.
      file.read(IN_USE_WORD * 4, count);
      if (u32(count, 0) === 0) removeTree(path);
      else remaining = true;
    } finally {
      file.close();
    }
  }
  return remaining;
}
