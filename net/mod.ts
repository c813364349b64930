/**
 * TCP servers whose connections are served by this process, by threads, or
 * by child processes: Python's `socketserver` (`TCPServer`,
 * `ThreadingTCPServer`, `ForkingTCPServer`, `BaseRequestHandler`,
 * `StreamRequestHandler`) for Deno, plus prefork servers that share a port
 * across processes or threads.
 *
 * ```ts
 * import { TcpServer } from "@multiproc/multiproc/net";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts exports `async function shout(conn)`: it writes back in upper case what
 * // it reads, until the client closes its side.
 * const shout = { module: import.meta.resolve("../examples/workers.ts"), export: "shout" };
 *
 * // A process per connection, as Python's ForkingTCPServer; port 0 picks a free port.
 * await using server = new TcpServer({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   handler: shout,
 *   mode: "process",
 * });
 * const serving = server.serveForever();
 *
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.address.port });
 * await conn.write(new TextEncoder().encode("hello"));
 * await conn.closeWrite();
 * equal(await new Response(conn.readable).text(), "HELLO");
 *
 * await server.shutdown();
 * await serving;
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./base_request_handler.ts";
export * from "./stream_request_handler.ts";
export * from "./tcp_server.ts";
export * from "./tcp_server_options.ts";
export * from "./threading_tcp_server.ts";
export * from "./forking_tcp_server.ts";
