/**
 * `BaseRequestHandler`: Python's `socketserver.BaseRequestHandler`.
 *
 * @module
 */

import type { RequestConn, ServerInfo, TcpAddress } from "./types.ts";

/**
 * The base class of connection handlers: Python's
 * `socketserver.BaseRequestHandler`. Subclass it, override
 * {@linkcode BaseRequestHandler.handle}, **export** the subclass, and pass
 * it as a server's `handler`.
 *
 * - A new instance is made for every connection, in whichever process or
 *   thread serves it, with `request` (the connection), `clientAddress` and
 *   `server` set.
 * - Then `setup()`, `handle()` and `finish()` run in that order, each
 *   awaited; `finish()` runs even if `handle()` throws, not if `setup()`
 *   throws (as in Python). The connection is closed afterwards.
 * - A class is recognised as a handler class by its `prototype.handle`, so
 *   any exported class with a `handle()` method works; extending this one
 *   gives the fields their types.
 * - Differs from Python: the constructor only stores the three fields (it
 *   cannot await), and the server runs the three steps; in process and
 *   thread modes the constructor's own code runs in the child, the parent
 *   never constructs a handler.
 *
 * @example An upper-casing echo handler
 * ```ts
 * import { ThreadingTcpServer } from "@multiproc/multiproc/net";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export class Shout extends BaseRequestHandler {
 * //   override async handle() { …read this.request, write it back in upper case… }
 * // }
 * const Shout = { module: import.meta.resolve("../examples/workers.ts"), export: "Shout" };
 *
 * await using server = new ThreadingTcpServer({ hostname: "127.0.0.1", port: 0, handler: Shout });
 * const serving = server.serveForever();
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.address.port });
 * await conn.write(new TextEncoder().encode("hello"));
 * await conn.closeWrite();
 * equal(await new Response(conn.readable).text(), "HELLO");
 * await server.shutdown();
 * await serving;
 * ```
 */
export class BaseRequestHandler {
  /** The connection (Python's `self.request`). */
  readonly request: RequestConn;
  /** The client's address (Python's `self.client_address`). */
  readonly clientAddress: TcpAddress;
  /** The server (Python's `self.server`): its address, mode and `shutdown()`. */
  readonly server: ServerInfo;

  /**
   * Stores the connection, client address and server. The server calls it;
   * a subclass constructor must pass all three to `super`.
   *
   * @param request The connection.
   * @param clientAddress The client's address.
   * @param server The server.
   */
  constructor(request: RequestConn, clientAddress: TcpAddress, server: ServerInfo) {
    this.request = request;
    this.clientAddress = clientAddress;
    this.server = server;
  }

  /** Runs before {@linkcode BaseRequestHandler.handle}; does nothing by default. */
  setup(): unknown {
    return undefined;
  }

  /** Serves the connection; override it. Does nothing by default (the connection is closed). */
  handle(): unknown {
    return undefined;
  }

  /** Runs after {@linkcode BaseRequestHandler.handle}, even if it threw; does nothing by default. */
  finish(): unknown {
    return undefined;
  }
}
