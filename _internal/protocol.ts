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

import { fromBase64, toBase64 } from "./base64.ts";

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

/** First message on a socket connection (see `hello.ts`): the one hello of every listener. */
export interface Hello {
  op: "hello";
  /** The listener's key (a hub's: see {@linkcode HubRef}). */
  key: string;
  /** The connecting process's id. */
  pid: number;
  /** Which kind of connection this is, for a listener that routes them (net runners, pool workers). */
  route?: string;
}

/** Most bytes of a hello (a key and a pid: well under 200); a hub refuses a larger first message. */
export const HELLO_MAX_BYTES = 4096;

/**
 * Most socket connections a hub keeps open before they have said hello: a
 * new one beyond this closes the oldest.
 */
export const MAX_UNAUTHENTICATED = 32;

/** The kinds of object a hub keeps. */
export type Kind = "semaphore" | "event" | "condition" | "barrier" | "queue";

/**
 * Every operation on an object, by `<kind>.<method>`, with its arguments.
 * Arguments come from the wire: the hub checks them before use.
 */
export interface ObjectOps {
  /** Takes a permit: replies `[acquired, ownerDied]`. */
  "semaphore.acquire": [];
  "semaphore.release": [count?: number];
  /** Publishes the count (changed in the owner's shared memory) in the status file. */
  "semaphore.publish": [];
  "event.set": [];
  "event.clear": [];
  /** Publishes the flag (changed in the owner's shared memory) in the status file. */
  "event.publish": [];
  /** Replies whether the event was set before the timeout. */
  "event.wait": [];
  /** Replies a ticket for `condition.wait`, taken while the caller holds the lock. */
  "condition.register": [];
  /** Replies whether it was notified before the timeout. */
  "condition.wait": [ticket: number];
  "condition.notify": [count?: number];
  "condition.notifyAll": [];
  /** Replies `[index, runAction]`. */
  "barrier.wait": [];
  "barrier.actionDone": [ok: boolean];
  "barrier.abort": [];
  "barrier.reset": [];
  /** Publishes the waiting count and broken flag in the status file. */
  "barrier.publish": [];
  /** One item (a bounded queue, or a put with a signal): replies once it is in the queue. */
  "queue.put": [item: Item];
  /** Items put in a burst on an unbounded queue. */
  "queue.putMany": [items: Item[]];
  /** Replies one item. */
  "queue.get": [];
  /** Replies up to `max` items (at least one), fetched ahead by a consumer. */
  "queue.getMany": [max: number, ahead?: boolean];
  /** One entry per prefetched item used (so a crash redelivers only the others). */
  "queue.consumed": [entries: number[]];
  /** Prefetched items given back. */
  "queue.unget": [items: Item[]];
  "queue.close": [];
  /**
   * The copies of the pipe end that writes to this queue (see `state/end_copies.ts`): the caller
   * holds one more; lends one under `token` (`moves`: the one it held); adopts the one lent under
   * `token`; lets the one lent under `token` lapse if it was not adopted (its receiver died, or it
   * was never sent), once the hub has handled all that process `pid` (the receiver, if another
   * process) sent; closes one. The queue closes with the last copy.
   */
  "queue.hold": [];
  "queue.lend": [token: string, moves: boolean];
  "queue.adopt": [token: string];
  "queue.lapse": [token: string, pid?: number];
  "queue.release": [];
  /** One entry per `taskDone()` made in a burst. */
  "queue.taskDone": [entries: number[]];
  /** Replies whether every item was acknowledged before the timeout. */
  "queue.join": [];
  /** Replies `{ redelivered }`. */
  "queue.stats": [];
}

/** The name of an operation on an object. */
export type ObjectOp = keyof ObjectOps;

/** Operations that accumulate entries in one request while they are sent in a burst. */
export type BatchOp = "queue.putMany" | "queue.consumed" | "queue.taskDone";

/** An operation on object `obj`. */
export type ObjectRequest = {
  [K in ObjectOp]: {
    /** Request id, unique per connection; 0 when no reply is wanted. */
    id: number;
    op: K;
    /** The object's id on its hub. */
    obj: number;
    args: ObjectOps[K];
    /** Milliseconds a blocking operation may wait (absent: as long as it takes). */
    timeout?: number;
  };
}[ObjectOp];

