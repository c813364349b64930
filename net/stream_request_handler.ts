/**
 * `StreamRequestHandler`: Python's `socketserver.StreamRequestHandler`, a
 * handler that reads the client's bytes by lines or by counts (`rfile`) and
 * writes whole buffers or strings (`wfile`).
 *
 * @module
 */

import { BaseRequestHandler } from "./base_request_handler.ts";
import type { RequestConn, ServerInfo, TcpAddress } from "./types.ts";

/** Bytes asked of the connection per read. */
const CHUNK = 64 * 1024;
/** A newline, the end of a line. */
const NEWLINE = 0x0a;

const encoder = new TextEncoder();

/** Checks the byte count given to a read. */
function checkSize(size: unknown, method: string): asserts size is number | undefined {
  if (size === undefined) return;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(
      `Cannot ${method} as size must be an integer >= 0 (or left out for no limit): received ${
        String(size)
      }`,
    );
  }
}

/**
 * The client's bytes, read as a handler asks for them: Python's `rfile`
 * (a buffered reader over the socket). Reads return `Uint8Array`s, and an
 * empty one once the client has closed its side and everything it sent has
 * been read, as Python's `b''`.
 *
 * @example Lines, then a counted body
 * ```ts
 * import { RequestReader } from "@multiproc/multiproc/net";
 * import { deepEqual } from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("GET /\nlength: 3\nabc");
 * let sent = false;
 * const conn = {
 *   read(p: Uint8Array) { // a connection whose client sent `bytes`, then closed
 *     if (sent) return Promise.resolve(null);
 *     sent = true;
 *     p.set(bytes);
 *     return Promise.resolve(bytes.length);
 *   },
 * };
 * const rfile = new RequestReader(conn);
 * const text = (b: Uint8Array) => new TextDecoder().decode(b);
 * deepEqual(text(await rfile.readline()), "GET /\n");
 * deepEqual(text(await rfile.readline()), "length: 3\n");
 * deepEqual(text(await rfile.read(3)), "abc");
 * deepEqual(await rfile.read(), new Uint8Array()); // the client is done
 * ```
 */
export class RequestReader implements AsyncIterable<Uint8Array> {
  #conn: Pick<RequestConn, "read">;
  #buffer = new Uint8Array(0);
  #start = 0;
  #end = 0;
  #eof = false;

  /**
   * Reads from a connection; a `StreamRequestHandler` makes its own.
   *
   * @param conn The connection to read from (only its `read` is used).
   */
  constructor(conn: Pick<RequestConn, "read">) {
    this.#conn = conn;
  }

  /** Reads more into the buffer; `false` at the end of the stream. */
  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
    } else if (this.#start > 0) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (this.#buffer.length - this.#end < CHUNK) {
      const bigger = new Uint8Array(this.#end + CHUNK);
      bigger.set(this.#buffer.subarray(0, this.#end));
      this.#buffer = bigger;
    }
    const n = await this.#conn.read(this.#buffer.subarray(this.#end));
    if (n === null) {
      this.#eof = true;
      return false;
    }
    this.#end += n;
    return true;
  }

  /** Takes the next `n` buffered bytes (a copy: the buffer is reused). */
  #take(n: number): Uint8Array {
    const out = this.#buffer.slice(this.#start, this.#start + n);
    this.#start += n;
    return out;
  }

  /**
   * Reads one line: the bytes up to and including the next newline (`\n`),
   * or up to the end of the stream, or `size` bytes, whichever comes first.
   *
   * @param size Most bytes to return (Python's `readline(size)`); default: no limit.
   * @returns The line, with its newline; empty at the end of the stream.
   * @throws {RangeError} If `size` is not an integer >= 0.
   */
  async readline(size?: number): Promise<Uint8Array> {
    checkSize(size, "read a line");
    const most = size ?? Infinity;
    let searched = 0;
    for (;;) {
      const buffered = this.#end - this.#start;
      const upTo = Math.min(buffered, most);
      const at = this.#buffer.subarray(this.#start + searched, this.#start + upTo).indexOf(
        NEWLINE,
      );
      if (at !== -1) return this.#take(searched + at + 1);
      if (upTo >= most) return this.#take(most);
      searched = upTo;
      if (!(await this.#fill())) return this.#take(this.#end - this.#start);
    }
  }

  /**
   * Reads `size` bytes: fewer only if the stream ends first. With no
   * `size`, reads everything until the client closes its side.
   *
   * @param size How many bytes; default: all until the end of the stream.
   * @returns The bytes; empty at the end of the stream.
   * @throws {RangeError} If `size` is not an integer >= 0.
   */
  async read(size?: number): Promise<Uint8Array> {
    checkSize(size, "read");
    const most = size ?? Infinity;
    while (this.#end - this.#start < most && await this.#fill());
    return this.#take(Math.min(most, this.#end - this.#start));
  }

  /** Yields line after line (as {@linkcode RequestReader.readline}) until the end of the stream. */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }
}

