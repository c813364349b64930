// Copyright the multiproc authors. MIT license.
/**
 * The bytes of a `Connection`'s bytes methods (`sendBytes()`, `recvBytes()`,
 * `recvBytesInto()`, in `connection.ts`): what counts as bytes, the checks of
 * the offsets and sizes given with them, and how a value that is not bytes is
 * named in an error. Apart from the connection as none of it needs an end of
 * a pipe.
 *
 * @module
 */

/** `value`'s bytes, if it is bytes (a buffer or a view of one). */
export function bytesOf(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (typeof SharedArrayBuffer === "function" && value instanceof SharedArrayBuffer) {
    return new Uint8Array(value);
  }
  return undefined;
}

/** Describes a received value that is not bytes, for an error message. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return value.constructor?.name ?? "object";
}

/** Checks a byte count or offset given to a bytes method. */
export function checkCount(value: unknown, name: string, what: string): asserts value is number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new TypeError(
      `Cannot ${what} as ${name} is not an integer: received ${
        typeof value === "number" ? value : typeof value
      }`,
    );
  }
  if (value < 0) throw new RangeError(`Cannot ${what} as ${name} is negative: received ${value}`);
}

/**
 * The bytes `sendBytes(buf, offset, size)` sends: the `size` bytes from
 * `offset` in `buf` (both in bytes, whatever the view's element size; `size`
 * defaults to the rest of `buf`), checked.
 *
 * @throws {TypeError} If `buf` is not bytes, or `offset` or `size` is not an integer.
 * @throws {RangeError} If `offset` or `size` is negative or reaches past the end of `buf`.
 */
export function bytesToSend(buf: unknown, offset: number, size: number | undefined): Uint8Array {
  const what = "send bytes";
  const bytes = bytesOf(buf);
  if (bytes === undefined) {
    throw new TypeError(
      `Cannot ${what} as the buffer is not an ArrayBuffer or a view of one: received ${
        describe(buf)
      }`,
    );
  }
  checkCount(offset, "offset", what);
  if (offset > bytes.byteLength) {
    throw new RangeError(
      `Cannot ${what} as offset ${offset} is past the end of the ${bytes.byteLength}-byte buffer`,
    );
  }
  size ??= bytes.byteLength - offset;
  checkCount(size, "size", what);
  if (offset + size > bytes.byteLength) {
    throw new RangeError(
      `Cannot ${what} as offset ${offset} + size ${size} is past the end of the ${bytes.byteLength}-byte buffer`,
    );
  }
  // A view of exactly these bytes: the message carries them and nothing else of the buffer. Bytes
  // in shared memory are copied out (the message is a copy in any case; shared, it is refused).
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset + offset, size);
  return view.buffer instanceof ArrayBuffer ? view : view.slice();
}

/**
 * The bytes `recvBytesInto(buf, offset)` writes into: all of `buf`, once
 * `offset` is checked against it.
 *
 * @param what Names the call in the error messages.
 * @throws {TypeError} If `buf` is not bytes, or `offset` is not an integer.
 * @throws {RangeError} If `offset` is negative or past the end of `buf`.
 */
export function bytesToFill(buf: unknown, offset: number, what: string): Uint8Array {
  const into = bytesOf(buf);
  if (into === undefined) {
    throw new TypeError(
      `Cannot ${what} as it is not an ArrayBuffer or a view of one: received ${describe(buf)}`,
    );
  }
  checkCount(offset, "offset", what);
  if (offset > into.byteLength) {
    throw new RangeError(
      `Cannot ${what} as offset ${offset} is past the end of the ${into.byteLength}-byte buffer`,
    );
  }
  return into;
}
