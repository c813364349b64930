/**
 * Length-prefixed frames: a 4-byte big-endian word, then that many bytes of
 * one message in the wire format of `wire.ts` (MessagePack). A length prefix
 * (not a delimiter) so a frame can be read with exact-size reads, with no
 * scanning and no escaping, and so a malformed peer is detected by an absurd
 * length instead of a hang.
 *
 * One message larger than {@linkcode PART_BYTES} travels as several frames:
 * every frame but the last has the top bit of its length word set ("more
 * follows"), and the reader joins their bodies. So no frame is ever large (a
 * reader never allocates more than {@linkcode MAX_PART} for one read), while
 * a message is bounded only by memory: nothing that a `put()` or `start()`
 * accepted is dropped later by a size check. A reader can still bound the
 * size of a whole message (`maxMessage`), which is how a hub keeps
 * unauthenticated peers to a small hello.
 *
 * Every connection uses this one reader and writer: the hub's client and
 * server, the control pipe that carries a child's start message (its
 * arguments), the pool's worker channel and `net/`. {@linkcode BatchWriter}
 * is the one place where messages are batched into frames.
 *
 * @module
 */

import { giveBack, packWith, unpack, type WireWriter } from "./wire.ts";

/** Bytes of a message per frame: a message larger than this is split into several frames. */
export const PART_BYTES = 8 * 1024 * 1024;
/** Largest frame a reader accepts; anything bigger means a corrupt or hostile peer. */
export const MAX_PART = 64 * 1024 * 1024;
/** Set in the length word of every frame of a message but its last. */
const MORE = 0x8000_0000;

/**
 * Cuts a message, written after 4 reserved bytes of `bytes`, into frames:
 * one buffer (header and body) when it fits in one frame, else headers and
 * slices of the body, in order.
 */
function toFrames(bytes: Uint8Array): Uint8Array[] {
  let left = bytes.length - 4;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (left <= PART_BYTES) {
    view.setUint32(0, left);
    return [bytes];
  }
  const out: Uint8Array[] = [];
  let offset = 4;
  while (left > 0) {
    const n = Math.min(PART_BYTES, left);
    left -= n;
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, left > 0 ? (n | MORE) >>> 0 : n);
    out.push(header, bytes.subarray(offset, offset + n));
    offset += n;
  }
  return out;
}

/**
 * Encodes a value as one message: its frames, to be written in order (one
 * buffer unless it is larger than {@linkcode PART_BYTES}).
 *
 * @throws {TypeError} If the value holds something the wire format does not carry (see `wire.ts`).
 */
export function encodeFrames(value: unknown): Uint8Array[] {
  return toFrames(packWith(4, (w) => w.value(value)));
}

/**
 * Encodes a value as one message in one buffer: its frame, or its frames one
 * after the other if it is larger than {@linkcode PART_BYTES}.
 */
export function encodeFrame(value: unknown): Uint8Array {
  const frames = encodeFrames(value);
  if (frames.length === 1) return frames[0];
  let total = 0;
  for (const chunk of frames) total += chunk.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of frames) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Reads the length of a frame's body from its 4-byte header (without the "more follows" bit). */
export function frameLength(header: Uint8Array): number {
  return new DataView(header.buffer, header.byteOffset, 4).getUint32(0) & ~MORE;
}

/** Whether a frame's header says that more frames of the same message follow. */
function hasMore(header: Uint8Array): boolean {
  return new DataView(header.buffer, header.byteOffset, 4).getUint32(0) >= MORE;
}

/**
 * Decodes a single-frame message's body (without its header). The body is
 * copied first (it may sit in a reused read buffer), once, and the message's
 * `Uint8Array`s (queue items) are views of that copy.
 */
export function decodeFrameBody(body: Uint8Array): unknown {
  return unpack(body.slice(), true);
}

/** Limits a reader applies to what it is sent. */
export interface ReadLimits {
  /**
   * Most bytes of one message, checked against each frame's header before
   * its body is read (so a peer that announces more is refused without any
   * memory being set aside for it). Read before every frame, so it may
   * change as the connection goes (e.g. once a peer has authenticated).
   * Absent: no limit but memory.
   */
  maxMessage?: () => number;
}

/**
 * Joins the frames of messages as they are read: the body of each frame but
 * a message's last is copied aside (the read buffer is reused), and the
 * message is decoded once its last frame is in.
 */
