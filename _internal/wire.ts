/**
 * The byte format of every message that crosses a socket or pipe: a subset
 * of MessagePack (https://msgpack.org), written and read here.
 *
 * Why not JSON: the values that cross carry binary data (the bytes of a
 * typed array, or a queue item already encoded, see `codec.ts`), which JSON
 * can only carry as base64 (a third bigger, and slow both ways), and strings,
 * which JSON escapes and unescapes, once per hop. Here a string is its UTF-8
 * bytes behind a length, bytes are bytes behind a length, and a reader never
 * scans for a delimiter. Why MessagePack: it is the smallest well-known
 * format with a type for bytes, so a frame can be read by other tools.
 *
 * What is written: `null`, booleans, numbers (integers of up to 32 bits as
 * such, others as float64), strings, arrays, plain objects (string keys;
 * properties whose value is `undefined` are left out, and `undefined` in an
 * array becomes `null`, as in JSON) and `Uint8Array`s (MessagePack's `bin`).
 * A string that is not well-formed UTF-16 (a lone surrogate, which UTF-8
 * cannot carry) is written as extension type 1, its UTF-16 code units, so
 * every string arrives exactly as it was. Anything else is refused with a
 * `TypeError`: the values that reach this module were built for it (see
 * `protocol.ts` and `codec.ts`).
 *
 * The reader is given bytes from a peer that may be hostile or broken: it
 * checks every length against what it has, refuses types it does not write
 * and nesting deeper than {@linkcode MAX_WIRE_DEPTH}, and never evaluates
 * anything. The `bin` values it returns are copies (the frame they came in
 * may be a reused read buffer).
 *
 * @module
 */

/** Deepest nesting the reader accepts (the codec refuses values nested deeper than 1000 levels). */
export const MAX_WIRE_DEPTH = 1100;

/** Extension type of a string that is not well-formed UTF-16, as little-endian code units. */
const EXT_UTF16 = 1;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// ---------------------------------------------------------------------------
// Writing: into one growing buffer per thread (this module's state), handed
// out by `packWith`, so a message costs no allocation but its result.

/** The write buffer starts at, and goes back to after a large message, this size. */
const START_BYTES = 256 * 1024;
/** A write buffer grown past this is given away with its message rather than kept. */
const KEEP_BYTES = 16 * 1024 * 1024;

let out: Uint8Array = new Uint8Array(START_BYTES);
let view: DataView = new DataView(out.buffer);
let pos = 0;
let writing = false;
/** A buffer lent with a message and given back (see {@linkcode packWith}'s `lend`). */
let spare: Uint8Array | undefined;

function grow(need: number): void {
  let size = out.length * 2;
  while (size < pos + need) size *= 2;
  const bigger = new Uint8Array(size);
  bigger.set(out.subarray(0, pos));
  out = bigger;
  view = new DataView(out.buffer);
}

