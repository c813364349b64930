/**
 * Every message between a hub and its clients, in one place.
 *
 * A frame (see `framing.ts`) carries an array of messages, so that many
 * operations issued in one tick cost one write and one read (the batching
 * that makes queue throughput possible). Over a socket the first frame must
 * be a {@linkcode Hello} carrying the hub's key; anything else, or any
 * malformed frame, drops that connection and nothing else. Messages are
 * plain JSON: no code is ever evaluated from the wire, and queue items stay
 * encoded (see `codec.ts`) inside the hub, which never decodes them.
 *
 * @module
 */

import { needsEscaping } from "./framing.ts";

/** Where a hub listens and the key that admits a client; part of every handle. */
export interface HubRef {
  /** Unix socket path, in the owner's private folder. */
  path: string;
  /** Random key given only to processes the owner started. */
  key: string;
  /** Path of the status file where the hub publishes sizes and flags for synchronous reads. */
  status: string;
  /** The owner's pid, for error messages. */
  pid: number;
}

/** First message on a socket connection. */
export interface Hello {
  o: "hello";
  key: string;
  pid: number;
}

/** Most bytes of a hello (a key and a pid: well under 200); a hub refuses a larger first message. */
export const HELLO_MAX_BYTES = 4096;

/**
 * Most socket connections a hub keeps open before they have said hello: a
 * new one beyond this closes the oldest.
 */
export const MAX_UNAUTHENTICATED = 32;

/** A client → hub operation. */
export interface Request {
  /** Request id, unique per connection; 0 when no reply is wanted. */
  i: number;
  /** Operation: `attach`, `cancel`, or `<kind>.<method>` such as `queue.get`. */
  o: string;
  /** Object id (0 for connection-level operations such as `cancel`). */
  d: number;
  /** Arguments. */
  a?: unknown[];
  /** Timeout in milliseconds for blocking operations (absent: wait forever). */
  t?: number;
}

/**
 * A hub → client message: a result or an error matched by request id, or
 * (with `i` 0) a push about object `d`, such as `revoke` (give back prefetched
 * queue items because another consumer is waiting), or `welcome`, the first
 * message on a socket connection once its hello was accepted.
 */
export type Reply =
  | { i: number; r?: unknown }
  | { i: number; e: WireError }
  | { i: 0; p: "revoke"; d: number }
  | { i: 0; p: "welcome"; d: 0 };

/** An error as it crosses the wire: rebuilt on the client by name (Empty, Full…). */
export interface WireError {
  name: string;
  message: string;
}

/** Bytes per object in the status file: four little-endian int32 slots. */
export const STATUS_SLOT_BYTES = 16;

/** Upper bound of object ids per hub (status file size / slot size). */
export const MAX_OBJECTS = 1 << 20;

/** Checks a decoded frame from an untrusted peer: an array of requests. */
export function isRequestBatch(value: unknown): value is Request[] {
  if (!Array.isArray(value)) return false;
  for (const m of value) {
    if (typeof m !== "object" || m === null) return false;
    const r = m as Record<string, unknown>;
    if (!Number.isSafeInteger(r.i) || typeof r.o !== "string" || !Number.isSafeInteger(r.d)) {
      return false;
    }
    if (r.a !== undefined && !Array.isArray(r.a)) return false;
    if (r.t !== undefined && typeof r.t !== "number") return false;
  }
  return true;
}

/** Nodes an item's size estimate looks at before calling it big. */
const WEIGH_NODES = 256;
/** What an item too large to look at in full is taken to weigh; an item this heavy is large. */
export const BIG_ITEM = 64 * 1024;

/**
 * Whether an item is large (or too large to tell cheaply): a message that
 * carries one is serialized with care (see `markHeavy` in framing.ts).
 */
export function isLargeItem(item: unknown): boolean {
  return weighItem(item) >= BIG_ITEM;
}

/**
 * Most characters the JSON text of `value` (an item or a start message) can
 * have, if that may be more than `limit`: a cheap bound (string lengths and
 * structure, times the worst escaping), or the exact length when the bound
 * is not enough, found by serializing it with `serialize` (which callers
 * let keep its result for when it is written).
 *
 * @returns The length if it exceeds `limit`, else `undefined`.
 */
export function excessChars(
  value: unknown,
  limit: number,
  serialize: (value: unknown) => number,
): number | undefined {
  // Bounds on the length of the JSON text.
  let lower = 0;
  let upper = 0;
  // Iterative: a deeply nested value must not overflow the stack here.
  const stack: unknown[] = [value];
  while (stack.length > 0 && lower <= limit) {
    const v = stack.pop();
    if (typeof v === "string") {
      lower += v.length + 2;
      // A long string with nothing to escape (base64, most text) is its length, exactly.
      upper += v.length >= 4096 && !needsEscaping(v) ? v.length + 2 : v.length * 6 + 2;
    } else if (typeof v === "object" && v !== null) {
      lower += 2;
      upper += 2;
      for (const key in v) {
        lower += key.length + 4;
        upper += key.length * 6 + 4;
        stack.push((v as Record<string, unknown>)[key]);
      }
    } else {
      lower += 1;
      upper += 24; // The longest number.
    }
  }
  if (lower > limit) return lower;
  if (upper <= limit) return undefined;
  const exact = serialize(value);
  return exact > limit ? exact : undefined;
}

/**
 * Approximate encoded size of a queue item (`{ v: tree }`, see codec.ts),
 * cheap and bounded: strings count their length; a large tree is not
 * walked in full but counted as {@linkcode BIG_ITEM}.
 */
export function weighItem(item: unknown): number {
  const v = (item as { v?: unknown })?.v;
  if (typeof v === "string") return v.length + 2; // The common case, on every put.
  let nodes = 0;
  const weigh = (value: unknown): number => {
    if (++nodes > WEIGH_NODES) return BIG_ITEM;
    if (typeof value === "string") return value.length + 2;
    if (typeof value !== "object" || value === null) return 8;
    let total = 2;
    for (const key in value) {
      total += key.length + 3 + weigh((value as Record<string, unknown>)[key]);
      if (total >= BIG_ITEM) return total;
    }
    return total;
  };
  return weigh(v);
}
