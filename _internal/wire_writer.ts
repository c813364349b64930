/**
 * The writer of the wire format (see `wire_format.ts`): one growing buffer
 * per thread, handed out by {@linkcode packWith} and {@linkcode pack}.
 *
 * @module
 */

import { uninitializedBytes } from "./runtime.ts";
import { EXT_UTF16, MAX_WIRE_DEPTH } from "./wire_format.ts";

const encoder = new TextEncoder();

/** The write buffer starts at, and goes back to after a large message, this size. */
const START_BYTES = 256 * 1024;
/** A write buffer grown past this is given away with its message rather than kept. */
const KEEP_BYTES = 16 * 1024 * 1024;

let out: Uint8Array = new Uint8Array(START_BYTES);
let view: DataView = new DataView(out.buffer);
let pos = 0;
let writing = false;
/**
 * Buffers lent with messages and given back (see {@linkcode packWith}'s
 * `lend`), smallest first. More than one: a hub has a reply in flight on
 * several connections at once (a consumer's batch, a producer's
 * acknowledgements), and with one spare the next reply was packed into a new
 * buffer grown again and again (measured: a hub spent 11–17% more CPU on 1
 * KiB and 64 KiB items, and faulted in up to three times the pages).
 */
const spares: Uint8Array[] = [];
/** Most buffers kept in {@linkcode spares}. */
const MAX_SPARES = 4;
/** A given-back buffer larger than this is kept only when no other is. */
const SPARE_BYTES = 2 * 1024 * 1024;

function grow(need: number): void {
  let size = out.length * 2;
  while (size < pos + need) size *= 2;
  const bigger = new Uint8Array(size);
  bigger.set(out.subarray(0, pos));
  out = bigger;
  view = new DataView(out.buffer);
}

/** Writes one byte (a MessagePack type byte: a fixint, `nil`, a boolean, a fixmap or fixarray header). */
export function u8(b: number): void {
  if (pos + 1 > out.length) grow(1);
  out[pos++] = b;
}

function head(tag: number, n: number, bytes: 1 | 2 | 4): void {
  if (pos + 5 > out.length) grow(5);
  out[pos++] = tag;
  if (bytes === 1) out[pos++] = n;
  else if (bytes === 2) {
    view.setUint16(pos, n);
    pos += 2;
  } else {
    view.setUint32(pos, n);
    pos += 4;
  }
}

/** Writes a number: an integer of up to 32 bits as such, any other as float64. */
export function writeNumber(n: number): void {
  if (Number.isInteger(n) && n >= -2147483648 && n <= 0xffffffff) {
    if (n >= 0) {
      if (n < 128) u8(n);
      else if (n < 0x100) head(0xcc, n, 1);
      else if (n < 0x10000) head(0xcd, n, 2);
      else head(0xce, n, 4);
    } else if (n >= -32) {
      u8(n & 0xff);
    } else {
      if (pos + 5 > out.length) grow(5);
      out[pos++] = 0xd2;
      view.setInt32(pos, n);
      pos += 4;
    }
    return;
  }
  if (pos + 9 > out.length) grow(9);
  out[pos++] = 0xcb;
  view.setFloat64(pos, n);
  pos += 8;
}

/** Where {@linkcode writeString} stores the result of the search that flattens a rope (unread). */
// deno-lint-ignore no-unused-vars
let flattened = -1;

