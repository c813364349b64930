/**
 * Length-prefixed frames: a 4-byte big-endian length, then that many bytes
 * of UTF-8 JSON. A length prefix (not newline-delimited JSON) so a frame can
 * be read with exact-size reads, with no scanning and no escaping, and so a
 * malformed peer is detected by an absurd length instead of a hang.
 *
 * @module
 */

/** Largest frame accepted (64 MiB); anything bigger means a corrupt or hostile peer. */
export const MAX_FRAME = 64 * 1024 * 1024;

/** Reused by {@linkcode encodeParts} (each thread has its own module instance). */
let scratch = new Uint8Array(64 * 1024);

/**
 * One frame holding the JSON array of `parts` (each already JSON): written
 * part by part into a reused buffer, which is faster than joining the
 * strings and encoding the result, then copied out.
 */
function encodeParts(parts: readonly string[]): Uint8Array {
  let most = 6;
  for (const part of parts) most += part.length * 3 + 1;
  if (scratch.length < most) scratch = new Uint8Array(Math.max(most, scratch.length * 2));
  let at = 4;
  scratch[at++] = 0x5b; // [
  for (let k = 0; k < parts.length; k++) {
    if (k > 0) scratch[at++] = 0x2c; // ,
    at += encoder.encodeInto(parts[k], scratch.subarray(at)).written;
  }
  scratch[at++] = 0x5d; // ]
  const length = at - 4;
  if (length > MAX_FRAME) {
    throw new RangeError(
      `Cannot send a message of ${length} bytes: the limit is ${MAX_FRAME} bytes ` +
        `(a queue item or argument that large should go through a file instead)`,
    );
  }
  new DataView(scratch.buffer).setUint32(0, length);
  const frame = scratch.slice(0, at);
  // A buffer grown for one huge frame is not kept.
  if (scratch.length > 16 * FRAME_BYTES) scratch = new Uint8Array(64 * 1024);
  return frame;
}

/** Most messages a coalesced frame carries. */
const FRAME_MESSAGES = 256;
/** A coalesced frame past this many bytes is split (unless it is one message). */
const FRAME_BYTES = 4 * 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a JSON-able value as one frame. */
export function encodeFrame(value: unknown): Uint8Array {
  const body = encoder.encode(JSON.stringify(value));
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, 4);
  return frame;
}

/** Reads the length from a 4-byte header. */
export function frameLength(header: Uint8Array): number {
  return new DataView(header.buffer, header.byteOffset, 4).getUint32(0);
}

/** Decodes a frame body (without its header). */
export function decodeFrameBody(body: Uint8Array): unknown {
  return JSON.parse(decoder.decode(body));
}

/**
 * Reads one frame with `read(n)`, a function returning up to exactly `n`
 * bytes (fewer only at end of stream). Returns `undefined` at a clean end of
 * stream before any byte of the frame.
 *
 * @throws {Error} On a truncated frame or one larger than {@linkcode MAX_FRAME}.
 */
export async function readFrame(
  read: (n: number) => Promise<Uint8Array>,
): Promise<unknown | undefined> {
  const header = await read(4);
  if (header.length === 0) return undefined;
  if (header.length < 4) throw new Error("Cannot read frame: the stream ended inside a header");
  const length = frameLength(header);
  if (length > MAX_FRAME) {
    throw new Error(`Cannot read frame: its length ${length} exceeds ${MAX_FRAME} bytes`);
  }
  const body = await read(length);
  if (body.length < length) throw new Error("Cannot read frame: the stream ended inside a frame");
  return decodeFrameBody(body);
}

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
   * Takes the next frame's worth of queued messages: all of them unless the
   * frame would be large (a backlog of big queue items behind a slow
   * reader), then fewer, so that no frame nears {@linkcode MAX_FRAME} and
   * the reader gets to work on the first ones sooner.
   */
  #nextFrame(): Uint8Array {
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
    return encodeParts(parts);
  }

  async #loop(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#pending.length > 0) {
        await this.#write(this.#nextFrame());
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
