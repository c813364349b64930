/**
 * The options of {@linkcode TcpServer}: what serves a connection, where the
 * server listens, how connections are served and how many at once.
 *
 * @module
 */

import type { RequestHandlerClass, RequestHandlerFunction, ServerMode } from "./types.ts";

/**
 * Options for {@linkcode TcpServer}.
 *
 * @example Threads started ahead of need
 * ```ts
 * import { TcpServer, type TcpServerOptions } from "@multiproc/multiproc/net";
 * import { equal } from "node:assert/strict";
 *
 * const options: TcpServerOptions = {
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   // examples/workers.ts exports `async function shout(conn)`: it writes back in upper case.
 *   handler: { module: import.meta.resolve("../examples/workers.ts"), export: "shout" },
 *   mode: "thread",
 *   workers: 1,
 * };
 * await using server = new TcpServer(options);
 * const serving = server.serveForever();
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.address.port });
 * await conn.write(new TextEncoder().encode("hi"));
 * await conn.closeWrite();
 * equal(await new Response(conn.readable).text(), "HI");
 * await server.shutdown();
 * await serving;
 * ```
 */
export interface TcpServerOptions {
  /**
   * What serves each connection: a function `(conn, client, server)`, or a
   * class with a `handle()` method such as a
   * {@linkcode BaseRequestHandler} subclass. Except in `"async"` mode it
   * runs in another process or thread, which imports it by name, so it must
   * be **exported** from its module (or given as
   * `{ module: import.meta.url, export: "name" }`).
   */
  handler: RequestHandlerFunction | RequestHandlerClass | { module: string | URL; export: string };
  /**
   * Address to listen on.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * Port to listen on; 0 lets the system choose (read it from
   * {@linkcode TcpServer.address}).
   *
   * @default {0}
   */
  port?: number;
  /**
   * How connections are served; see {@linkcode ServerMode}.
   *
   * @default {"async"}
   */
  mode?: ServerMode;
  /**
   * Prefork modes: how many processes or threads accept. `"process"` and
   * `"thread"` modes: how many runners are kept started and idle, so a new
   * client does not wait for a process or thread to start (0 starts one
   * per connection when it arrives).
   *
   * @default {cpuCount() for prefork modes, 2 for "process" and "thread"}
   */
  workers?: number;
  /**
   * Most connections served at once. When reached, the server stops
   * accepting until one ends (new clients wait in the kernel's backlog),
   * like `ForkingMixIn.max_children`. In prefork modes each of the
   * `workers` takes an equal share (rounded up).
   *
   * @default {40 for "process" (Python's max_children), 100 for "thread", Infinity otherwise}
   */
  maxConnections?: number;
  /**
   * `"process"` and `"thread"` modes: how many connections, one after
   * another, a runner serves before it exits and is replaced. 1 gives every
   * connection a fresh process, as `ForkingTCPServer` does (no state leaks
   * between clients); 0 means no limit (much faster: no process start per
   * connection).
   *
   * @default {1 for "process", 0 for "thread"}
   */
  connectionsPerRunner?: number;
  /**
   * Extra runtime flags for the child processes (`"process"` and
   * `"prefork-process"` modes), as `execArgv` of a `Process`:
   * `deno run` flags on Deno (prefork children always get
   * `--unstable-net`), Node flags on Node.
   *
   * @default {[]}
   */
  execArgv?: readonly string[];
  /**
   * The older name of {@linkcode TcpServerOptions.execArgv}, still accepted.
   * Give one or the other: both at once is a `TypeError`.
   *
   * @deprecated Use `execArgv`, which means the same on Deno and Node.
   * @default {[]}
   */
  denoArgs?: readonly string[];
}

/**
 * Options for {@linkcode TcpServer.shutdown}.
 *
 * @example
 * ```ts
 * import { type ShutdownOptions, TcpServer } from "@multiproc/multiproc/net";
 *
 * await using server = new TcpServer({ hostname: "127.0.0.1", port: 0, handler: () => {} });
 * const serving = server.serveForever();
 * const options: ShutdownOptions = { timeout: 1000 }; // then close connections still open
 * await server.shutdown(options);
 * await serving;
 * ```
 */
export interface ShutdownOptions {
  /**
   * How long to wait, in milliseconds, for connections in flight to end by
   * themselves before they are closed.
   *
   * @default {5000}
   */
  timeout?: number;
}