function u8(b: number): void {
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

function writeNumber(n: number): void {
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

function writeString(s: string): void {
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

function writeBytes(b: Uint8Array): void {
  const n = b.length;
  if (n < 0x100) head(0xc4, n, 1);
  else if (n < 0x10000) head(0xc5, n, 2);
  else head(0xc6, n, 4);
  if (pos + n > out.length) grow(n);
  out.set(b, pos);
  pos += n;
}

const objectProto = Object.prototype;

/**
 * A value written as the `bin` of its own MessagePack bytes, straight into
 * the message that carries it: how a queue item travels to the hub, which
 * reads it back as bytes it never decodes. Writing it in place saves making
 * the bytes first and copying them in.
 *
 * @example
 * ```ts ignore
 * const item = new Packed({ v: "hello" }, 5);
 * unpack(unpack(pack([item]))[0]); // { v: "hello" }
 * ```
 */
export class Packed {
  /** The value (made of what {@linkcode pack} takes; not changed until written). */
  readonly value: unknown;
  /** About how many bytes it takes (for batch budgets). */
  readonly weight: number;

  constructor(value: unknown, weight: number) {
    this.value = value;
    this.weight = weight;
  }
}

function writeValue(v: unknown, depth: number): void {
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
    if (n < 16) u8(0x90 | n);
    else if (n < 0x10000) head(0xdc, n, 2);
    else head(0xdd, n, 4);
    for (let i = 0; i < n; i++) writeValue(v[i], depth + 1);
    return;
  }
  if (v instanceof Uint8Array) {
    writeBytes(v);
    return;
  }
  if (v instanceof Packed) {
    head(0xc6, 0, 4);
    const start = pos;
    writeValue(v.value, 0);
    view.setUint32(start - 4, pos - start);
    return;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== objectProto && proto !== null) {
    throw new TypeError(`Cannot write a ${proto?.constructor?.name ?? "object"} to the wire`);
  }
  const o = v as Record<string, unknown>;
  let n = 0;
  for (const key in o) if (o[key] !== undefined) n++;
  if (n < 16) u8(0x80 | n);
  else if (n < 0x10000) head(0xde, n, 2);
  else head(0xdf, n, 4);
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
    replaceBuffer(spare);
    spare = undefined;
    return bytes;
  } catch (error) {
    if (out.length > KEEP_BYTES) replaceBuffer(undefined);
    throw error;
  } finally {
    writing = false;
  }
}

/** Results of {@linkcode pack} up to this size are carved from a shared block (see {@linkcode keep}). */
const ARENA_BYTES = 256 * 1024;
let arena = new Uint8Array(ARENA_BYTES);
let arenaAt = 0;

/**
 * A copy of the first `n` bytes written: small ones carved from a block
 * shared by many results (allocating an `ArrayBuffer` each costs more than
 * encoding a small item), so the result is a view that may not start at
 * its buffer's beginning, nor span all of it.
 */
function keep(n: number): Uint8Array {
  if (n > ARENA_BYTES / 8) return out.slice(0, n);
  if (arenaAt + n > ARENA_BYTES) {
    arena = new Uint8Array(ARENA_BYTES);
    arenaAt = 0;
  }
  const result = arena.subarray(arenaAt, arenaAt + n);
  if (n <= 64) {
    // By hand: cheaper than the view `set()` needs, for the small items that are most of them.
    for (let i = 0; i < n; i++) arena[arenaAt + i] = out[i];
  } else result.set(out.subarray(0, n));
  arenaAt += n;
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
  if (spare === undefined || spare.length < buffer.byteLength) spare = new Uint8Array(buffer);
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
 * @returns Bytes of its own (a small result is a view into a block shared
 *   with other results: copy it, e.g. with `slice()`, before posting it to
 *   another thread, which would copy the whole block).
 * @throws {TypeError} If `value` holds anything else.
 */
export function pack(value: unknown): Uint8Array {
  // packWith's work without its callback, on the path every small queue item or value takes.
  if (writing) throw new Error("pack is not reentrant");
  writing = true;
  pos = 0;
  try {
    writeValue(value, 0);
    if (out.length <= KEEP_BYTES) return keep(pos);
    const bytes = out.subarray(0, pos);
    replaceBuffer(undefined);
    return bytes;
  } catch (error) {
    if (out.length > KEEP_BYTES) replaceBuffer(undefined);
    throw error;
  } finally {
    writing = false;
  }
}

// ---------------------------------------------------------------------------
// Reading.

let src: Uint8Array = new Uint8Array(0);
/** A DataView of `src`, made only when a float64 or a UTF-16 string is read. */
let srcView: DataView | undefined;

function u16(at: number): number {
  return (src[at] << 8) | src[at + 1];
}

function u32(at: number): number {
  return ((src[at] << 24) >>> 0) + ((src[at + 1] << 16) | (src[at + 2] << 8) | src[at + 3]);
}

function dataView(): DataView {
  return srcView ??= new DataView(src.buffer, src.byteOffset, src.byteLength);
}
let at = 0;
let end = 0;

function malformed(what: string): Error {
  return new Error(`Cannot read message: ${what}`);
}

function need(n: number): void {
  if (at + n > end) throw malformed("it ends inside a value");
}

function readString(n: number): string {
  need(n);
  const start = at;
  at += n;
  if (n < 32) {
    let s = "";
    for (let i = start; i < at; i++) {
      const c = src[i];
      if (c >= 0x80) return decoder.decode(src.subarray(start, at));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decoder.decode(src.subarray(start, at));
}

/** Whether `bin` values are returned as views of the source (see {@linkcode unpack}). */
let views = false;

function readBytes(n: number): Uint8Array {
  need(n);
  const bytes = views ? src.subarray(at, at + n) : src.slice(at, at + n);
  at += n;
  return bytes;
}

function readArray(n: number, depth: number): unknown[] {
  // Each element takes at least one byte: a count beyond the bytes left is a lie.
  if (n > end - at) throw malformed("an array is longer than the message");
  const a = new Array(n);
  for (let i = 0; i < n; i++) a[i] = readValue(depth + 1);
  return a;
}

function readMap(n: number, depth: number): Record<string, unknown> {
  if (n * 2 > end - at) throw malformed("a map is longer than the message");
  const o: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const key = readValue(depth + 1);
    if (typeof key !== "string") throw malformed("a map key is not a string");
    const value = readValue(depth + 1);
    if (key === "__proto__") {
      Object.defineProperty(o, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else o[key] = value;
  }
  return o;
}

function readExt(n: number): string {
  need(1 + n);
  const type = src[at++];
  if (type !== EXT_UTF16 || n % 2 !== 0) throw malformed(`unknown extension type ${type}`);
  const units = new Array<number>(n / 2);
  for (let i = 0; i < units.length; i++) units[i] = src[at + i * 2] | (src[at + i * 2 + 1] << 8);
  at += n;
  let s = "";
  for (let i = 0; i < units.length; i += 8192) {
    s += String.fromCharCode(...units.slice(i, i + 8192));
  }
  return s;
}

function readValue(depth: number): unknown {
  if (depth > MAX_WIRE_DEPTH) throw malformed("it is nested too deep");
  need(1);
  const tag = src[at++];
  if (tag < 0x80) return tag;
  if (tag >= 0xe0) return tag - 0x100;
  if (tag >= 0xa0 && tag < 0xc0) return readString(tag & 0x1f);
  if (tag >= 0x90 && tag < 0xa0) return readArray(tag & 0x0f, depth);
  if (tag < 0x90) return readMap(tag & 0x0f, depth);
  let n: number;
  switch (tag) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xcc:
      need(1);
      return src[at++];
    case 0xcd:
      need(2);
      at += 2;
      return u16(at - 2);
    case 0xce:
      need(4);
      at += 4;
      return u32(at - 4);
    case 0xd2:
      need(4);
      at += 4;
      return u32(at - 4) | 0;
    case 0xcb:
      need(8);
      at += 8;
      return dataView().getFloat64(at - 8);
    case 0xd9:
      need(1);
      return readString(src[at++]);
    case 0xda:
      need(2);
      at += 2;
      return readString(u16(at - 2));
    case 0xdb:
      need(4);
      at += 4;
      return readString(u32(at - 4));
    case 0xc4:
      need(1);
      return readBytes(src[at++]);
    case 0xc5:
      need(2);
      at += 2;
      return readBytes(u16(at - 2));
    case 0xc6:
      need(4);
      at += 4;
      return readBytes(u32(at - 4));
    case 0xdc:
      need(2);
      at += 2;
      return readArray(u16(at - 2), depth);
    case 0xdd:
      need(4);
      at += 4;
      return readArray(u32(at - 4), depth);
    case 0xde:
      need(2);
      at += 2;
      return readMap(u16(at - 2), depth);
    case 0xdf:
      need(4);
      at += 4;
      return readMap(u32(at - 4), depth);
    case 0xc9:
      need(4);
      at += 4;
      n = u32(at - 4);
      return readExt(n);
    default:
      throw malformed(`unknown type byte 0x${tag.toString(16)}`);
  }
}

/**
 * Reads the one value `bytes` hold.
 *
 * @param bytes MessagePack bytes, as {@linkcode pack} writes them.
 * @param asViews Return `bin` values as views of `bytes` (which the caller
 *   then must not reuse), not copies: a frame's queue items cost no
 *   allocation each.
 * @returns The value.
 * @throws {Error} If the bytes are malformed, hold a type this module does
 * not write, are nested too deep, or hold more than one value.
 */
export function unpack(bytes: Uint8Array, asViews = false): unknown {
  // Reentrant (a caller may unpack an item while reading a message): the state is saved.
  const savedSrc = src, savedView = srcView, savedAt = at, savedEnd = end, savedViews = views;
  views = asViews;
  src = bytes;
  srcView = undefined;
  at = 0;
  end = bytes.length;
  try {
    const value = readValue(0);
    if (at !== end) throw malformed(`${end - at} bytes follow its value`);
    return value;
  } finally {
    src = savedSrc;
    srcView = savedView;
    at = savedAt;
    end = savedEnd;
    views = savedViews;
  }
}
