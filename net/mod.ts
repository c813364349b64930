/**
 * TCP servers whose connections are served by this process, by threads, or
 * by child processes: Python's `socketserver` (`TCPServer`,
 * `ThreadingTCPServer`, `ForkingTCPServer`, `BaseRequestHandler`) for
 * Deno, plus prefork servers that share a port across processes or threads.
 *
 * ```ts ignore
 * import { type RequestConn, TcpServer } from "./mod.ts";
 *
 * export async function talk(conn: RequestConn) {
 *   const buf = new Uint8Array(1024);
 *   let n;
 *   while ((n = await conn.read(buf)) !== null) {
 *     await conn.write(new TextEncoder().encode(new TextDecoder().decode(buf.subarray(0, n)).toUpperCase()));
 *   }
 * }
 *
 * if (import.meta.main) {
 *   await using server = new TcpServer({ port: 9011, handler: talk, mode: "process" });
 *   await server.serveForever();
 * }
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./base_request_handler.ts";
export * from "./tcp_server.ts";
export * from "./threading_tcp_server.ts";
export * from "./forking_tcp_server.ts";
