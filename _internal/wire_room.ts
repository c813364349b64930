/**
 * Where the bytes of packed messages (`wire_pack.ts`) are kept: carved from
 * blocks shared by many results ({@linkcode room}), or where
 * {@linkcode placeResults} says. A policy of its own, apart from the packing:
 * what a buffer of its own for each result costs, against sharing one.
 *
 * @module
 */

import { uninitializedBytes } from "./runtime.ts";

/** Results of `pack` up to an eighth of this size are carved from a shared block (see {@linkcode room}). */
const ARENA_BYTES = 256 * 1024;
let arena = new Uint8Array(ARENA_BYTES);
let arenaAt = 0;
/**
 * Larger results, up to a quarter of this size, are carved from blocks of
 * this size, whose bytes are not zeroed first where the runtime can skip it
 * (see {@linkcode room}).
 */
const LARGE_ARENA_BYTES = 1024 * 1024;
/** Made at the first large result. */
let largeArena = new Uint8Array(0);
let largeArenaAt = 0;

/**
 * Room for a result of `n` bytes. Up to a quarter of
 * {@linkcode LARGE_ARENA_BYTES}, it is carved from a block shared by many
 * results, so it is a view that may not start at its buffer's beginning,
 * nor span all of it: allocating an `ArrayBuffer` each costs more than
 * encoding a small item, and, for large ones (a 64 KiB typed array), a
 * fresh buffer for each result, beside the decoded copy's, made a round
 * trip on Node about twice as slow (glibc's allocator, its memory given
 * back and taken again). A large block is not zeroed on Node
 * (`uninitializedBytes`): each byte of it is written before it is handed out,
 * and zeroing a 1 MiB block cost as much as copying 64 KiB into it (a 64 KiB
 * array's round trip measured 8–18% faster). What the rest of a block
 * holds, seen through a result's `.buffer`, is other results and, beyond
 * them, this process's earlier memory, as a pooled `Buffer`'s `.buffer` is.
 */
export function room(n: number): Uint8Array {
  if (placer !== undefined) {
    const placed = placer(n);
    if (placed !== undefined) return placed;
  }
  return blockRoom(n);
}

/**
 * Room for `n` bytes carved from {@linkcode room}'s shared blocks, whatever
 * {@linkcode placeResults} says: for small records of their own that live
 * as long as the results do (a stored item's reference, `item_store.ts`).
 */
export function blockRoom(n: number): Uint8Array {
  if (n <= ARENA_BYTES / 8) {
    if (arenaAt + n > ARENA_BYTES) {
      arena = new Uint8Array(ARENA_BYTES);
      arenaAt = 0;
    }
    arenaAt += n;
    return arena.subarray(arenaAt - n, arenaAt);
  }
  if (n > LARGE_ARENA_BYTES / 4) return new Uint8Array(n);
  if (largeArenaAt + n > largeArena.length) {
    largeArena = uninitializedBytes(LARGE_ARENA_BYTES);
    largeArenaAt = 0;
  }
  largeArenaAt += n;
  return largeArena.subarray(largeArenaAt - n, largeArenaAt);
}

/** Where results go while {@linkcode placeResults} runs, if it says (else {@linkcode room}'s blocks). */
let placer: ((n: number) => Uint8Array | undefined) | undefined;

/**
 * Runs `encode`, asking `place` for the room of each result made meanwhile
 * (by `pack`, `packWith` with `"share"`, and the like): it
 * returns a view of exactly `n` bytes for the result to be written into, or
 * `undefined` for the usual room. A result written into a buffer grown past
 * `KEEP_BYTES` (`wire_pack.ts`) is that buffer, and never asks.
 *
 * @param place Room for a result of `n` bytes, or `undefined`.
 * @param encode The encoding.
 * @returns What `encode` returns.
 */
export function placeResults<T>(place: (n: number) => Uint8Array | undefined, encode: () => T): T {
  const saved = placer;
  placer = place;
  try {
    return encode();
  } finally {
    placer = saved;
  }
}
