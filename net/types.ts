/**
 * Types shared by the `net` module: addresses, the connection a handler is
 * given, what a handler knows about its server, and the handler itself.
 *
 * @module
 */

/** A TCP address: the server's bound address, or a client's. */
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
 */
export type ServerMode = "async" | "thread" | "process" | "prefork-process" | "prefork-thread";

/**
 * The connection a handler is given: the shape of a `Deno.Conn`, the same
 * in every mode. `remoteAddr` is the TCP client and `localAddr` the
 * server's TCP address even where the bytes travel over a relay.
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

/** What a handler knows about the server that gave it the connection (Python's `handler.server`). */
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
 */
export type RequestHandlerFunction = (
  conn: RequestConn,
  client: TcpAddress,
  server: ServerInfo,
) => unknown;

/**
 * A connection handler class, like a `BaseRequestHandler` subclass: a new
 * instance per connection, then `setup()`, `handle()` and `finish()`.
 */
export interface RequestHandlerClass {
  /** Called with the connection, the client's address and the server. */
  new (request: RequestConn, clientAddress: TcpAddress, server: ServerInfo): {
    setup?(): unknown;
    handle(): unknown;
    finish?(): unknown;
  };
}