class Assembler {
  #limits: ReadLimits;
  #parts: Uint8Array[] = [];
  #bytes = 0;

  constructor(limits: ReadLimits) {
    this.#limits = limits;
  }

  /**
   * Checks a frame's header before its body is read.
   *
   * @returns The body's length.
   * @throws {Error} If the frame or the message it belongs to is too large.
   */
  check(header: Uint8Array): number {
    const length = frameLength(header);
    if (length > MAX_PART) {
      throw new Error(`Cannot read frame: its length ${length} exceeds ${MAX_PART} bytes`);
    }
    const max = this.#limits.maxMessage?.() ?? Infinity;
    if (this.#bytes + length > max) {
      throw new Error(
        `Cannot read frame: the message would exceed ${max} bytes, the limit on this connection`,
      );
    }
    return length;
  }

  /**
   * Adds a frame.
   *
   * @param owned Whether `body` is the caller's to give away (else it is copied if kept).
   * @returns The message if this frame completed it, else {@linkcode INCOMPLETE}.
   */
  add(header: Uint8Array, body: Uint8Array, owned = false): unknown {
    if (hasMore(header)) {
      this.#parts.push(owned ? body : body.slice());
      this.#bytes += body.length;
      return INCOMPLETE;
    }
    if (this.#parts.length === 0) return owned ? unpack(body, true) : decodeFrameBody(body);
    const whole = new Uint8Array(this.#bytes + body.length);
    let at = 0;
    for (const part of this.#parts) {
      whole.set(part, at);
      at += part.length;
    }
    whole.set(body, at);
    this.#parts = [];
    this.#bytes = 0;
    return unpack(whole, true);
  }
}

/** What {@linkcode Assembler.add} returns for a frame that does not end its message. */
const INCOMPLETE = Symbol("incomplete");

/**
 * Reads one message with `read(n)`, a function returning up to exactly `n`
 * bytes (fewer only at end of stream), never reading past its end. Returns
 * `undefined` at a clean end of stream before any byte of the message.
 *
 * @throws {Error} On a truncated frame, one larger than {@linkcode MAX_PART},
 * or a message over `limits.maxMessage`.
 */
export async function readFrame(
  read: (n: number) => Promise<Uint8Array>,
  limits: ReadLimits = {},
): Promise<unknown | undefined> {
  const assembler = new Assembler(limits);
  for (let first = true;; first = false) {
    const header = await read(4);
    if (header.length === 0 && first) return undefined;
    if (header.length < 4) throw new Error("Cannot read frame: the stream ended inside a header");
    const length = assembler.check(header);
    const body = await read(length);
    if (body.length < length) throw new Error("Cannot read frame: the stream ended inside a frame");
    const message = assembler.add(header, body);
    if (message !== INCOMPLETE) return message;
  }
}

/** A byte stream to read messages from (a Unix socket). */
export interface ByteReader {
  /** Reads up to `into.length` bytes; `null` at end of stream. */
  read(into: Uint8Array): Promise<number | null>;
}

/**
 * Reads one message from `conn` with {@linkcode readFrame}, never reading
 * past its end: what follows (raw bytes after a header frame, or the frames
 * of another reader) stays unread.
 *
 * @param limits Bounds on what is read (a hello before authentication is small).
 * @returns The value, or `undefined` at a clean end of stream.
 */
export function readFrameFrom(conn: ByteReader, limits: ReadLimits = {}): Promise<unknown> {
  return readFrame(async (n) => {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const got = await conn.read(out.subarray(filled));
      if (got === null) break;
      filled += got;
    }
    return out.subarray(0, filled);
  }, limits);
}

/** Frames at least this large, not yet read in full, are read into a buffer of their own. */
const DIRECT_BYTES = 64 * 1024;

/** The read buffer a connection starts with, and goes back to after a large frame. */
const READ_BUFFER = 256 * 1024;

/**
 * Reads messages from a connection until it ends, calling `onMessage` with
 * each. Reads as much as the connection has (many small frames per read).
 *
 * @throws {Error} On a malformed or oversized frame (see {@linkcode ReadLimits}).
 */
export async function readFrames(
  conn: ByteReader,
  onMessage: (value: unknown) => void,
  limits: ReadLimits = {},
): Promise<void> {
  const assembler = new Assembler(limits);
  let buffer = new Uint8Array(READ_BUFFER);
  let start = 0;
  let end = 0;
  for (;;) {
    // Handle every complete frame in the buffer.
    while (end - start >= 4) {
      const header = buffer.subarray(start, start + 4);
      const length = assembler.check(header);
      if (end - start < 4 + length) {
        if (length >= DIRECT_BYTES) {
          // A large frame is read straight into a buffer of its own, which its message keeps
          // (its items are views of it): one copy fewer than reading it here and copying it out.
          const body = new Uint8Array(length);
          const header = buffer.slice(start, start + 4);
          let filled = end - start - 4;
          body.set(buffer.subarray(start + 4, end));
          start = end = 0;
          while (filled < length) {
            const n = await conn.read(body.subarray(filled));
            if (n === null) throw new Error("Cannot read frame: the stream ended inside a frame");
            filled += n;
          }
          const message = assembler.add(header, body, true);
          if (message !== INCOMPLETE) onMessage(message);
          continue;
        }
        if (4 + length > buffer.length) {
          const bigger = new Uint8Array(Math.max(buffer.length * 2, 4 + length));
          bigger.set(buffer.subarray(start, end));
          end -= start;
          start = 0;
          buffer = bigger;
        }
        break;
      }
      const body = buffer.subarray(start + 4, start + 4 + length);
      start += 4 + length;
      const message = assembler.add(header, body);
      if (message !== INCOMPLETE) onMessage(message);
    }
    if (start === end) {
      start = end = 0;
      // A buffer grown for a large frame is not kept.
      if (buffer.length > 4 * READ_BUFFER) buffer = new Uint8Array(READ_BUFFER);
    } else if (end === buffer.length) {
      buffer.copyWithin(0, start, end);
      end -= start;
      start = 0;
    }
    const n = await conn.read(buffer.subarray(end));
    if (n === null) return;
    end += n;
  }
}

/** Most messages a coalesced frame carries. */
const FRAME_MESSAGES = 256;
/** A coalesced frame past this many bytes is split (unless it is one message). */
const FRAME_BYTES = 256 * 1024;

/**
 * Writes batches of messages as frames, coalescing: while one write is in
 * flight, batches queue up and go out together as one frame (one system
 * call) when it completes. Under load this batches by itself; at rest a
 * batch is written at once. `write` must be done with the bytes it is given
 * when its Promise resolves: their buffer is then reused.
 */
export class BatchWriter<T> {
  #write: (bytes: Uint8Array) => Promise<void>;
  #onError: (error: unknown) => void;
  #pending: T[] = [];
  #writing = false;
  #idle: (() => void)[] = [];

