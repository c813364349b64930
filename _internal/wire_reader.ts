/**
 * The reader of the wire format (see `wire_format.ts`), for bytes from a
 * peer that may be hostile or broken: every length is checked against what
 * there is, unknown types and nesting deeper than {@linkcode MAX_WIRE_DEPTH}
 * are refused, nothing is evaluated.
 *
 * @module
 */

import { EXT_UTF16, MAX_WIRE_DEPTH } from "./wire_format.ts";

const decoder = new TextDecoder();

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

/**
 * Set while reading with {@linkcode unpackWith}'s `tags`: reads a map
 * whose first key is `"$t"` (a tagged node of the codec, see `codec.ts`),
 * once its tag is read, given the count of the map's other entries.
 */
let tagged: ((tag: string, entries: number, depth: number) => unknown) | undefined;
/** Set with {@linkcode tagged}: each array and map read is added, in reading order (the codec's object numbers). */
let refs: unknown[] | undefined;

function readArray(n: number, depth: number): unknown[] {
  // Each element takes at least one byte: a count beyond the bytes left is a lie.
  if (n > end - at) throw malformed("an array is longer than the message");
  const a = new Array(n);
  if (refs !== undefined) refs.push(a);
  for (let i = 0; i < n; i++) a[i] = readValue(depth + 1);
  return a;
}

function readMap(n: number, depth: number): Record<string, unknown> {
  if (n * 2 > end - at) throw malformed("a map is longer than the message");
  if (
    tagged !== undefined && n > 0 && src[at] === 0xa2 && src[at + 1] === 0x24 &&
    src[at + 2] === 0x74
  ) {
    at += 3; // The fixstr "$t".
    const tag = readValue(depth + 1);
    if (typeof tag !== "string") throw malformed("a tag is not a string");
    return tagged(tag, n - 1, depth) as Record<string, unknown>;
  }
  const o: Record<string, unknown> = {};
  if (refs !== undefined) refs.push(o);
  for (let i = 0; i < n; i++) {
    const key = readMapKey(depth + 1);
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

/** Entries of {@linkcode keyCache}, a power of 2. */
const KEY_CACHE_SIZE = 1024;
/**
 * Short ASCII map keys read before, by a hash of their bytes: the same keys
 * come again and again (every item of a queue has the same fields), and a
 * key seen before is found faster than it is made, and is already the
 * internalized string that a property store wants.
 */
const keyCache: (string | undefined)[] = new Array(KEY_CACHE_SIZE).fill(undefined);

/** Reads a map key: a string, found in {@linkcode keyCache} when it is short and ASCII. */
function readMapKey(depth: number): string {
  const tag = src[at];
  const n = tag - 0xa0;
  // A fixstr of 1 to 16 bytes, all of them in the message.
  if (n > 0 && n <= 16 && at + 1 + n <= end) {
    const start = at + 1;
    let h = n;
    for (let i = start; i < start + n; i++) {
      const c = src[i];
      if (c >= 0x80) return readKeyValue(depth);
      h = (h * 31 + c) | 0;
    }
    const slot = h & (KEY_CACHE_SIZE - 1);
    const cached = keyCache[slot];
    if (cached !== undefined && cached.length === n) {
      let i = 0;
      while (i < n && cached.charCodeAt(i) === src[start + i]) i++;
      if (i === n) {
        at = start + n;
        return cached;
      }
    }
    const key = readKeyValue(depth);
    keyCache[slot] = key;
    return key;
  }
  return readKeyValue(depth);
}

function readKeyValue(depth: number): string {
  const key = readValue(depth);
  if (typeof key !== "string") throw malformed("a map key is not a string");
  return key;
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

/** Reads the next value, `depth` levels deep (with {@linkcode unpackWith}'s `tags`, if it was given and is not paused by {@linkcode readPlain}). */
export function readValue(depth: number): unknown {
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
  return unpackWith(bytes, () => readValue(0), asViews);
}

/**
 * Reads `bytes` with `read`, which calls this module's readers
 * ({@linkcode readValue}, {@linkcode readMapHeader}, ...), and checks that
 * it read them all. Reentrant (a caller may unpack an item while reading a
 * message): the state is saved.
 *
 * @param bytes MessagePack bytes, as {@linkcode pack} writes them.
 * @param read Reads the value.
 * @param asViews Return `bin` values as views of `bytes`, not copies (see {@linkcode unpack}).
 * @param tags Reads the tagged nodes of the codec (see {@linkcode tagged}),
 *   which then numbers each array and map in `numbered`.
 * @returns What `read` returned.
 * @throws {Error} If the bytes are malformed, or more follow what `read` read.
 */
export function unpackWith<T>(
  bytes: Uint8Array,
  read: () => T,
  asViews = false,
  tags?: (tag: string, entries: number, depth: number) => unknown,
  numbered?: unknown[],
): T {
  const savedSrc = src, savedView = srcView, savedAt = at, savedEnd = end, savedViews = views;
  const savedTagged = tagged, savedRefs = refs;
  views = asViews;
  src = bytes;
  srcView = undefined;
  at = 0;
  end = bytes.length;
  tagged = tags;
  refs = numbered;
  try {
    const value = read();
    if (at !== end) throw malformed(`${end - at} bytes follow its value`);
    return value;
  } finally {
    src = savedSrc;
    srcView = savedView;
    at = savedAt;
    end = savedEnd;
    views = savedViews;
    tagged = savedTagged;
    refs = savedRefs;
  }
}

/**
 * Reads the next value as it is, tagged nodes as plain maps and nothing
 * numbered (a part of a tagged node that is not a value of its own).
 */
export function readPlain(depth: number): unknown {
  const savedTagged = tagged, savedRefs = refs;
  tagged = undefined;
  refs = undefined;
  try {
    return readValue(depth);
  } finally {
    tagged = savedTagged;
    refs = savedRefs;
  }
}

/** Reads the next value, which must be a string (a map key or a tag's field). */
export function readKey(): string {
  return readMapKey(MAX_WIRE_DEPTH);
}

/**
 * Reads the count of an array or map header: a fix form (`fix` to `fix` +
 * 15), or the 16-bit (`tag16`) or 32-bit (`tag16 + 1`) form.
 */
function readCount(fix: number, tag16: number, what: string): number {
  need(1);
  const tag = src[at++];
  if (tag >= fix && tag < fix + 0x10) return tag & 0x0f;
  if (tag === tag16) {
    need(2);
    at += 2;
    return u16(at - 2);
  }
  if (tag === tag16 + 1) {
    need(4);
    at += 4;
    return u32(at - 4);
  }
  throw malformed(`${what} was expected`);
}

/** Reads the header of an array, returning its length. */
export function readArrayHeader(): number {
  const n = readCount(0x90, 0xdc, "an array");
  if (n > end - at) throw malformed("an array is longer than the message");
  return n;
}

/** Reads the header of a map, returning its count of entries. */
export function readMapHeader(): number {
  const n = readCount(0x80, 0xde, "a map");
  if (n * 2 > end - at) throw malformed("a map is longer than the message");
  return n;
}