/** Writes a string (UTF-8, or UTF-16 code units if it is not well-formed). */
export function writeString(s: string): void {
  const length = s.length;
  if (length < 32) {
    // Short strings, the common case: ASCII is copied by hand (faster than encodeInto's call).
    if (pos + 1 + length * 3 > out.length) grow(1 + length * 3);
    const start = pos;
    pos++;
    let i = 0;
    for (; i < length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      out[pos++] = c;
    }
    if (i === length) {
      out[start] = 0xa0 | length;
      return;
    }
    pos = start;
  }
  // A string built by concatenation is a rope in V8, which `encodeInto` flattens on a slow path
  // (about 0.9 µs for a rope of 1 KiB, against 0.12 for a flat one); searching it flattens it in
  // place much faster (0.3 µs), and costs next to nothing on a flat one-byte string. Its result is
  // stored so that the optimizing compiler does not drop the search (it did, as a bare statement).
  flattened = s.indexOf("\u0100");
  if (!s.isWellFormed()) {
    writeUtf16(s);
    return;
  }
  // The header is chosen by the most bytes the string can take, and holds the exact count.
  const most = length * 3;
  const headBytes = most < 0x100 ? 2 : most < 0x10000 ? 3 : 5;
  if (pos + headBytes + length > out.length) grow(headBytes + length);
  const start = pos;
  pos += headBytes;
  let rest = s;
  for (;;) {
    const { read, written } = encoder.encodeInto(rest, out.subarray(pos));
    pos += written;
    if (read === rest.length) break;
    rest = rest.substring(read);
    grow(Math.min(rest.length * 3, Math.max(rest.length + 16, out.length)));
  }
  const bytes = pos - start - headBytes;
  if (headBytes === 2) {
    out[start] = 0xd9;
    out[start + 1] = bytes;
  } else if (headBytes === 3) {
    out[start] = 0xda;
    view.setUint16(start + 1, bytes);
  } else {
    out[start] = 0xdb;
    view.setUint32(start + 1, bytes);
  }
}

function writeUtf16(s: string): void {
  const bytes = s.length * 2;
  head(0xc9, bytes, 4);
  u8(EXT_UTF16);
  if (pos + bytes > out.length) grow(bytes);
  for (let i = 0; i < s.length; i++) {
    view.setUint16(pos, s.charCodeAt(i), true);
    pos += 2;
  }
}

/** Writes bytes as a `bin`. */
function writeBytes(b: Uint8Array): void {
  const n = b.length;
  if (n < 0x100) head(0xc4, n, 1);
  else if (n < 0x10000) head(0xc5, n, 2);
  else head(0xc6, n, 4);
  if (pos + n > out.length) grow(n);
  out.set(b, pos);
  pos += n;
}

/** Writes the header of an array of `n` values (the values follow). */
export function arrayHeader(n: number): void {
  if (n < 16) u8(0x90 | n);
  else if (n < 0x10000) head(0xdc, n, 2);
  else head(0xdd, n, 4);
}

/** Writes the header of a map of `n` entries (each a string key, then its value). */
export function mapHeader(n: number): void {
  if (n < 16) u8(0x80 | n);
  else if (n < 0x10000) head(0xde, n, 2);
  else head(0xdf, n, 4);
}

/** Bytes at least this long are not copied into the write buffer by {@linkcode writeBytesLater}. */
const LATER_BYTES = 4096;

/** Bytes to insert at a position of the write buffer (see {@linkcode writeBytesLater}). */
let later: { at: number; bytes: Uint8Array }[] = [];
/** Whether {@linkcode writeBytesLater} may defer (inside {@linkcode packExact}). */
let deferring = false;

/**
 * Writes bytes as a `bin`, like any `Uint8Array` value, except that within
 * {@linkcode packExact} long ones are not copied into the write buffer but
 * straight into the result, once, when it is made (before `packExact`
 * returns, so a change to them afterwards changes nothing).
 */
export function writeBytesLater(b: Uint8Array): void {
  if (!deferring || b.length < LATER_BYTES) {
    writeBytes(b);
    return;
  }
  const n = b.length;
  if (n < 0x10000) head(0xc5, n, 2);
  else head(0xc6, n, 4);
  later.push({ at: pos, bytes: b });
}

/** The write buffer's first `pos` bytes with the deferred ones inserted, in {@linkcode room}. */
function assemble(): Uint8Array {
  let total = pos;
  for (const { bytes } of later) total += bytes.length;
  const result = room(total);
  let from = 0;
  let to = 0;
  for (const { at, bytes } of later) {
    result.set(out.subarray(from, at), to);
    to += at - from;
    result.set(bytes, to);
    to += bytes.length;
    from = at;
  }
  result.set(out.subarray(from, pos), to);
  return result;
}

