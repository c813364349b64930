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
 * A message is serialized in pieces, and a huge string (an item of hundreds
 * of MiB) is quoted in slices ({@linkcode jsonPieces}): V8, as Deno ships it,
 * aborts the whole process when `JSON.stringify` quotes one flat string of
 * 2^28 characters, and no message text is ever joined on the writing side.
 * The reader joins a message's text once, so a message is limited to
 * {@linkcode MAX_MESSAGE_CHARS}: callers check that where the value is
 * accepted (`put()`, `start()`), never later.
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
/** Messages up to this many characters of JSON are encoded into a reused buffer. */
const SMALL_CHARS = 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reused by {@linkcode encodeMessage} (each thread has its own module instance). */
let scratch = new Uint8Array(64 * 1024);

/**
 * The frames of one message whose JSON text is the concatenation of
 * `pieces`, ready to be written in order. A small message is one buffer
 * (header and body), written piece by piece into a reused buffer, which is
 * faster than joining the strings and encoding the result; a large one is
 * encoded piece by piece, never as one joined string, and cut into frames of
 * {@linkcode PART_BYTES}.
 */
function encodeMessage(pieces: readonly string[]): Uint8Array[] {
  let chars = 0;
  for (const piece of pieces) chars += piece.length;
  if (chars <= SMALL_CHARS) {
    const most = 4 + chars * 3;
    if (scratch.length < most) scratch = new Uint8Array(Math.max(most, scratch.length * 2));
    let at = 4;
    for (const piece of pieces) at += encoder.encodeInto(piece, scratch.subarray(at)).written;
    new DataView(scratch.buffer).setUint32(0, at - 4);
    return [scratch.slice(0, at)];
  }
  return toFrames(pieces.map((piece) => encoder.encode(piece)));
}

/** Strings at least this long are quoted in slices of this length (see the module doc). */
const HUGE_STRING = 1 << 24;

/**
 * Longest message text a reader can join: V8's longest string, less a
 * margin for what travels with the largest value in one message.
 */
export const MAX_MESSAGE_CHARS = 2 ** 29 - 24 - 8 * 1024 * 1024;

/** Messages that may hold a huge string (see {@linkcode markHeavy}). */
const heavy = new WeakSet<object>();
/** Values serialized ahead by {@linkcode jsonPieces} (`cache`), spliced in when written. */
const serialized = new WeakMap<object, string[]>();

/**
 * Marks a message that may hold a huge string, so the writer serializes it
 * with {@linkcode jsonPieces} instead of one `JSON.stringify` (which costs a
 * walk of the message: only messages that carry large values are marked).
 */
export function markHeavy(message: object): void {
  heavy.add(message);
}

/** Stands for a huge string or a serialized value while the rest of a message is stringified. */
const PLACEHOLDER = `\u0000multiproc:${crypto.randomUUID()}`;
const QUOTED_PLACEHOLDER = JSON.stringify(PLACEHOLDER);

/**
 * A value's JSON text as pieces to be written one after the other: huge
 * strings are quoted in slices (a surrogate pair cut between two slices
 * becomes two escapes, which the reader's `JSON.parse` joins again), and
 * values serialized before (with `cache`) are spliced in.
 *
 * @param value A JSON-able value.
 * @param cache Keep the pieces of `value` (an object) for when a message
 *   carrying it is written.
 * @returns The pieces, and their total length in characters.
 */
export function jsonPieces(value: unknown, cache = false): { pieces: string[]; chars: number } {
  const spliced: (string | string[])[] = [];
  const json = JSON.stringify(value, function (this: unknown, _key, v: unknown) {
    if (typeof v === "string") {
      if (v.length < HUGE_STRING) return v;
      spliced.push(v);
      return PLACEHOLDER;
    }
    if (typeof v === "object" && v !== null && v !== value) {
      const pieces = serialized.get(v);
      if (pieces) {
        spliced.push(pieces);
        return PLACEHOLDER;
      }
    }
    return v;
  });
  let pieces: string[];
  if (spliced.length === 0) pieces = [json];
  else {
    pieces = [];
    json.split(QUOTED_PLACEHOLDER).forEach((text, k) => {
      if (k > 0) {
        const what = spliced[k - 1];
        if (typeof what === "string") quoteInSlices(what, pieces);
        else pieces.push(...what);
      }
      if (text.length > 0) pieces.push(text);
    });
  }
  let chars = 0;
  for (const piece of pieces) chars += piece.length;
  if (cache && typeof value === "object" && value !== null) serialized.set(value, pieces);
  return { pieces, chars };
}

/** Characters that JSON.stringify escapes (and surrogates, which it escapes when lone). */
// deno-lint-ignore no-control-regex -- control characters are exactly what JSON escapes
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Whether `JSON.stringify(text)` may be more than `text` in quotes. */
export function needsEscaping(text: string): boolean {
  return ESCAPED.test(text);
}

/**
 * Appends the JSON string literal of `text`: the text itself in quotes if
 * nothing in it needs escaping (slices of a string are not copies), else
 * quoted slice by slice.
 */
function quoteInSlices(text: string, out: string[]): void {
  if (!needsEscaping(text)) {
    out.push('"');
    for (let at = 0; at < text.length; at += HUGE_STRING) {
      out.push(text.slice(at, at + HUGE_STRING));
    }
    out.push('"');
    return;
  }
  for (let at = 0; at < text.length; at += HUGE_STRING) {
    const quoted = JSON.stringify(text.slice(at, at + HUGE_STRING));
    const first = at === 0;
    const last = at + HUGE_STRING >= text.length;
    out.push(quoted.slice(first ? 0 : 1, last ? quoted.length : quoted.length - 1));
  }
}

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
 * Encodes a JSON-able value as one message: its frames, to be written in
 * order (one buffer unless it is larger than {@linkcode PART_BYTES}).
 */
export function encodeFrames(value: unknown): Uint8Array[] {
  return encodeMessage(jsonPieces(value).pieces);
}

/**
 * Encodes a JSON-able value as one message in one buffer: its frame, or its
 * frames one after the other if it is larger than {@linkcode PART_BYTES}.
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
  #stream: InstanceType<typeof TextDecoder> | undefined;

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
    const pieces: string[] = ["["];
    let size = 2;
    let take = 0;
    while (take < pending.length && take < FRAME_MESSAGES) {
      const message = pending[take];
      let json: string[];
      let chars: number;
      if (this.#carried?.message === message) {
        ({ pieces: json, chars } = this.#carried);
        this.#carried = undefined;
      } else if (typeof message === "object" && message !== null && heavy.has(message)) {
        ({ pieces: json, chars } = jsonPieces(message));
      } else {
        json = [JSON.stringify(message)];
        chars = json[0].length;
      }
      if (take > 0 && size + chars > FRAME_BYTES) {
        // Kept for the next frame: a large message is serialized once.
        this.#carried = { message, pieces: json, chars };
        break;
      }
      if (take > 0) pieces.push(",");
      for (const piece of json) pieces.push(piece);
      size += chars + 1;
      take++;
    }
    pieces.push("]");
    this.#pending = take === pending.length ? [] : pending.slice(take);
    return encodeMessage(pieces);
  }

  #carried: { message: T; pieces: string[]; chars: number } | undefined;

  async #loop(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#pending.length > 0) {
        for (const bytes of this.#nextMessage()) await this.#write(bytes);
      }
    } catch (error) {
      this.#pending = [];
      this.#carried = undefined;
      this.#onError(error);
    } finally {
      this.#writing = false;
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }
}
