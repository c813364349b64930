// Copyright the multiproc authors. MIT license.
/**
 * The fast lane of a `Pipe()`'s direct connection (`queue/_direct.ts`): a
 * ring of messages in memory that the sending and the receiving process both
 * map, where shared memory can be mapped (`canMapShared`: Deno on Linux with
 * `--allow-ffi`). A message written there is visible to the receiver at once,
 * with no system call on either side; the socket stays, for what does not fit
 * and to wake a receiver that sleeps.
 *
 * - **One writer, one reader.** The receiving end makes the ring (a file in
 *   its private folder), maps it and sends its path on the socket; the
 *   sending end maps it and removes the file (the mapping stays).
 * - **Layout.** Three control words, each on its own cache line: `TAIL`,
 *   bytes published (the writer's), `HEAD`, bytes freed (the reader's), and
 *   `SLEEP`, set while the reader waits on the socket. Then
 *   {@linkcode RING_DATA} bytes of records `[length u32][seq u32] bytes`,
 *   8-byte aligned; a record that would cross the end is preceded by a wrap
 *   marker (length `0xffffffff`). Both counters run modulo 2³², of which
 *   the data size is a divisor.
 * - **Order.** Every message of a direct connection is numbered (`seq`, from
 *   0 at the connection's start). A message goes in the ring when it fits
 *   (at most {@linkcode RING_MAX_MESSAGE} bytes, and room left), else on the
 *   socket. The receiver takes the ring's next record when it carries the
 *   number it expects, else the socket's next message, which must be that
 *   one: each path keeps its own order, and the writer publishes a record
 *   before it writes anything later to the socket.
 * - **Waking.** A reader about to sleep sets `SLEEP`, then looks at `TAIL`
 *   once more; a writer publishes `TAIL`, then takes `SLEEP` back and, if it
 *   was set, writes an empty message on the socket. `Atomics` stores and
 *   loads are sequentially consistent, so one of the two sees the other's
 *   write. (The receiver also looks again on its own timer, so a wake-up
 *   lost anyway would cost milliseconds, not a message.)
 *
 * @module
 */

import { canMapShared, mapShared, randomKey, removeTree, type SharedMapping } from "./runtime.ts";

/** Bytes of records (a power of two: the counters wrap at 2³², a multiple of it). */
export const RING_DATA = 256 * 1024;
/** A message longer than this takes the socket. */
export const RING_MAX_MESSAGE = RING_DATA / 8;
/** Where the records start: after the control words' cache lines. */
const DATA_AT = 4096;
/** The control words, as indexes of 32-bit words, 64 bytes apart. */
const TAIL = 0;
const HEAD = 16;
const SLEEP = 32;
/** A record header's length field that means "the next record is at the start". */
const WRAP = 0xffffffff;
const MASK = RING_DATA - 1;

/** The bytes a record of `length` takes, header and padding included. */
function recordBytes(length: number): number {
  return (8 + length + 7) & ~7;
}

/** One mapping of a ring, as the reader and the writer both see it. */
class Mapped {
  readonly words: Int32Array;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  #map: SharedMapping | undefined;

  constructor(map: SharedMapping) {
    this.#map = map;
    this.words = map.words;
    const at = map.words.byteOffset + DATA_AT;
    this.bytes = new Uint8Array(map.words.buffer, at, RING_DATA);
    this.view = new DataView(map.words.buffer, at, RING_DATA);
  }

  /** Unmaps it; harmless twice. */
  unmap(): void {
    this.#map?.unmap();
    this.#map = undefined;
  }

  get mapped(): boolean {
    return this.#map !== undefined;
  }
}

/** The receiving side of a ring. */
export class RingReader {
  /** The ring's file, until the writer (or {@linkcode RingReader.close}) removes it. */
  readonly path: string;
  #m: Mapped;
  /** Bytes freed so far (the reader is `HEAD`'s only writer, so it keeps its own copy). */
  #head = 0;
  /** Whether a message ever came through the ring (only then is it worth watching). */
  used = false;

  constructor(path: string, m: Mapped) {
    this.path = path;
    this.#m = m;
  }