/** The byte at `position` of what is being written (`position` from {@linkcode writtenBytes}). */
export function patchByte(position: number, b: number): void {
  out[position] = b;
}

/** How many bytes were written so far (deferred ones not counted). */
export function writtenBytes(): number {
  return pos;
}

const objectProto = Object.prototype;

/** Writes a value made of what {@linkcode pack} takes, `depth` levels deep. */
export function writeValue(v: unknown, depth: number): void {
  switch (typeof v) {
    case "string":
      writeString(v);
      return;
    case "number":
      writeNumber(v);
      return;
    case "boolean":
      u8(v ? 0xc3 : 0xc2);
      return;
    case "undefined":
      u8(0xc0);
      return;
    case "object":
      break;
    default:
      throw new TypeError(`Cannot write a ${typeof v} to the wire`);
  }
  if (v === null) {
    u8(0xc0);
    return;
  }
  if (depth > MAX_WIRE_DEPTH) throw new RangeError("Cannot write a value nested this deep");
  if (Array.isArray(v)) {
    const n = v.length;
    arrayHeader(n);
    for (let i = 0; i < n; i++) writeValue(v[i], depth + 1);
    return;
  }
  if (v instanceof Uint8Array) {
    writeBytes(v);
    return;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== objectProto && proto !== null) {
    throw new TypeError(`Cannot write a ${proto?.constructor?.name ?? "object"} to the wire`);
  }
  const o = v as Record<string, unknown>;
  let n = 0;
  for (const key in o) if (o[key] !== undefined) n++;
  mapHeader(n);
  for (const key in o) {
    const value = o[key];
    if (value === undefined) continue;
    writeString(key);
    writeValue(value, depth + 1);
  }
}

/**
 * Writes values with `write` into this thread's write buffer, after
 * `reserve` bytes left for the caller (e.g. a frame header), and returns the
 * bytes written, `reserve` included. Not reentrant: `write` must not call it.
 *
 * @param reserve Bytes at the start left for the caller to fill in.
 * @param write Writes with the {@linkcode WireWriter} it is given.
 * @param result `"copy"`: a copy in a buffer of its own. `"lend"`: the
 *   write buffer itself (no copy): the caller gives it back with
 *   {@linkcode giveBack} once it is done with the bytes (a frame, once
 *   written), and meanwhile another buffer is used. `"share"`: a copy that,
 *   when small, is a view into a block shared with other results (see
 *   {@linkcode pack}).
 * @returns The written bytes.
 */
export function packWith(
  reserve: number,
  write: (w: WireWriter) => void,
  result: "copy" | "lend" | "share" = "copy",
): Uint8Array {
  if (writing) throw new Error("packWith is not reentrant");
  writing = true;
  pos = reserve;
  if (out.length < reserve) grow(reserve);
  try {
    write(writer);
    if (result !== "lend" && out.length <= KEEP_BYTES) {
      return result === "share" ? keep(pos) : out.slice(0, pos);
    }
    const bytes = out.subarray(0, pos);
    replaceBuffer(spares.pop());
    return bytes;
  } catch (error) {
    dropGrown();
    throw error;
  } finally {
    writing = false;
  }
}

/** Results of {@linkcode pack} up to an eighth of this size are carved from a shared block (see {@linkcode room}). */
const ARENA_BYTES = 256 * 1024;
let arena = new Uint8Array(ARENA_BYTES);
let arenaAt = 0;
/**
 * Larger results, up to a quarter of this size, are carved from blocks of
 * this size, whose bytes are not zeroed first where the runtime can skip it
 * (see {@linkcode room}).
 */
const LARGE_ARENA_BYTES = 1024 * 1024;
/** Made at the first large result. */
let largeArena = new Uint8Array(0);
let largeArenaAt = 0;

