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

/**
 * Items at least this large cross between the owner's threads and its hub
 * as base64 text: Deno's `node:worker_threads` fails to post a message that
 * holds a `Uint8Array` of about 128 MiB or more (and crashes on some sizes),
 * while it posts long strings.
 */
const THREAD_BIG_ITEM = 32 * 1024 * 1024;

/** An item carried as base64 between threads (see {@linkcode toThread}). */
interface ThreadBigItem {
  b64: string;
}

function bigToText(value: unknown): unknown {
  if (value instanceof Uint8Array) {
    if (value.byteLength >= THREAD_BIG_ITEM) {
      return { b64: toBase64(value) } satisfies ThreadBigItem;
    }
    // A view into a larger block (see wire.ts): posting it would copy the whole block.
    return value.byteLength === value.buffer.byteLength ? value : value.slice();
  }
  if (Array.isArray(value) && value.some((v) => v instanceof Uint8Array)) {
    return value.map(bigToText);
  }
  return value;
}

function textToBig(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(textToBig);
  return isText(value) ? fromBase64(value.b64) : value;
}

function hasBig(value: unknown): boolean {
  if (value instanceof Uint8Array) return value.byteLength >= THREAD_BIG_ITEM;
  return Array.isArray(value) &&
    value.some((v) => v instanceof Uint8Array && v.byteLength >= THREAD_BIG_ITEM);
}

/**
 * Prepares requests or replies to be posted to another thread: queue items
 * (in `a[0]`, or in `r`) of {@linkcode THREAD_BIG_ITEM} bytes or more become
 * base64 text, and views into a larger block become copies of their own.
 * Messages without such items are returned as they are.
 */
export function toThread<M extends Request | Reply>(messages: M[]): M[] {
  if (!messages.some(carriesBig)) return messages;
  return messages.map((m) => {
    if (!carriesBig(m)) return m;
    if ("a" in m && m.a) return { ...m, a: m.a.map(bigToText) };
    return { ...m, r: bigToText((m as { r?: unknown }).r) };
  });
}

function carriesBig(m: Request | Reply): boolean {
  if ("a" in m && m.a !== undefined) return m.a.length > 0 && hasBig(m.a[0]);
  return "r" in m && hasBig(m.r);
}

function isText(v: unknown): v is ThreadBigItem {
  return typeof v === "object" && v !== null && typeof (v as ThreadBigItem).b64 === "string" &&
    !(v instanceof Uint8Array);
}

function hasText(v: unknown): boolean {
  return isText(v) || (Array.isArray(v) && v.some(isText));
}

/** Undoes {@linkcode toThread} on messages posted by another thread. */
export function fromThread<M extends Request | Reply>(messages: M[]): M[] {
  for (let k = 0; k < messages.length; k++) {
    const m = messages[k] as Request & { r?: unknown };
    if (m.a !== undefined && m.a.length > 0 && hasText(m.a[0])) {
      messages[k] = { ...m, a: m.a.map(textToBig) } as unknown as M;
    } else if (hasText(m.r)) {
      messages[k] = { ...m, r: textToBig(m.r) } as unknown as M;
    }
  }
  return messages;
}

function toBase64(bytes: Uint8Array): string {
  const native = (bytes as Uint8Array & { toBase64?: () => string }).toBase64;
  if (typeof native === "function") return native.call(bytes);
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000) as unknown as number[]);
  }
  return btoa(s);
}

function fromBase64(s: string): Uint8Array {
  const native = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
  if (typeof native === "function") return native(s);
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}
