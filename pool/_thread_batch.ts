/**
 * How a batch of messages crosses between a pool and one of its threads.
 *
 * `postMessage` structured-clones an array of message objects, and Deno's
 * `node:worker_threads` layer walks what it delivers once more: for a chunk
 * of 25,000 numbers that is a large part of what a thread pool spends on
 * it. So a batch whose
 * messages carry only values that the frame encoding keeps exactly (the
 * plain items and results of {@linkcode isPlain}, function references,
 * error descriptions) crosses as one frame of the project's framing
 * (`_internal/framing.ts`) in one `Uint8Array`, whose buffer is
 * transferred, not copied. A batch that carries codec values of the
 * `"clone"` mode (shared memory, typed arrays, live handles of thread
 * primitives) crosses as the array of objects, as before.
 *
 * @module
 */

import { decodeFrameBody, encodeFrame, frameLength, readFrame } from "../_internal/framing.ts";

/** A message of a batch, as far as packing is concerned. */
interface Message {
  t: string;
  p?: 1;
}

/** A batch as posted: its data and what to transfer. */
export interface PackedBatch {
  data: unknown;
  transfer: ArrayBuffer[];
}

/** Whether every message of `batch` carries only what a frame keeps exactly. */
function framable(batch: readonly Message[]): boolean {
  for (const m of batch) {
    // A run's items and an ok's results are codec output (clone mode) unless marked plain.
    if ((m.t === "run" || m.t === "ok") && m.p !== 1) return false;
  }
  return true;
}

/** Packs a batch for `postMessage`: one frame when it can (see the module doc). */
export function packBatch(batch: readonly Message[]): PackedBatch {
  if (!framable(batch)) return { data: batch, transfer: [] };
  let bytes = encodeFrame(batch);
  // Only a buffer the frame has to itself may be handed over.
  if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) {
    bytes = bytes.slice();
  }
  // The buffer, not the Uint8Array: Deno's `node:worker_threads` takes some 30 times longer to
  // deliver a Uint8Array of a few hundred KiB than its ArrayBuffer.
  const buffer = bytes.buffer as ArrayBuffer;
  return { data: buffer, transfer: [buffer] };
}

/** Unpacks what {@linkcode packBatch} made, on the other side. */
export function unpackBatch<T>(data: unknown): T[] | Promise<T[]> {
  if (!(data instanceof ArrayBuffer)) return data as T[];
  const bytes = new Uint8Array(data);
  if (bytes.length >= 4 && 4 + frameLength(bytes) === bytes.length) {
    return decodeFrameBody(bytes.subarray(4)) as T[];
  }
  // A batch larger than one frame: its frames one after the other.
  let at = 0;
  return readFrame((n) => {
    const out = bytes.subarray(at, at + n);
    at += out.length;
    return Promise.resolve(out);
  }) as Promise<T[]>;
}

/**
 * A `message` handler that unpacks each batch and hands it to `handler` in
 * the order posted (a batch larger than one frame is decoded asynchronously;
 * the batches after it wait for it).
 */
export function batchReceiver<T>(handler: (batch: T[]) => void): (data: unknown) => void {
  let tail: Promise<void> = Promise.resolve();
  let waiting = 0;
  const settle = () => void waiting--;
  return (data) => {
    if (waiting === 0) {
      const batch = unpackBatch<T>(data);
      if (!(batch instanceof Promise)) return handler(batch);
      waiting++;
      tail = batch.then(handler).finally(settle);
      return;
    }
    waiting++;
    tail = tail.then(async () => handler(await unpackBatch<T>(data))).finally(settle);
  };
}