/**
 * Room for a result of `n` bytes. Up to a quarter of
 * {@linkcode LARGE_ARENA_BYTES}, it is carved from a block shared by many
 * results, so it is a view that may not start at its buffer's beginning,
 * nor span all of it: allocating an `ArrayBuffer` each costs more than
 * encoding a small item, and, for large ones (a 64 KiB typed array), a
 * fresh buffer for each result, beside the decoded copy's, made a round
 * trip on Node about twice as slow (glibc's allocator, its memory given
 * back and taken again). A large block is not zeroed on Node
 * (`uninitializedBytes`): each byte of it is written before it is handed out,
 * and zeroing a 1 MiB block cost as much as copying 64 KiB into it (a 64 KiB
 * array's round trip measured 8–18% faster). What the rest of a block
 * holds, seen through a result's `.buffer`, is other results and, beyond
 * them, this process's earlier memory, as a pooled `Buffer`'s `.buffer` is.
 */
function room(n: number): Uint8Array {
  if (placer !== undefined) {
    const placed = placer(n);
    if (placed !== undefined) return placed;
  }
  if (n <= ARENA_BYTES / 8) {
    if (arenaAt + n > ARENA_BYTES) {
      arena = new Uint8Array(ARENA_BYTES);
      arenaAt = 0;
    }
    arenaAt += n;
    return arena.subarray(arenaAt - n, arenaAt);
  }
  if (n > LARGE_ARENA_BYTES / 4) return new Uint8Array(n);
  if (largeArenaAt + n > largeArena.length) {
    largeArena = uninitializedBytes(LARGE_ARENA_BYTES);
    largeArenaAt = 0;
  }
  largeArenaAt += n;
  return largeArena.subarray(largeArenaAt - n, largeArenaAt);
}

/** Where results go while {@linkcode placeResults} runs, if it says (else {@linkcode room}'s blocks). */
let placer: ((n: number) => Uint8Array | undefined) | undefined;

/**
 * Runs `encode`, asking `place` for the room of each result made meanwhile
 * (by {@linkcode pack}, {@linkcode packWith} with `"share"`, and the like): it
 * returns a view of exactly `n` bytes for the result to be written into, or
 * `undefined` for the usual room. A result written into a buffer grown past
 * {@linkcode KEEP_BYTES} is that buffer, and never asks.
 *
 * @param place Room for a result of `n` bytes, or `undefined`.
 * @param encode The encoding.
 * @returns What `encode` returns.
 */
export function placeResults<T>(place: (n: number) => Uint8Array | undefined, encode: () => T): T {
  const saved = placer;
  placer = place;
  try {
    return encode();
  } finally {
    placer = saved;
  }
}

/** A copy of the first `n` bytes written, in {@linkcode room}. */
function keep(n: number): Uint8Array {
  const result = room(n);
  if (n <= 64) {
    // By hand: cheaper than the view `set()` needs, for the small items that are most of them.
    for (let i = 0; i < n; i++) result[i] = out[i];
  } else result.set(out.subarray(0, n));
  return result;
}

function replaceBuffer(next: Uint8Array | undefined): void {
  out = next ?? new Uint8Array(START_BYTES);
  view = new DataView(out.buffer);
}

/**
 * Gives back the buffer of bytes that {@linkcode packWith} lent (`"lend"`), to be used
 * again (the caller must not touch the bytes afterwards).
 *
 * @param bytes What `packWith(…, true)` returned.
 */
export function giveBack(bytes: Uint8Array): void {
  const buffer = bytes.buffer;
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength > KEEP_BYTES) return;
  if (buffer.byteLength > SPARE_BYTES && spares.length > 0) return;
  const given = new Uint8Array(buffer);
  let at = spares.length;
  while (at > 0 && spares[at - 1].length > given.length) at--;
  spares.splice(at, 0, given);
  // The smallest goes when there are too many.
  if (spares.length > MAX_SPARES) spares.shift();
}

/** What {@linkcode packWith} gives its callback to write with. */
export interface WireWriter {
  /** Writes one value. */
  value(v: unknown): void;
  /** Writes the header of an array of `n` values (the values follow). */
  arrayHeader(n: number): void;
  /** Bytes written so far (the reserve included). */
  readonly position: number;
  /** Goes back to `position` (forgetting what was written after it). */
  rewind(position: number): void;
  /** Writes a 32-bit array header at `position` (written as a placeholder before). */
  patchArrayHeader(position: number, n: number): void;
}

