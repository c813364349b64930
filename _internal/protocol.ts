/**
 * Every message between a hub and its clients, in one place.
 *
 * A frame (see `framing.ts`) carries an array of messages, so that many
 * operations issued in one tick cost one write and one read (the batching
 * that makes queue throughput possible). Over a socket the first frame must
 * be a {@linkcode Hello} carrying the hub's key; anything else, or any
 * malformed frame, drops that connection and nothing else. Messages are
 * plain data in the wire format of `wire.ts`: no code is ever evaluated from
 * the wire, and queue items stay encoded bytes (see {@linkcode Item}) inside
 * the hub, which never decodes them.
 *
 * @module
 */

/** Where a hub listens and the key that admits a client; part of every handle. */
export interface HubRef {
  /** Unix socket path, in the owner's private folder. */
  path: string;
  /** Random key given only to processes the owner started. */
  key: string;
  /** Path of the status file where the hub publishes sizes and flags for synchronous reads. */
  status: string;
  /** The owner's pid: for error messages, and to tell that its hub will never listen again. */
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

/**
 * A queue item as it crosses and as the hub keeps it: the wire bytes of its
 * encoding (see `codec.ts`), opaque to the hub, which never decodes one.
 */
export type Item = Uint8Array;

/** What a queue item weighs, for the byte budgets of batches. */
export function itemBytes(item: Item): number {
  return item.byteLength;
}
