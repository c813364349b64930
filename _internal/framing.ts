/**
 * Length-prefixed frames: a 4-byte big-endian word, then that many bytes of
 * UTF-8 JSON. A length prefix (not newline-delimited JSON) so a frame can be
 * read with exact-size reads, with no scanning and no escaping, and so a
 * malformed peer is detected by an absurd length instead of a hang.
 *
 * One message (a JSON value) larger than {@linkcode PART_BYTES} travels as
 * several frames: every frame but the last has the top bit of its length
 * word set ("more follows"), and the reader joins their bodies. So no frame
 * is ever large (a reader never allocates more than {@linkcode MAX_PART} for
 * one read), while a message is bounded only by memory: nothing that a
 * `put()` or `start()` accepted is dropped later by a size check. A reader
 * can still bound the size of a whole message (`maxMessage`), which is how
 * a hub keeps unauthenticated peers to a small hello.
 *
 * Every connection uses this one reader and writer: the hub's client and
 * server, the control pipe that carries a child's start message (its
 * arguments), and `net/`.
 *
 * @module
 */

/** Bytes of a message per frame: a message larger than this is split into several frames. */
export const PART_BYTES = 8 * 1024 * 1024;
/** Largest frame a reader accepts; anything bigger means a corrupt or hostile peer. */
export const MAX_PART = 64 * 1024 * 1024;
/** Set in the length word of every frame of a message but its last. */
const MORE = 0x8000_0000;
/** Messages below this many characters of JSON are encoded into a reused buffer. */
const SMALL_CHARS = 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reused by {@linkcode encodeMessage} (each thread has its own module instance). */
let scratch = new Uint8Array(64 * 1024);

/**
 * The frames of one message, the JSON array of `parts` (each already JSON),
 * ready to be written in order. A small message is one buffer (header and
 * body), written part by part into a reused buffer, which is faster than
 * joining the strings and encoding the result; a large one is encoded part by
 * part, never as one joined string, and cut into frames of
 * {@linkcode PART_BYTES}.
 */
function encodeMessage(parts: readonly string[]): Uint8Array[] {
  let chars = 2 + parts.length;
  for (const part of parts) chars += part.length;
  if (chars <= SMALL_CHARS) {
    const most = 4 + chars * 3;
    if (scratch.length < most) scratch = new Uint8Array(Math.max(most, scratch.length * 2));
    let at = 4;
    scratch[at++] = 0x5b; // [
    for (let k = 0; k < parts.length; k++) {
      if (k > 0) scratch[at++] = 0x2c; // ,
      at += encoder.encodeInto(parts[k], scratch.subarray(at)).written;
    }
    scratch[at++] = 0x5d; // ]
    new DataView(scratch.buffer).setUint32(0, at - 4);
    return [scratch.slice(0, at)];
  }
  const pieces: Uint8Array[] = [OPEN];
  parts.forEach((part, k) => {
    if (k > 0) pieces.push(COMMA);
    pieces.push(encoder.encode(part));
  });
  pieces.push(CLOSE);
  return toFrames(pieces);
}

const OPEN = new Uint8Array([0x5b]);
const COMMA = new Uint8Array([0x2c]);
const CLOSE = new Uint8Array([0x5d]);

/** Cuts a message body, given as consecutive pieces, into frames (headers and slices, in order). */
function toFrames(pieces: readonly Uint8Array[]): Uint8Array[] {
  let left = 0;
  for (const piece of pieces) left += piece.length;
  if (left <= PART_BYTES) {
    // One frame: one buffer, one write.
    const frame = new Uint8Array(4 + left);
    new DataView(frame.buffer).setUint32(0, left);
    let at = 4;
    for (const piece of pieces) {
      frame.set(piece, at);
      at += piece.length;
    }
    return [frame];
  }
  const out: Uint8Array[] = [];
  let p = 0;
  let offset = 0;
  do {
    const n = Math.min(PART_BYTES, left);
    left -= n;
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, left > 0 ? (n | MORE) >>> 0 : n);
    out.push(header);
    for (let need = n; need > 0;) {
      const piece = pieces[p];
      const take = Math.min(need, piece.length - offset);
      if (take > 0) out.push(piece.subarray(offset, offset + take));
      offset += take;
      need -= take;
      if (offset === piece.length) {
        p++;
        offset = 0;
      }
    }
  } while (left > 0);
  return out;
}

/**
 * Encodes a JSON-able value as one message: one buffer holding its frame, or
 * its frames one after the other if it is larger than {@linkcode PART_BYTES}.
 */
export function encodeFrame(value: unknown): Uint8Array {
  const body = encoder.encode(JSON.stringify(value));
  if (body.length <= PART_BYTES) {
    const frame = new Uint8Array(4 + body.length);
    new DataView(frame.buffer).setUint32(0, body.length);
    frame.set(body, 4);
    return frame;
  }
  const frames = toFrames([body]);
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

/** Decodes a single-frame message's body (without its header). */
export function decodeFrameBody(body: Uint8Array): unknown {
  return JSON.parse(decoder.decode(body));
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
 * Joins the frames of messages as they are read: a message's frames are
 * decoded as they come (a streaming decoder, so a character cut between two
 * frames is rebuilt), and each frame's bytes can be dropped at once.
 */
class Assembler {
  #limits: ReadLimits;
  #texts: string[] = [];
  #bytes = 0;
  #stream: TextDecoder | undefined;

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
   * @returns The message if this frame completed it, else {@linkcode INCOMPLETE}.
   */
  add(header: Uint8Array, body: Uint8Array): unknown {
    if (hasMore(header)) {
      this.#stream ??= new TextDecoder();
      this.#texts.push(this.#stream.decode(body, { stream: true }));
      this.#bytes += body.length;
      return INCOMPLETE;
    }
    if (!this.#stream) return decodeFrameBody(body);
    this.#texts.push(this.#stream.decode(body));
    const text = this.#texts.join("");
    this.#texts = [];
    this.#bytes = 0;
    this.#stream = undefined;
    return JSON.parse(text);
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

/** The read buffer a connection starts with, and goes back to after a large frame. */
const READ_BUFFER = 64 * 1024;

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
      if (buffer.length > 16 * READ_BUFFER) buffer = new Uint8Array(READ_BUFFER);
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
const FRAME_BYTES = 4 * 1024 * 1024;

/**
 * Writes batches of messages as frames, coalescing: while one write is in
 * flight, batches queue up and go out together as one frame (one system
 * call) when it completes. Under load this batches by itself; at rest a
 * batch is written at once.
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
  #nextMessage(): Uint8Array[] {
    const pending = this.#pending;
    const parts: string[] = [];
    let size = 2;
    let take = 0;
    while (take < pending.length && take < FRAME_MESSAGES) {
      const json = JSON.stringify(pending[take]);
      if (take > 0 && size + json.length > FRAME_BYTES) break;
      parts.push(json);
      size += json.length + 1;
      take++;
    }
    this.#pending = take === pending.length ? [] : pending.slice(take);
    return encodeMessage(parts);
  }

  async #loop(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#pending.length > 0) {
        for (const bytes of this.#nextMessage()) await this.#write(bytes);
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
