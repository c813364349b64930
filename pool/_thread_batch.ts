/**
 * How a batch of messages crosses between a pool and one of its threads.
 *
 * `postMessage` structured-clones an array of message objects, and Deno's
 * `node:worker_threads` layer walks what it delivers once more: for a chunk
 * of 25,000 numbers that is a large part of what a thread pool spends on
 * it. So a batch of many plain items or results (those of `isPlain` in
 * `_protocol.ts`), whose other messages carry only what the wire format
 * (`_internal/wire.ts`, MessagePack) keeps exactly (function references,
 * error descriptions), crosses as its MessagePack bytes in one
 * `ArrayBuffer` of its own, which is transferred, not copied. A batch of few
 * items, or one that carries codec values of the `"clone"` mode (shared
 * memory, typed arrays, live handles of thread primitives), crosses as the
 * array of objects, as before.
 *
 * @module
 */

import { packWith, unpack } from "../_internal/wire.ts";

/** A message of a batch, as far as packing is concerned. */
interface Message {
  t: string;
  p?: 1;
  /** A run's items (plain with `p` 1). */
  a?: readonly unknown[] | object;
  /** An ok's results (plain with `p` 1). */
  r?: readonly unknown[] | object;
}

/**
 * Fewest plain items (or results) a batch carries to be packed: below this,
 * structured clone of a few small objects is faster than allocating and
 * transferring a buffer (Deno 2.9.6, packing every batch: a no-op `apply`
 * round trip took ~107 µs instead of ~90; `map` chunks of 32 or 64 numbers
 * went about as fast either way, of 256 about 1.6 times as fast packed).
 */
const PACK_ITEMS = 64;

/** A batch as posted: its data and what to transfer. */
export interface PackedBatch {
  data: unknown;
  transfer: ArrayBuffer[];
}

/**
 * Whether `batch` is worth packing: every message carries only what the
 * wire format keeps exactly, and together they carry at least
 * {@linkcode PACK_ITEMS} plain items or results.
 */
function worthPacking(batch: readonly Message[]): boolean {
  let items = 0;
  for (const m of batch) {
    if (m.t === "run" || m.t === "ok") {
      // A run's items and an ok's results are codec output (clone mode) unless marked plain.
      if (m.p !== 1) return false;
      const plain = m.t === "run" ? m.a : m.r;
      if (Array.isArray(plain)) items += plain.length;
    }
  }
  return items >= PACK_ITEMS;
}

/** Packs a batch for `postMessage`: one buffer of bytes when it can (see the module doc). */
export function packBatch(batch: readonly Message[]): PackedBatch {
  if (!worthPacking(batch)) return { data: batch, transfer: [] };
  let bytes: Uint8Array;
  try {
    // "copy": a buffer of its own (never `pack()`, whose small results share one block).
    bytes = packWith(0, (w) => w.value(batch), "copy");
  } catch {
    // Not expected (the check above is conservative), but structured clone carries more.
    return { data: batch, transfer: [] };
  }
  // Only a buffer the bytes have to themselves may be handed over (a very large result can be
  // the front of a bigger buffer).
  if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) {
    bytes = bytes.slice();
  }
  // The buffer, not the Uint8Array: Deno's `node:worker_threads` takes some 30 times longer to
  // deliver a Uint8Array of a few hundred KiB than its ArrayBuffer.
  const buffer = bytes.buffer as ArrayBuffer;
  return { data: buffer, transfer: [buffer] };
}

/** Unpacks what {@linkcode packBatch} made, on the other side. */
export function unpackBatch<T>(data: unknown): T[] {
  if (!(data instanceof ArrayBuffer)) return data as T[];
  // The buffer was transferred: it is this side's own, so nothing is copied out of it.
  return unpack(new Uint8Array(data), true) as T[];
}
