// Copyright the multiproc authors. MIT license.
/**
 * The reference that travels through a queue in place of a large item kept
 * in shared memory (see `item_store.ts`), and the layout of the rings it
 * points into: what the writer (`item_store.ts`), the reader
 * (`item_reader.ts`) and the hub (which weighs items) share.
 *
 * @module
 */

/** Bytes of one ring's blocks (its pages exist once written). */
export const RING_BYTES = 16 * 1024 * 1024;
/**
 * Bytes of a ring file, mapped whole: its blocks, then a page whose first
 * word counts the blocks in use (reserved by the writer, not yet freed).
 */
export const RING_FILE_BYTES = RING_BYTES + 4096;
/** The index (in 32-bit words) of the count of blocks in use. */
export const IN_USE_WORD = RING_BYTES / 4;
/** First byte of a reference: `0xc1` is never used by MessagePack, so no encoded item starts so. */
export const REF_TAG = 0xc1;
/** Bytes of a reference: tag, 3 reserved, offset, length, generation (u32 each), ring key (8). */
export const REF_BYTES = 24;
/** Characters of a ring's key, in its file name and in a reference. */
export const KEY_BYTES = 8;
/** A block's header: length, then state (its generation, or 0 once freed). */
export const HEADER = 8;

/** The path of the ring with key `key` in the hub's folder `dir`. */
export function ringPath(dir: string, key: string): string {
  return `${dir}/items-${key}`;
}

/** The characters of bytes below 256. */
export const latin1 = (bytes: Uint8Array): string => String.fromCharCode(...bytes);

/** Writes `n` as an unsigned 32-bit little-endian number at `at` of `bytes`. */
export function setU32(bytes: Uint8Array, at: number, n: number): void {
  bytes[at] = n;
  bytes[at + 1] = n >>> 8;
  bytes[at + 2] = n >>> 16;
  bytes[at + 3] = n >>> 24;
}

/** The unsigned 32-bit little-endian number at `at` of `bytes`. */
export function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16 | bytes[at + 3] << 24) >>> 0;
}

/** Whether queue item bytes are a reference to bytes in a ring. */
export function isStoredRef(item: Uint8Array): boolean {
  return item.length === REF_BYTES && item[0] === REF_TAG;
}

/**
 * The bytes an item stands for: its own, or, for a reference, those of the
 * block it names (what a consumer holds when it fetches it ahead).
 */
export function storedWeight(item: Uint8Array): number {
  return isStoredRef(item) ? u32(item, 8) : item.byteLength;
}
