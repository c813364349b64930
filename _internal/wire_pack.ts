/**
 * Packing messages: the entry points that write a value with the writers of
 * `wire_writer.ts` and hand out its bytes ({@linkcode pack},
 * {@linkcode packWith}, {@linkcode packValueString}, {@linkcode packExact}),
 * in room from `wire_room.ts`, and the write buffers lent with messages and
 * given back ({@linkcode giveBack}).
 *
 * @module
 */

import { room } from "./wire_room.ts";
import {
  head,
  replaceBuffer,
  startAt,
  u8,
  type WireWriter,
  writeBuffer,
  writeBytes,
  writer,
  writeString,
  writeValue,
  writtenBytes,
} from "./wire_writer.ts";

/** A write buffer grown past this is given away with its message rather than kept. */
const KEEP_BYTES = 16 * 1024 * 1024;

/** Whether a message is being packed (none of the packers is reentrant). */
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
  later.push({ at: writtenBytes(), bytes: b });
}

/** The write buffer's first `pos` bytes with the deferred ones inserted, in {@linkcode room}. */
function assemble(): Uint8Array {
  const out = writeBuffer();
  const pos = writtenBytes();
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
  startAt(reserve);
  try {
    write(writer);
    const out = writeBuffer();
    const pos = writtenBytes();
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

/** A copy of the first `n` bytes written, in {@linkcode room}. */
function keep(n: number): Uint8Array {
  const out = writeBuffer();
  const result = room(n);
  if (n <= 64) {
    // By hand: cheaper than the view `set()` needs, for the small items that are most of them.
    for (let i = 0; i < n; i++) result[i] = out[i];
  } else result.set(out.subarray(0, n));
  return result;
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
  startAt(0);
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
  const out = writeBuffer();
  const pos = writtenBytes();
  if (out.length <= KEEP_BYTES) return keep(pos);
  const bytes = out.subarray(0, pos);
  replaceBuffer(undefined);
  return bytes;
}

/** After a failed write: a buffer grown past {@linkcode KEEP_BYTES} is not kept. */
function dropGrown(): void {
  if (writeBuffer().length > KEEP_BYTES) replaceBuffer(undefined);
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
 * Writes with `write`, which calls the writers (`writeValue`, `writeString`,
 * ... of `wire_writer.ts`, and `writeBytesLater`), and returns the bytes: like
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
  startAt(0);
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
