/**
 * Types shared by the `net` module: addresses, the connection a handler is
 * given, what a handler knows about its server, and the handler itself.
 *
 * @module
 */

/**
 * A TCP address: the server's bound address, or a client's.
 *
 * @example
 * ```ts
 * import { TcpServer, type TcpAddress } from "@multiproc/multiproc/net";
 * import { equal, ok } from "node:assert/strict";
 *
 * await using server = new TcpServer({ hostname: "127.0.0.1", port: 0, handler: () => {} });
 * const address: TcpAddress = server.address;
 * equal(address.hostname, "127.0.0.1");
 * ok(address.port > 0); // port 0 picked a free port
 * ```
 */
export interface TcpAddress {
  /** Always `"tcp"` (the shape of `Deno.NetAddr`). */
  transport: "tcp";
  /** IP address, e.g. `"127.0.0.1"`. */
  hostname: string;
  /** Port number. */
  port: number;
}

/**
 * How a {@linkcode TcpServer} serves its connections:
 *
 * - `"async"`: every handler runs in the calling process, concurrently (the
 *   baseline; no isolation, no extra cost).
 * - `"thread"`: each connection is handled by its own thread (a Web Worker),
 *   one connection per thread at a time: Python's `ThreadingTCPServer`.
 * - `"process"`: each connection is handled by its own child process:
 *   Python's `ForkingTCPServer` and the seed's server.
 * - `"prefork-process"`, `"prefork-thread"`: N processes or threads each
 *   accept on the same port (`SO_REUSEPORT`, Linux) and serve their
 *   connections concurrently; the kernel spreads connections, nothing is
 *   relayed.
 *
 * @example
 * ```ts
 * import { type ServerMode, TcpServer } from "@multiproc/multiproc/net";
 * import { equal } from "node:assert/strict";
 *
 * const mode: ServerMode = "async"; // or "thread", "process", "prefork-process", "prefork-thread"
 * await using server = new TcpServer({ hostname: "127.0.0.1", port: 0, handler: () => {}, mode });
 * equal(server.mode, mode);
 * ```
 */
export type ServerMode = "async" | "thread" | "process" | "prefork-process" | "prefork-thread";

/**
 * The connection a handler is given: the shape of a `Deno.Conn`, the same
 * in every mode. `remoteAddr` is the TCP client and `localAddr` the
 * server's TCP address even where the bytes travel over a relay.
 *
 * @example A handler that replies with what it read
 * ```ts
 * import { type RequestConn, TcpServer } from "@multiproc/multiproc/net";
 * import { equal } from "node:assert/strict";
 *
 * async function reverse(conn: RequestConn): Promise<void> {
 *   const buf = new Uint8Array(1024);
 *   let text = "";
 *   for (let n; (n = await conn.read(buf)) !== null;) {
 *     text += new TextDecoder().decode(buf.subarray(0, n));
 *   }
 *   await conn.write(new TextEncoder().encode([...text].reverse().join("")));
 * }
 *
 * await using server = new TcpServer({ hostname: "127.0.0.1", port: 0, handler: reverse });
 * const serving = server.serveForever();
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.address.port });
 * await conn.write(new TextEncoder().encode("abc"));
 * await conn.closeWrite(); // the handler's read() returns null
 * equal(await new Response(conn.readable).text(), "cba");
 * await server.shutdown();
 * await serving;
 * ```
 */
export interface RequestConn {
  /** The client's address. */
  readonly remoteAddr: TcpAddress;
  /** The server's address for this connection. */
  readonly localAddr: TcpAddress;
  /** The bytes from the client, as a stream (use this or `read`, not both). */
  readonly readable: ReadableStream<Uint8Array>;
  /** The bytes to the client, as a stream (use this or `write`, not both). */
  readonly writable: WritableStream<Uint8Array>;
  /**
   * Reads up to `p.length` bytes into `p`.
   *
   * @returns How many bytes were read, or `null` once the client has closed its side.
   */
  read(p: Uint8Array): Promise<number | null>;
  /**
   * Writes some of `p` (possibly fewer bytes than given, as `Deno.Conn`).
   *
   * @returns How many bytes were written.
   */
  write(p: Uint8Array): Promise<number>;
  /** Shuts down the sending side: the client reads end of stream, and can still send. */
  closeWrite(): Promise<void>;
  /** Closes the connection; harmless when already closed. */
  close(): void;
  /** A pending read keeps the runtime alive (the default). */
  ref(): void;
  /** A pending read does not keep the runtime alive. */
  unref(): void;
  /** Closes the connection (`using conn = ...`). */
  [Symbol.dispose](): void;
}

