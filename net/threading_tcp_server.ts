/**
 * `ThreadingTcpServer`: Python's `socketserver.ThreadingTCPServer`.
 *
 * @module
 */

import { TcpServer } from "./tcp_server.ts";
import type { TcpServerOptions } from "./tcp_server_options.ts";

/**
 * A {@linkcode TcpServer} in `"thread"` mode: each connection is handled by
 * its own thread (a Web Worker), one connection per thread at a time, as in
 * Python's `ThreadingTCPServer`. Threads are started ahead of need and
 * reused (a Web Worker takes 15–25 ms and about 7 MiB to start, where a
 * Python thread is nearly free); the handler must be exported.
 *
 * - Differs from Python: a thread has its own module instances, so module
 *   state is not shared with the server's thread (use the library's shared
 *   primitives); the bytes are relayed by the server's thread.
 *
 * @example
 * ```ts
 * import { ThreadingTcpServer } from "@multiproc/multiproc/net";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export async function shout(conn: RequestConn) {…}: it writes back in
 * // upper case what it reads, until the client closes its side.
 * const shout = { module: import.meta.resolve("../examples/workers.ts"), export: "shout" };
 *
 * await using server = new ThreadingTcpServer({ hostname: "127.0.0.1", port: 0, handler: shout });
 * const serving = server.serveForever();
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.address.port });
 * await conn.write(new TextEncoder().encode("hello"));
 * await conn.closeWrite();
 * equal(await new Response(conn.readable).text(), "HELLO");
 * await server.shutdown();
 * await serving;
 * ```
 */
export class ThreadingTcpServer extends TcpServer {
  /**
   * Binds and listens; see {@linkcode TcpServer}.
   *
   * @param options As for {@linkcode TcpServer}, without `mode`.
   */
  constructor(options: Omit<TcpServerOptions, "mode">) {
    super({ ...options, mode: "thread" });
  }
}