  constructor(write: (bytes: Uint8Array) => Promise<void>, onError: (error: unknown) => void) {
    this.#write = write;
    this.#onError = onError;
  }

  /** Queues messages for the next frame. */
  send(messages: readonly T[]): void {
    for (const m of messages) this.#pending.push(m);
    if (!this.#writing) this.#loop();
  }

  /**
   * Whether a write is in flight: a caller that batches (the hub's client
   * and sessions) then keeps gathering, and sends when it is done.
   */
  get busy(): boolean {
    return this.#writing;
  }

  /** Resolves when everything queued so far has been written. */
  flushed(): Promise<void> {
    if (!this.#writing && this.#pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Takes the next message's worth of queued messages: all of them unless it
   * would be large (a backlog of big queue items behind a slow reader), then
   * fewer, so the reader gets to work on the first ones sooner. A single
   * message larger than that goes alone, in as many frames as it takes.
   */
  #nextMessage(): Uint8Array {
    const pending = this.#pending;
    let take = 0;
    return packWith(4, (w: WireWriter) => {
      const header = w.position;
      w.arrayHeader(0);
      while (take < pending.length && take < FRAME_MESSAGES) {
        const before = w.position;
        w.value(pending[take]);
        if (take > 0 && w.position > FRAME_BYTES) {
          // Left for the next frame.
          w.rewind(before);
          break;
        }
        take++;
      }
      w.patchArrayHeader(header, take);
      this.#pending = take === pending.length ? [] : pending.slice(take);
    }, "lend");
  }

  async #loop(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#pending.length > 0) {
        // The write buffer is lent (no copy) and given back once written.
        const bytes = this.#nextMessage();
        for (const frame of toFrames(bytes)) await this.#write(frame);
        giveBack(bytes);
      }
    } catch (error) {
      this.#pending = [];
      this.#onError(error);
    } finally {
      this.#writing = false;
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }
}