/** Operations on the connection itself. */
export type ConnectionRequest =
  /** Declares object `obj` (created unless it exists); sent before its first operation. */
  | { id: 0; op: "attach"; obj: number; args: [kind: Kind, params: unknown] }
  /** Gives up the wait of request `args[0]`. */
  | { id: 0; op: "cancel"; obj: 0; args: [request: number] }
  /** Answered once everything sent before it on this connection was handled. */
  | { id: number; op: "sync"; obj: 0 }
  /** A clean departure (what the client holds stays held); answered like `sync`. */
  | { id: number; op: "bye"; obj: 0 }
  /** The owner saw child `args[0]` exit: answered once the hub cleaned up after it. */
  | { id: number; op: "reaped"; obj: 0; args: [pid: number] }
  /** The owner asks its hub to open its socket (owner's thread channel only). */
  | { id: 0; op: "listen"; obj: 0 };

/** A client → hub message. */
export type Request = ObjectRequest | ConnectionRequest;

/** A hub → client message. */
export type Reply =
  /** The result of request `id`. */
  | { id: number; result?: unknown }
  /** The error of request `id`. */
  | { id: number; error: WireError }
  /** Give back prefetched items of queue `obj`: another consumer is waiting. */
  | { id: 0; push: "revoke"; obj: number }
  /** The first message on a socket connection once its hello was accepted. */
  | { id: 0; push: "welcome"; obj: 0 };

/** An error as it crosses the wire: rebuilt on the client by name (Empty, Full…). */
export interface WireError {
  name: string;
  message: string;
}

/** Bytes per object in the status file: eight little-endian int32 slots. */
export const STATUS_SLOT_BYTES = 32;

/** Upper bound of object ids per hub (status file size / slot size). */
export const MAX_OBJECTS = 1 << 20;

/** Checks a decoded frame from an untrusted peer: an array of requests (their shape, not their arguments). */
export function isRequestBatch(value: unknown): value is Request[] {
  if (!Array.isArray(value)) return false;
  for (const m of value) {
    if (typeof m !== "object" || m === null) return false;
    const r = m as Record<string, unknown>;
    if (!Number.isSafeInteger(r.id) || typeof r.op !== "string" || !Number.isSafeInteger(r.obj)) {
      return false;
    }
    if (r.args !== undefined && !Array.isArray(r.args)) return false;
    if (r.timeout !== undefined && typeof r.timeout !== "number") return false;
  }
  return true;
}

/**
 * A queue item as it crosses and as the hub keeps it: the wire bytes of its
 * encoding (see `codec.ts`), opaque to the hub, which never decodes one.
 */
export type Item = Uint8Array;

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
  if (Array.isArray(value) && value.some(needsChange)) return value.map(bigToText);
  return value;
}

function textToBig(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(textToBig);
  return isText(value) ? fromBase64(value.b64) : value;
}

/**
 * Whether an item must change to be posted: large bytes, or a view into a
 * larger block (posting it would copy the block).
 */
function needsChange(v: unknown): boolean {
  return v instanceof Uint8Array &&
    (v.byteLength >= THREAD_BIG_ITEM || v.byteLength !== v.buffer.byteLength);
}

function hasBig(value: unknown): boolean {
  return needsChange(value) || (Array.isArray(value) && value.some(needsChange));
}

/**
 * Prepares requests or replies to be posted to another thread: queue items
 * (in `args[0]`, or in `result`) of {@linkcode THREAD_BIG_ITEM} bytes or more become
 * base64 text, and views into a larger block become copies of their own.
 * Messages without such items are returned as they are.
 */
export function toThread<M extends Request | Reply>(messages: M[]): M[] {
  if (!messages.some(carriesBig)) return messages;
  return messages.map((m) => {
    if (!carriesBig(m)) return m;
    if ("args" in m && m.args) return { ...m, args: m.args.map(bigToText) };
    return { ...m, result: bigToText((m as { result?: unknown }).result) };
  });
}

function carriesBig(m: Request | Reply): boolean {
  if ("args" in m && m.args !== undefined) return m.args.length > 0 && hasBig(m.args[0]);
  return "result" in m && hasBig(m.result);
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
    const m = messages[k] as { args?: unknown[]; result?: unknown };
    if (m.args !== undefined && m.args.length > 0 && hasText(m.args[0])) {
      messages[k] = { ...m, args: m.args.map(textToBig) } as unknown as M;
    } else if (hasText(m.result)) {
      messages[k] = { ...m, result: textToBig(m.result) } as unknown as M;
    }
  }
  return messages;
}
