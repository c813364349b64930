/**
 * `ThreadingTcpServer`: Python's `socketserver.ThreadingTCPServer`.
 *
 * @module
 */

import { TcpServer, type TcpServerOptions } from "./tcp_server.ts";

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
 * ```ts ignore
 * import { BaseRequestHandler, ThreadingTcpServer } from "./mod.ts";
 *
 * export class Echo extends BaseRequestHandler {
 *   override async handle() {
 *     await this.request.readable.pipeTo(this.request.writable);
 *   }
 * }
 *
 * if (import.meta.main) {
 *   await using server = new ThreadingTcpServer({ port: 9011, handler: Echo });
 *   await server.serveForever();
 * }
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