/**
 * What a handler knows about the server that gave it the connection (Python's `handler.server`).
 *
 * @example A handler that shuts its server down
 * ```ts
 * import { type RequestConn, type ServerInfo, TcpServer } from "@multiproc/multiproc/net";
 * import { equal } from "node:assert/strict";
 *
 * async function once(conn: RequestConn, _client: unknown, server: ServerInfo): Promise<void> {
 *   await conn.write(new TextEncoder().encode(`${server.mode} server, bye`));
 *   server.shutdown(); // serveForever() resolves once this connection has ended
 * }
 *
 * await using server = new TcpServer({ hostname: "127.0.0.1", port: 0, handler: once });
 * const serving = server.serveForever();
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.address.port });
 * equal(await new Response(conn.readable).text(), "async server, bye");
 * await serving;
 * ```
 */
export interface ServerInfo {
  /** The server's bound address. */
  readonly address: TcpAddress;
  /** How the server serves connections. */
  readonly mode: ServerMode;
  /**
   * Asks the server to shut down, from inside a handler, in any mode (also
   * from a child process or thread). It does not wait: the server stops
   * accepting at once and waits for in-flight connections, this one
   * included, as `TcpServer.shutdown()` does.
   */
  shutdown(): void;
}

/**
 * A connection handler function: called once per connection with the
 * connection, the client's address and the server. The connection is
 * closed when the returned value (or Promise) settles; an error is logged
 * with the client's address and ends that connection only.
 *
 * @example
 * ```ts
 * import { type RequestHandlerFunction, TcpServer } from "@multiproc/multiproc/net";
 * import { equal } from "node:assert/strict";
 *
 * const greet: RequestHandlerFunction = async (conn, client) => {
 *   await conn.write(new TextEncoder().encode(`hello ${client.hostname}`));
 * };
 * await using server = new TcpServer({ hostname: "127.0.0.1", port: 0, handler: greet });
 * const serving = server.serveForever();
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.address.port });
 * equal(await new Response(conn.readable).text(), "hello 127.0.0.1");
 * await server.shutdown();
 * await serving;
 * ```
 */
export type RequestHandlerFunction = (
  conn: RequestConn,
  client: TcpAddress,
  server: ServerInfo,
) => unknown;

/**
 * A connection handler class, like a `BaseRequestHandler` subclass: a new
 * instance per connection, then `setup()`, `handle()` and `finish()`.
 *
 * @example
 * ```ts
 * import {
 *   BaseRequestHandler,
 *   type RequestHandlerClass,
 *   TcpServer,
 * } from "@multiproc/multiproc/net";
 * import { equal } from "node:assert/strict";
 *
 * // In "async" mode the class runs in this process; other modes need it exported.
 * class Greet extends BaseRequestHandler {
 *   override async handle() {
 *     await this.request.write(new TextEncoder().encode(`hello ${this.clientAddress.hostname}`));
 *   }
 * }
 * const handler: RequestHandlerClass = Greet;
 * await using server = new TcpServer({ hostname: "127.0.0.1", port: 0, handler });
 * const serving = server.serveForever();
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.address.port });
 * equal(await new Response(conn.readable).text(), "hello 127.0.0.1");
 * await server.shutdown();
 * await serving;
 * ```
 */
export interface RequestHandlerClass {
  /** Called with the connection, the client's address and the server. */
  new (request: RequestConn, clientAddress: TcpAddress, server: ServerInfo): {
    setup?(): unknown;
    handle(): unknown;
    finish?(): unknown;
  };
}
