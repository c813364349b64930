// Copyright the multiproc authors. MIT license.
/**
 * The order of a `PriorityQueue`'s entries, as bytes: the hub keeps items
 * encoded and never decodes them, so each item of a priority queue carries
 * a key, made by the putter, whose bytes compare (as unsigned bytes, a
 * shorter prefix first) as the entries compare in Python:
 *
 * - numbers (and booleans, and bigints that fit a number exactly) by value;
 * - strings by code point (their UTF-8 bytes);
 * - arrays (Python's tuples) element by element, a shorter one first when
 *   it is a prefix of the other.
 *
 * An entry that is an array is ordered by its leading elements that are
 * one of those: `[2, { job }]` by `2`; any other entry as an array of one.
 * Entries whose keys are equal come out in the order they were put (Python
 * would go on to compare the payloads, and raise `TypeError` on two
 * dicts). Across kinds, numbers come before strings, and strings before
 * arrays (Python raises `TypeError` there too).
 *
 * An item of a priority queue is `[key length: u16][key][the item's bytes]`.
 *
 * @module
 */

/** Tags of the kinds of values in a key, in the order they sort. */
const NUMBER = 0x10;
const STRING = 0x20;
const ARRAY = 0x30;
/** Ends a string or a nested array (below every tag and every escaped byte). */
const END = 0x00;
/** Follows a 0x00 byte inside a string, so that it does not read as the end. */
const ESCAPED_ZERO = 0xff;

/**
 * Longest key, in bytes: a longer one is cut. A cut key still orders
 * entries as the whole one would, except that entries whose keys agree on
 * their first {@linkcode MAX_KEY_BYTES} bytes tie (and come out in the order
 * put): a payload of numbers after the priority, say, is not stored twice.
 */
export const MAX_KEY_BYTES = 1024;

const encoder = new TextEncoder();

/** Whether a value can be (part of) a key. */
function comparable(value: unknown): boolean {
  switch (typeof value) {
    case "number":
      return !Number.isNaN(value);
    case "boolean":
    case "string":
      return true;
    case "bigint":
      return Number.isFinite(Number(value)) && BigInt(Number(value)) === value;
    default:
      return Array.isArray(value) && value.every(comparable);
  }
}

/** Appends a comparable value's bytes. */
function write(value: unknown, out: number[]): void {
  if (typeof value === "string") {
    out.push(STRING);
    for (const byte of encoder.encode(value)) {
      out.push(byte);
      if (byte === 0) out.push(ESCAPED_ZERO);
    }
    out.push(END);
  } else if (Array.isArray(value)) {
    out.push(ARRAY);
    for (const element of value) write(element, out);
    out.push(END);
  } else {
    // A double's bits, made to sort as unsigned bytes: negative ones flipped whole, others with
    // their sign bit set. -0 is 0, as in Python.
    const n = Number(value) || 0;
    const bits = new DataView(new ArrayBuffer(8));
    bits.setFloat64(0, n);
    const negative = (bits.getUint8(0) & 0x80) !== 0;
    out.push(NUMBER);
    for (let i = 0; i < 8; i++) {
      const byte = bits.getUint8(i);
      out.push(negative ? ~byte & 0xff : i === 0 ? byte | 0x80 : byte);
    }
  }
}

/** Names what an entry is, for an error message. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "number") return "NaN";
  if (typeof value === "bigint") return `the bigint ${value}, which no number holds exactly`;
  if (typeof value !== "object") return typeof value;
  return Array.isArray(value)
    ? "an array whose first element is not comparable"
    : value.constructor?.name ?? "object";
}

/**
 * The key of a priority queue's entry.
 *
 * @param entry The entry put.
 * @returns Its key's bytes.
 * @throws {TypeError} If the entry has nothing to order it by (an object, `null`, `NaN`, an
 *   array whose first element is none of those kinds).
 */
export function priorityKey(entry: unknown): Uint8Array {
  const out: number[] = [];
  if (Array.isArray(entry)) {
    // Python's (priority, item) tuple: ordered by its leading comparable elements.
    for (const element of entry) {
      if (!comparable(element)) break;
      write(element, out);
    }
  } else if (comparable(entry)) {
    write(entry, out);
  }
  if (out.length === 0) {
    throw new TypeError(
      `Cannot put to the priority queue as the entry cannot be ordered: received ${
        describe(entry)
      }. Put a number, a string, or an array whose first element is one, such as ` +
        "[priority, item] (Python's (priority, item) tuple)",
    );
  }
  if (out.length > MAX_KEY_BYTES) out.length = MAX_KEY_BYTES;
  return Uint8Array.from(out);
}

/** An item of a priority queue: its key, then its encoded bytes. */
export function withKey(key: Uint8Array, bytes: Uint8Array): Uint8Array {
  const item = new Uint8Array(2 + key.length + bytes.length);
  item[0] = key.length >> 8;
  item[1] = key.length & 0xff;
  item.set(key, 2);
  item.set(bytes, 2 + key.length);
  return item;
}

/** The length of an item's key (see {@linkcode withKey}). */
function keyLength(item: Uint8Array): number {
  if (item.length < 2) throw new Error("Cannot read priority queue item: it has no key");
  const length = (item[0] << 8) | item[1];
  if (2 + length > item.length) {
    throw new Error("Cannot read priority queue item: its key is cut");
  }
  return length;
}

/** The encoded bytes of an item of a priority queue (a view). */
export function withoutKey(item: Uint8Array): Uint8Array {
  return item.subarray(2 + keyLength(item));
}

/** Where the key of a stored item ends (an item that holds no well-formed key has an empty one). */
function keyEnd(item: unknown): number {
  if (!(item instanceof Uint8Array) || item.length < 2) return 2;
  return Math.min(item.length, 2 + ((item[0] << 8) | item[1]));
}

/**
 * Compares the keys of two items of a priority queue: negative if `a`
 * comes first, positive if `b` does, 0 if they tie. Never throws: the hub
 * keeps items opaque, so an item without a well-formed key (which only its
 * reader will find out, as it reads it) orders as having an empty one.
 */
export function compareKeys(a: unknown, b: unknown): number {
  const aEnd = keyEnd(a);
  const bEnd = keyEnd(b);
  const x = a as Uint8Array;
  const y = b as Uint8Array;
  for (let i = 2; i < aEnd && i < bEnd; i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return aEnd - bEnd;
}
