/**
 * `ForkingTcpServer`: Python's `socketserver.ForkingTCPServer`.
 *
 * @module
 */

import { TcpServer, type TcpServerOptions } from "./tcp_server.ts";

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
 * ```ts ignore
 * import { ForkingTcpServer, type RequestConn } from "./mod.ts";
 *
 * export async function talk(conn: RequestConn) {
 *   await conn.readable.pipeTo(conn.writable);
 * }
 *
 * if (import.meta.main) {
 *   await using server = new ForkingTcpServer({ port: 9011, handler: talk });
 *   await server.serveForever();
 * }
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