/**
 * Writes to the client: Python's `wfile`, unbuffered as its default
 * `wbufsize = 0` makes it: every `write()` is sent whole before it
 * resolves.
 *
 * @example
 * ```ts
 * import { RequestWriter } from "@multiproc/multiproc/net";
 * import { equal } from "node:assert/strict";
 *
 * const sent: number[] = [];
 * // A connection that takes two bytes per write, as a socket may.
 * const conn = {
 *   write(p: Uint8Array) {
 *     sent.push(...p.subarray(0, 2));
 *     return Promise.resolve(Math.min(2, p.length));
 *   },
 * };
 * const wfile = new RequestWriter(conn);
 * equal(await wfile.write("héllo\n"), 7); // a string is sent as UTF-8
 * equal(new TextDecoder().decode(new Uint8Array(sent)), "héllo\n");
 * ```
 */
export class RequestWriter {
  #conn: Pick<RequestConn, "write">;

  /**
   * Writes to a connection; a `StreamRequestHandler` makes its own.
   *
   * @param conn The connection to write to (only its `write` is used).
   */
  constructor(conn: Pick<RequestConn, "write">) {
    this.#conn = conn;
  }

  /**
   * Sends all of `data`: bytes as they are, a string as UTF-8.
   *
   * @returns How many bytes were sent.
   * @throws {TypeError} If `data` is neither bytes nor a string.
   */
  async write(data: Uint8Array | string): Promise<number> {
    let bytes: Uint8Array;
    if (typeof data === "string") bytes = encoder.encode(data);
    else if (data instanceof Uint8Array) bytes = data;
    else {
      throw new TypeError(
        `Cannot write to the client as the data is neither a Uint8Array nor a string: received ${
          data === null ? "null" : typeof data
        }`,
      );
    }
    let done = 0;
    while (done < bytes.length) done += await this.#conn.write(bytes.subarray(done));
    return bytes.length;
  }

  /** Sends what is buffered: nothing, as every `write()` sends at once (Python's `flush()`). */
  flush(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A connection handler that reads the client's bytes by lines or counts and
 * writes back: Python's `socketserver.StreamRequestHandler`. Subclass it,
 * override `handle()`, **export** the subclass, and pass it as a server's
 * `handler`.
 *
 * - `this.rfile` ({@linkcode RequestReader}): `await readline()`,
 *   `await read(n)`, `for await (const line of this.rfile)`; an empty
 *   result at the end of the stream.
 * - `this.wfile` ({@linkcode RequestWriter}): `await write(bytes or
 *   string)`, sent whole.
 * - Both exist from the start, so an overridden `setup()` need not call
 *   `super.setup()` (Python's must); the connection is closed after
 *   `finish()`.
 *
 * @example A line-by-line upper-casing echo
 * ```ts
 * import { TcpServer } from "@multiproc/multiproc/net";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export class ShoutLines extends StreamRequestHandler {
 * //   override async handle() {
 * //     for await (const line of this.rfile) await this.wfile.write(decode(line).toUpperCase());
 * //   }
 * // }
 * const ShoutLines = { module: import.meta.resolve("../examples/workers.ts"), export: "ShoutLines" };
 *
 * await using server = new TcpServer({ hostname: "127.0.0.1", port: 0, handler: ShoutLines, mode: "thread" });
 * const serving = server.serveForever();
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.address.port });
 * await conn.write(new TextEncoder().encode("one\ntwo\n"));
 * await conn.closeWrite();
 * equal(await new Response(conn.readable).text(), "ONE\nTWO\n");
 * await server.shutdown();
 * await serving;
 * ```
 */
export class StreamRequestHandler extends BaseRequestHandler {
  /** The client's bytes, read by lines or counts (Python's `self.rfile`). */
  readonly rfile: RequestReader;
  /** Writes to the client (Python's `self.wfile`). */
  readonly wfile: RequestWriter;

  /**
   * Stores the connection, client address and server, and makes `rfile` and
   * `wfile`. The server calls it; a subclass constructor must pass all
   * three to `super`.
   *
   * @param request The connection.
   * @param clientAddress The client's address.
   * @param server The server.
   */
  constructor(request: RequestConn, clientAddress: TcpAddress, server: ServerInfo) {
    super(request, clientAddress, server);
    this.rfile = new RequestReader(request);
    this.wfile = new RequestWriter(request);
  }
}
