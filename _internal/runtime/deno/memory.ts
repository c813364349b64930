/**
 * The Deno adapter's memory for bytes about to be overwritten in full.
 *
 * @module
 */

/**
 * A buffer of `n` bytes of its own, for a caller that writes every byte of it
 * before anything reads it. Deno has no allocation that skips zeroing, so
 * this is `new Uint8Array(n)`.
 *
 * @param n The size in bytes.
 * @returns The bytes, zeroed here (their contents are unspecified on Node).
 */
export function uninitializedBytes(n: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(n);
}
