/**
 * The Node adapter's memory for bytes about to be overwritten in full.
 *
 * @module
 */

import { Buffer } from "node:buffer";

/**
 * A buffer of `n` bytes of its own, for a caller that writes every byte of it
 * before anything reads it: `Buffer.allocUnsafeSlow`'s memory (not zeroed,
 * not from Node's shared pool), as a plain `Uint8Array` (a `Buffer`'s
 * `slice()` is a view, a `Uint8Array`'s a copy). Zeroing a 1 MiB block of
 * the wire writer's results (`wire_room.ts`) cost as much as copying 64
 * KiB into it: see `room()` there.
 *
 * @param n The size in bytes.
 * @returns The bytes, whose contents are unspecified until written.
 */
export function uninitializedBytes(n: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.allocUnsafeSlow(n).buffer);
}
