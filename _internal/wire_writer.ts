/**
 * The writers of the wire format (see `wire_format.ts`): one growing buffer
 * per thread, and the functions that write values into it. What makes a
 * message of what they wrote is `wire_pack.ts`; they are apart so that these
 * writers, which every value passes through byte by byte, keep the buffer to
 * themselves, and the packer reaches it only through the few functions at the
 * end of this file.
 *
 * @module
 */

import { EXT_UTF16, MAX_WIRE_DEPTH } from "./wire_format.ts";

const encoder = new TextEncoder();

/** The write buffer starts at, and goes back to after a large message, this size. */
const START_BYTES = 256 * 1024;

let out: Uint8Array = new Uint8Array(START_BYTES);
let view: DataView = new DataView(out.buffer);
let pos = 0;

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

/** Writes a type byte `tag`, then `n` in `bytes` bytes (big-endian). */
export function head(tag: number, n: number, bytes: 1 | 2 | 4): void {
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
export function writeBytes(b: Uint8Array): void {
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
/** The byte at `position` of what is being written (`position` from {@linkcode writtenBytes}). */
export function patchByte(position: number, b: number): void {
  out[position] = b;
}

/** How many bytes were written so far (deferred ones not counted). */
export function writtenBytes(): number {
  return pos;
}

const objectProto = Object.prototype;

/** Writes a value made of what `pack` (`wire_pack.ts`) takes, `depth` levels deep. */
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
 * Starts a message: what is written goes from byte `at` on (the bytes before
 * it are left to the caller).
 */
export function startAt(at: number): void {
  pos = at;
  if (out.length < at) grow(at);
}

/** The write buffer itself: its first {@linkcode writtenBytes} bytes are what was written. */
export function writeBuffer(): Uint8Array {
  return out;
}

/** Puts `next` (or a new buffer) in the place of the write buffer, which goes with the bytes it holds. */
export function replaceBuffer(next: Uint8Array | undefined): void {
  out = next ?? new Uint8Array(START_BYTES);
  view = new DataView(out.buffer);
}

/** What `packWith` (`wire_pack.ts`) gives its callback to write with. */
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

/** The {@linkcode WireWriter} of this thread's write buffer. */
export const writer: WireWriter = {
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
