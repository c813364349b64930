/**
 * `ForkingTcpServer`: Python's `socketserver.ForkingTCPServer`.
 *
 * @module
 */

import { TcpServer } from "./tcp_server.ts";
import type { TcpServerOptions } from "./tcp_server_options.ts";

/**
 * A {@linkcode TcpServer} in `"process"` mode: each connection is handled
 * by its own child process, which exits when the handler returns, as with
 * Python's `ForkingTCPServer` (and the seed's server). At most
 * `maxConnections` (40, Python's `max_children`) are served at once.
 *
 * - Differs from Python: Deno has no `fork()`, so each child is a fresh
 *   `deno run` (started ahead of need, see `workers`) that imports the
 *   handler's module, and the server relays the client's bytes to it over a
 *   private Unix socket. Set `connectionsPerRunner: 0` to let each child
 *   serve many connections one after another.
 *
 * @example
 * ```ts
 * import { ForkingTcpServer } from "@multiproc/multiproc/net";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export async function shout(conn: RequestConn) {…}: it writes back in
 * // upper case what it reads, until the client closes its side.
 * const shout = { module: import.meta.resolve("../examples/workers.ts"), export: "shout" };
 *
 * await using server = new ForkingTcpServer({ hostname: "127.0.0.1", port: 0, handler: shout });
 * const serving = server.serveForever();
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.address.port });
 * await conn.write(new TextEncoder().encode("hello"));
 * await conn.closeWrite();
 * equal(await new Response(conn.readable).text(), "HELLO");
 * await server.shutdown();
 * await serving;
 * ```
 */
export class ForkingTcpServer extends TcpServer {
  /**
   * Binds and listens; see {@linkcode TcpServer}.
   *
   * @param options As for {@linkcode TcpServer}, without `mode`.
   */
  constructor(options: Omit<TcpServerOptions, "mode">) {
    super({ ...options, mode: "process" });
  }
}
