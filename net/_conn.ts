/**
 * The connection object handlers get ({@linkcode ServerConn}), and small
 * helpers for the byte streams between a server and its runners: exact
 * writes, length-prefixed frames, and the pump that relays a connection.
 *
 * @module
 */

import { encodeFrame, readFrame, type ReadLimits } from "../_internal/framing.ts";
import type { NetConn } from "../_internal/runtime.ts";
import type { RequestConn, TcpAddress } from "./types.ts";

/** Bytes asked of the connection per read of {@linkcode ServerConn.readable}. */
const READ_CHUNK = 16 * 1024;

/** A client or server address as `host:port` (`[::1]:port` for IPv6), as logs show it. */
export function formatAddress(address: { hostname: string; port: number }): string {
  return address.hostname.includes(":")
    ? `[${address.hostname}]:${address.port}`
    : `${address.hostname}:${address.port}`;
}

/** A plain `TcpAddress` (what crosses to children and what handlers see). */
export function tcpAddress(hostname: string | undefined, port: number | undefined): TcpAddress {
  return { transport: "tcp", hostname: hostname ?? "", port: port ?? 0 };
}

/**
 * A {@linkcode RequestConn} over a TCP connection, or over the Unix socket
 * of a relay, with the TCP addresses as `remoteAddr` and `localAddr`.
 */
export class ServerConn implements RequestConn {
  #conn: NetConn;
  #remote: TcpAddress;
  #local: TcpAddress;
  #closed = false;
  #readable: ReadableStream<Uint8Array> | undefined;

  constructor(conn: NetConn, remoteAddr: TcpAddress, localAddr: TcpAddress) {
    this.#conn = conn;
    this.#remote = remoteAddr;
    this.#local = localAddr;
  }

  get remoteAddr(): TcpAddress {
    return { ...this.#remote };
  }

  get localAddr(): TcpAddress {
    return { ...this.#local };
  }

  /**
   * The bytes the client sends, ending when it closes its side. Built on
   * `read()` rather than the runtime's own stream, which closes the whole
   * connection at the end of input: a handler that reads the request to its
   * end must still be able to write the reply.
   */
  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const buf = new Uint8Array(READ_CHUNK);
        const n = await this.#conn.read(buf);
        if (n === null) controller.close();
        else controller.enqueue(buf.subarray(0, n));
      },
    });
  }

  get writable(): WritableStream<Uint8Array> {
    return this.#conn.writable;
  }

  read(p: Uint8Array): Promise<number | null> {
    return this.#conn.read(p);
  }

  write(p: Uint8Array): Promise<number> {
    return this.#conn.write(p);
  }

  closeWrite(): Promise<void> {
    return this.#conn.closeWrite();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#conn.close();
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  ref(): void {
    this.#conn.ref();
  }

  unref(): void {
    this.#conn.unref();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Writes all of `bytes`. */
export async function writeAll(conn: NetConn, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await conn.write(bytes.subarray(done));
}

/** Writes one frame (u32 length + JSON). */
export function writeFrame(conn: NetConn, value: unknown): Promise<void> {
  return writeAll(conn, encodeFrame(value));
}

/**
 * Reads one frame, never reading past its end: after a header frame, the
 * same connection carries the client's raw bytes, which must stay unread.
 *
 * @param limits Bounds on what is read (a hello before authentication is small).
 * @returns The value, or `undefined` at a clean end of stream.
 */
export function readFrameFrom(conn: NetConn, limits: ReadLimits = {}): Promise<unknown> {
  return readFrame(async (n) => {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const got = await conn.read(out.subarray(filled));
      if (got === null) break;
      filled += got;
    }
    return out.subarray(0, filled);
  }, limits);
}

/**
 * Writes frames on one connection in order: frames sent by concurrent
 * callers must not interleave (a write may be partial). Errors are
 * swallowed: a closed channel means the other side is gone, which the
 * caller learns another way.
 */
export class FrameWriter {
  #conn: NetConn;
  #chain: Promise<void> = Promise.resolve();

  constructor(conn: NetConn) {
    this.#conn = conn;
  }

  /** Queues a frame; resolves once it is written (or failed). */
  send(value: unknown): Promise<void> {
    const bytes = encodeFrame(value);
    this.#chain = this.#chain.then(() => writeAll(this.#conn, bytes)).catch(() => {});
    return this.#chain;
  }

  /** Resolves once every frame queued so far is written (or failed). */
  flush(): Promise<void> {
    return this.#chain;
  }
}

/** Large enough for bulk transfers to go in few system calls, small enough to allocate per connection. */
const PUMP_BUFFER = 16 * 1024;

/**
 * Copies bytes from `from` to `to` until `from` ends.
 *
 * @returns `"eof"` when `from` ended cleanly, `"error"` when either side failed (closed or reset).
 */
export async function pump(from: NetConn, to: NetConn): Promise<"eof" | "error"> {
  const buf = new Uint8Array(PUMP_BUFFER);
  try {
    while (true) {
      const n = await from.read(buf);
      if (n === null) return "eof";
      let done = 0;
      while (done < n) done += await to.write(buf.subarray(done, n));
    }
  } catch {
    return "error";
  }
}