  /**
   * The offset of the next record, past a wrap marker, or -1 when the ring
   * is empty (or unmapped).
   */
  #at(): number {
    const m = this.#m;
    if (!m.mapped) return -1;
    const tail = Atomics.load(m.words, TAIL) >>> 0;
    if (tail === this.#head) return -1;
    let at = this.#head & MASK;
    if (m.view.getUint32(at, true) === WRAP) {
      this.#head = (this.#head + RING_DATA - at) >>> 0;
      Atomics.store(m.words, HEAD, this.#head | 0);
      if (tail === this.#head) return -1;
      at = 0;
    }
    return at;
  }

  /**
   * Whether a record is waiting: message `seq`, or whatever its number
   * without `seq` (a later one means the one expected is on the socket).
   */
  ready(seq?: number): boolean {
    const at = this.#at();
    return at >= 0 && (seq === undefined || this.#m.view.getUint32(at + 4, true) === (seq >>> 0));
  }

  /**
   * Takes the next record if it is message `seq` (or, with `any`, whatever
   * it is): a copy of its bytes, its room freed.
   */
  take(seq: number, any = false): Uint8Array | undefined {
    const at = this.#at();
    if (at < 0) return undefined;
    const { view, bytes, words } = this.#m;
    if (!any && view.getUint32(at + 4, true) !== (seq >>> 0)) return undefined;
    const length = view.getUint32(at, true);
    const message = bytes.slice(at + 8, at + 8 + length);
    this.#head = (this.#head + recordBytes(length)) >>> 0;
    Atomics.store(words, HEAD, this.#head | 0);
    this.used = true;
    return message;
  }

  /**
   * Says this reader is about to sleep until the socket wakes it: `false`
   * (and not sleeping) if message `seq` came meanwhile.
   */
  sleep(seq: number): boolean {
    if (!this.#m.mapped) return true;
    Atomics.store(this.#m.words, SLEEP, 1);
    if (!this.ready(seq)) return true;
    Atomics.store(this.#m.words, SLEEP, 0);
    return false;
  }

  /** Awake again (whatever woke it). */
  awake(): void {
    if (this.#m.mapped) Atomics.store(this.#m.words, SLEEP, 0);
  }

  /** Unmaps it and removes its file if the writer did not. */
  close(): void {
    this.#m.unmap();
    removeTree(this.path);
  }
}

/** The sending side of a ring. */
export class RingWriter {
  #m: Mapped;
  /** Bytes published so far (the writer is `TAIL`'s only writer). */
  #tail: number;

  constructor(m: Mapped) {
    this.#m = m;
    this.#tail = Atomics.load(m.words, TAIL) >>> 0;
  }

  /**
   * Writes message `seq` and publishes it; `false` (nothing written) if it is
   * too long or the ring has no room for it now.
   */
  write(message: Uint8Array, seq: number): boolean {
    const m = this.#m;
    if (!m.mapped || message.length > RING_MAX_MESSAGE) return false;
    const need = recordBytes(message.length);
    const used = (this.#tail - (Atomics.load(m.words, HEAD) >>> 0)) >>> 0;
    let tail = this.#tail;
    let at = tail & MASK;
    const toEnd = RING_DATA - at;
    if (toEnd < need) {
      // Records do not wrap: a marker, and the record at the start.
      if (used + toEnd + need > RING_DATA) return false;
      m.view.setUint32(at, WRAP, true);
      tail = (tail + toEnd) >>> 0;
      at = 0;
    } else if (used + need > RING_DATA) {
      return false;
    }
    m.view.setUint32(at, message.length, true);
    m.view.setUint32(at + 4, seq >>> 0, true);
    m.bytes.set(message, at + 8);
    this.#tail = (tail + need) >>> 0;
    Atomics.store(m.words, TAIL, this.#tail | 0);
    return true;
  }

  /** Whether the reader sleeps and must be woken on the socket (it is then no longer marked so). */
  takeSleeper(): boolean {
    return this.#m.mapped && Atomics.compareExchange(this.#m.words, SLEEP, 1, 0) === 1;
  }

  /** Unmaps it. */
  close(): void {
    this.#m.unmap();
  }
}

/** The name of a ring's file (in a private folder): see {@linkcode createRing}. */
const RING_NAME = /\/pipe-ring-[0-9a-f]{12}$/;

/**
 * Makes a ring in `dir` for a receiving end, or `undefined` where memory
 * cannot be mapped (or the file cannot be made): the socket then carries
 * everything.
 */
export function createRing(dir: string | undefined): RingReader | undefined {
  if (dir === undefined || !canMapShared()) return undefined;
  const path = `${dir}/pipe-ring-${randomKey(6)}`;
  try {
    return new RingReader(path, new Mapped(mapShared(path, DATA_AT + RING_DATA)));
  } catch {
    removeTree(path);
    return undefined;
  }
}

/**
 * Maps the ring a receiving end made, for its sender, and removes its file
 * (the mapping stays); `undefined` where this process cannot map it.
 */
export function openRing(path: string): RingWriter | undefined {
  // Only what createRing() names: the path comes from the other end, and the file is removed.
  if (!canMapShared() || !RING_NAME.test(path)) return undefined;
  try {
    // An existing file only: a ring already removed (the receiver gave up) is not made anew.
    const writer = new RingWriter(
      new Mapped(mapShared(path, DATA_AT + RING_DATA, { existing: true })),
    );
    removeTree(path);
    return writer;
  } catch {
    return undefined;
  }
}
