/**
 * Base64, with the TC39 methods where V8 has them (Deno) and a fallback
 * (Node 22 has neither): for the JSON form of the codec and for large items
 * posted between threads.
 *
 * @module
 */

const hasToBase64 = typeof Uint8Array.prototype.toBase64 === "function";
const hasFromBase64 = typeof Uint8Array.fromBase64 === "function";

/** The base64 text of `bytes`. */
export function toBase64(bytes: Uint8Array): string {
  if (hasToBase64) return bytes.toBase64();
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000) as unknown as number[]);
  }
  return btoa(s);
}

/** The bytes of base64 text. */
export function fromBase64(s: string): Uint8Array<ArrayBuffer> {
  if (hasFromBase64) return Uint8Array.fromBase64(s);
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}