const writer: WireWriter = {
  value: (v) => writeValue(v, 0),
  arrayHeader(n) {
    head(0xdd, n, 4);
  },
  get position() {
    return pos;
  },
  rewind(position) {
    pos = position;
  },
  patchArrayHeader(position, n) {
    out[position] = 0xdd;
    view.setUint32(position + 1, n);
  },
};

/**
 * The MessagePack bytes of `value`.
 *
 * @param value Made of `null`, booleans, numbers, strings, arrays, plain objects and `Uint8Array`s.
 * @returns Bytes of its own (a result of up to 256 KiB is a view into a
 *   block shared with other results: copy it, e.g. with `slice()`, before
 *   posting it to another thread, which would copy the whole block).
 * @throws {TypeError} If `value` holds anything else.
 */
export function pack(value: unknown): Uint8Array {
  return packTop(value, false);
}

/**
 * {@linkcode pack}'s work without {@linkcode packWith}'s callback, on the
 * path every queue item or value takes: `value` itself, or, if
 * `valueString`, `{ v: value }` of a string without making that object.
 */
function packTop(value: unknown, valueString: boolean): Uint8Array {
  if (writing) throw new Error("pack is not reentrant");
  writing = true;
  pos = 0;
  try {
    if (valueString) {
      u8(0x81); // a map of one entry
      u8(0xa1); // its key, a string of one character:
      u8(0x76); // "v"
      writeString(value as string);
    } else {
      writeValue(value, 0);
    }
    return written();
  } catch (error) {
    dropGrown();
    throw error;
  } finally {
    writing = false;
  }
}

/**
 * The bytes written: a copy in {@linkcode room}, or, from a buffer grown
 * past {@linkcode KEEP_BYTES}, that buffer itself (a new one takes its place).
 */
function written(): Uint8Array {
  if (out.length <= KEEP_BYTES) return keep(pos);
  const bytes = out.subarray(0, pos);
  replaceBuffer(undefined);
  return bytes;
}

/** After a failed write: a buffer grown past {@linkcode KEEP_BYTES} is not kept. */
function dropGrown(): void {
  if (out.length > KEEP_BYTES) replaceBuffer(undefined);
}

/** Longest string {@linkcode packValueString} writes by hand (a MessagePack fixstr). */
const SHORT_STRING = 31;

/**
 * The bytes of `{ v: s }` (the codec's form of a string, most queue items):
 * the same bytes {@linkcode pack} writes, without its object and its walk (a
 * short ASCII string is written by hand straight into its room, without the
 * copy either).
 *
 * @param s The string.
 * @returns The bytes.
 */
export function packValueString(s: string): Uint8Array {
  const n = s.length;
  // A long or non-ASCII string goes through the write buffer.
  if (n > SHORT_STRING || !isAscii(s, n)) return packTop(s, true);
  const bytes = room(n + 4);
  bytes[0] = 0x81; // a map of one entry
  bytes[1] = 0xa1; // its key, a string of one character:
  bytes[2] = 0x76; // "v"
  bytes[3] = 0xa0 | n; // the value, a string of n bytes
  for (let i = 0; i < n; i++) bytes[4 + i] = s.charCodeAt(i);
  return bytes;
}

function isAscii(s: string, n: number): boolean {
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * Writes with `write`, which calls this module's writers (`writeValue`,
 * `writeString`, `writeBytesLater`, ...), and returns the bytes: like
 * {@linkcode pack}'s result (small ones are views into a shared block), but
 * long bytes written with {@linkcode writeBytesLater} are copied once,
 * straight into the result. Not reentrant.
 *
 * @param write Writes the value.
 * @returns The written bytes.
 */
export function packExact(write: () => void): Uint8Array {
  if (writing) throw new Error("packExact is not reentrant");
  writing = true;
  deferring = true;
  pos = 0;
  try {
    write();
    if (later.length > 0) return assemble();
    return written();
  } catch (error) {
    dropGrown();
    throw error;
  } finally {
    if (later.length > 0) later = [];
    deferring = false;
    writing = false;
  }
}
