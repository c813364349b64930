// Copyright the multiproc authors. MIT license.
/**
 * The types of `Connection`'s bytes methods (`connection.ts`): the bytes
 * they take ({@linkcode BytesLike}) and the options of `recvBytes()`
 * ({@linkcode RecvBytesOptions}). A file of their own, as `Pool`'s options
 * are (`pool/pool_options.ts`), so that the connection's file holds the
 * class.
 *
 * @module
 */

import type { QueueOptions } from "./queue.ts";

/**
 * Bytes as {@linkcode Connection.sendBytes} and
 * {@linkcode Connection.recvBytesInto} take them: a buffer, or any view of
 * one (offsets and sizes count bytes, whatever the view's element size).
 *
 * @example
 * ```ts
 * import { type BytesLike, Pipe } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const [a, b] = Pipe();
 * const floats: BytesLike = new Float64Array([1.5, 2.5]);
 * a.sendBytes(floats, 8); // the second number's 8 bytes
 * equal(new DataView((await b.recvBytes()).buffer).getFloat64(0, true), 2.5);
 * ```
 */
export type BytesLike = ArrayBufferLike | ArrayBufferView;

/**
 * Options of {@linkcode Connection.recvBytes}: `maxlength`, and the
 * `timeout` and `signal` of every blocking call.
 *
 * @example
 * ```ts
 * import { Empty, Pipe, type RecvBytesOptions } from "@multiproc/multiproc";
 * import { rejects } from "node:assert/strict";
 *
 * const [a, b] = Pipe();
 * const options: RecvBytesOptions = { maxlength: 1024, timeout: 10 };
 * await rejects(b.recvBytes(options), Empty); // nothing came within 10 ms
 * a.close();
 * ```
 */
export interface RecvBytesOptions extends QueueOptions {
  /**
   * Most bytes the message may have: a longer one is refused with a
   * `RangeError` and left for the next receive.
   *
   * @default {undefined}
   */
  maxlength?: number;
}
