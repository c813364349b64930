/**
 * The byte format of every message that crosses a socket or pipe: a subset
 * of MessagePack (https://msgpack.org), written by `wire_writer.ts` and
 * read by `wire_reader.ts` (import both from `wire.ts`).
 *
 * Why not JSON: the values that cross carry binary data (the bytes of a
 * typed array, or a queue item already encoded, see `codec.ts`), which JSON
 * can only carry as base64 (a third bigger, and slow both ways), and strings,
 * which JSON escapes and unescapes, once per hop. Here a string is its UTF-8
 * bytes behind a length, bytes are bytes behind a length, and a reader never
 * scans for a delimiter. Why MessagePack: it is the smallest well-known
 * format with a type for bytes, so a frame can be read by other tools.
 *
 * What is written: `null`, booleans, numbers (integers of up to 32 bits as
 * such, others as float64), strings, arrays, plain objects (string keys;
 * properties whose value is `undefined` are left out, and `undefined` in an
 * array becomes `null`, as in JSON) and `Uint8Array`s (MessagePack's `bin`).
 * A string that is not well-formed UTF-16 (a lone surrogate, which UTF-8
 * cannot carry) is written as extension type 1, its UTF-16 code units, so
 * every string arrives exactly as it was. Anything else is refused with a
 * `TypeError`: the values that reach the writer were built for it (see
 * `protocol.ts` and `codec.ts`).
 *
 * The reader is given bytes from a peer that may be hostile or broken: it
 * checks every length against what it has, refuses types it does not write
 * and nesting deeper than {@linkcode MAX_WIRE_DEPTH}, and never evaluates
 * anything. The `bin` values it returns are copies (the frame they came in
 * may be a reused read buffer).
 *
 * @module
 */

/** Deepest nesting the reader accepts (the codec refuses values nested deeper than 1000 levels). */
export const MAX_WIRE_DEPTH = 1100;

/** Extension type of a string that is not well-formed UTF-16, as little-endian code units. */
export const EXT_UTF16 = 1;
