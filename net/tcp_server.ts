/**
 * `TcpServer`: Python's `socketserver.TCPServer` with its threading and
 * forking mix-ins, and a prefork mode, for Deno.
 *
 * @module
 */

import { checkTimeout } from "../_internal/wait.ts";
import { listenTcp, type NetConn, type NetListener } from "../_internal/runtime.ts";
import type { TargetRef } from "../_internal/target.ts";
import { AcceptLoop, type Served } from "./_accept_loop.ts";
import { formatAddress, ServerConn, tcpAddress } from "./_conn.ts";
import { type Handler, importHandler, runHandler } from "./_handler.ts";
import { RunnerHub } from "./_hub.ts";
import { PreforkGroup } from "./_prefork_group.ts";
import { RelayPool } from "./_relay_pool.ts";
import { serverSettings } from "./_server_settings.ts";
import type { ShutdownOptions, TcpServerOptions } from "./tcp_server_options.ts";
import type { ServerInfo, ServerMode, TcpAddress } from "./types.ts";

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5000;

/**
 * A TCP server whose connections are served by a handler, in this process
 * or in child processes or threads: Python's `socketserver.TCPServer`,
 * `ThreadingTCPServer` and `ForkingTCPServer` in one class, chosen by
 * `mode` (see {@linkcode ServerMode}).
 *
 * - The constructor binds and listens, as Python's does (port 0 picks a
 *   free port, read from {@linkcode TcpServer.address}); prefork modes bind
 *   in their children, so await {@linkcode TcpServer.listening} there.
 *   {@linkcode TcpServer.serveForever} serves until
 *   {@linkcode TcpServer.shutdown}.
 * - The handler gets the same connection object in every mode (the shape of
 *   `Deno.Conn`: `read`, `write`, `readable`, `writable`, `closeWrite`,
 *   `close`, with the client as `remoteAddr`), and the connection is closed
 *   when it returns.
 * - `"process"` and `"thread"`: Deno cannot hand a socket to another process
 *   or thread, so this process accepts and relays each client's bytes to a
 *   runner over a private Unix socket (authenticated by a random token).
 *   The cost: two more socket hops per round trip, and every relayed byte
 *   goes through this process's one thread (about half the round trips per
 *   second of `"async"` for one client, a fifth to a quarter for many; see
 *   BENCHMARKS.md). Runners are started ahead of need (`workers`: a client
 *   of a "process" server waits about 10 ms instead of 80 ms for a fresh
 *   process) and serve one connection at a time; in `"process"` mode each
 *   serves one connection and exits, as in Python (`connectionsPerRunner`),
 *   so new connections per second are bounded by how fast Deno runtimes
 *   start (tens per second, where `fork()` does hundreds).
 * - Prefork modes: `workers` processes or threads each listen on the port
 *   with `SO_REUSEPORT` (Linux), nothing is relayed. Deno allows that only
 *   with `--unstable-net` (and ends the process with exit code 70, which
 *   cannot be caught, when it is missing): `"prefork-process"` starts its
 *   children with the flag, so this process does not need it;
 *   `"prefork-thread"` needs it in this process and throws a clear error
 *   when it is missing. Children run handlers concurrently (async), and a
 *   child that dies is replaced at once (with a growing wait only when it
 *   keeps crashing).
 * - Faults: a handler that throws, or a client that disconnects, ends that
 *   connection only; errors are logged by {@linkcode TcpServer.handleError}
 *   with the client's address, and the server goes on. A runner that
 *   crashes ends the connections it was serving: one in `"process"` and
 *   `"thread"` modes, all of its share in prefork modes (while every
 *   prefork child is down, new clients are refused); see the README's "TCP
 *   servers". Errors caused by the server closing a connection at shutdown
 *   are not logged.
 * - Permissions: except in `"async"` mode, runners connect to a Unix socket
 *   in this process's private folder, so the program needs `--allow-read`,
 *   `--allow-write` and an unscoped `--allow-net` (children inherit only
 *   unscoped grants), and `--allow-run` for processes.
 * - Differs from Python: `shutdown()` also closes the listening socket and
 *   waits for connections in flight (up to a timeout), so a server cannot
 *   serve again; timeouts are in milliseconds.
 *
 * @example Python's ForkingTCPServer: a process per connection
 * ```ts
 * import { TcpServer } from "@multiproc/multiproc/net";
 * import { equal } from "node:assert/strict";
 *
 * // In your program: `export async function shout(conn: RequestConn) {…}` and `handler: shout`.
 * // A doc example is no module a child can import, so this one names the same export of
 * // examples/workers.ts; it writes back in upper case what it reads, until the client closes.
 * const shout = { module: import.meta.resolve("../examples/workers.ts"), export: "shout" };
 *
 * await using server = new TcpServer({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   handler: shout,
 *   mode: "process",
 * });
 * const serving = server.serveForever();
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.address.port });
 * await conn.write(new TextEncoder().encode("hello"));
 * await conn.closeWrite();
 * equal(await new Response(conn.readable).text(), "HELLO");
 * await server.shutdown(); // in a program: on SIGINT, e.g. Deno.addSignalListener("SIGINT", …)
 * await serving;
 * ```
 *
 * @example In this process, on a free port
 * ```ts
 * import { TcpServer } from "@multiproc/multiproc/net";
 * import { equal } from "node:assert/strict";
 *
 * // In "async" mode (the default) the handler runs here, so it need not be exported.
 * await using server = new TcpServer({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   handler: async (conn) => {
 *     await conn.write(new TextEncoder().encode(`hello ${conn.remoteAddr.hostname}`));
 *   }, // the server closes the connection when the handler returns
 * });
 * const serving = server.serveForever();
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.address.port });
 * equal(await new Response(conn.readable).text(), "hello 127.0.0.1");
 * await server.shutdown();
 * await serving;
 * ```
 */
export class TcpServer {
  #name: string;
  #mode: ServerMode;
  #hostname: string;
  #handler: TcpServerOptions["handler"];
  #handlerRef: TargetRef | Promise<TargetRef> | undefined;
  #workers: number;
  #maxConnections: number;
  #perRunner: number;
  #execArgv: readonly string[];
  #listener: NetListener | undefined;
  #address: TcpAddress | undefined;
  #group: Promise<PreforkGroup> | undefined;
  #hub: RunnerHub | undefined;
  #pool: RelayPool | undefined;
  #loop: AcceptLoop | undefined;
  #state: "bound" | "serving" | "stopping" | "stopped" = "bound";
  #shutdown: Promise<void> | undefined;
  #stopped: Promise<void>;
  #markStopped!: () => void;
  #info: ServerInfo;
  #bindError: unknown;

  /**
   * Resolves with the bound address once the server listens: at once,
   * except in prefork modes, where it waits for every child to bind.
   * Rejects if binding failed (e.g. the port is in use).
   */
  readonly listening: Promise<TcpAddress>;

  /**
   * Binds and listens (prefork modes: starts the children, which bind).
   *
   * @param options The handler, address, mode and limits; see {@linkcode TcpServerOptions}.
   * @throws {TypeError} If the handler is not a function, class or `{ module, export }`, or
   *   (outside `"async"` mode) is not exported: the message says how to export it.
   * @throws {RangeError} For an unknown mode, or a negative or fractional count or port.
   * @throws {TypeError} If both `execArgv` and `denoArgs` are given.
   * @throws {Error} In `"prefork-thread"` mode when this process cannot listen with `reusePort`
   *   (Deno without `--unstable-net`, Node older than 22.12): the message says what to do.
   * @throws {Deno.errors.AddrInUse} If the port is taken (other than prefork modes).
   */
  constructor(options: TcpServerOptions) {
    const settings = serverSettings(options);
    const { mode, port } = settings;
    this.#name = settings.name;
    this.#mode = mode;
    this.#handler = settings.handler;
    this.#handlerRef = settings.handlerRef;
    this.#hostname = settings.hostname;
    this.#workers = settings.workers;
    this.#maxConnections = settings.maxConnections;
    this.#perRunner = settings.perRunner;
    this.#execArgv = settings.execArgv;
    this.#stopped = new Promise((resolve) => (this.#markStopped = resolve));
    this.#info = {
      address: tcpAddress(this.#hostname, port),
      mode,
      shutdown: () => void this.shutdown().catch(() => {}),
    };
    if (settings.prefork) {
      this.#hub = new RunnerHub();
      const hub = this.#hub;
      this.#group = Promise.resolve(this.#handlerRef!).then((handlerRef) =>
        new PreforkGroup({
          kind: mode === "prefork-process" ? "process" : "thread",
          name: this.#name,
          handler: handlerRef,
          hostname: this.#hostname,
          port,
          mode,
          workers: this.#workers,
          maxPerWorker: this.#maxConnections === Infinity
            ? 0
            : Math.ceil(this.#maxConnections / this.#workers),
          denoArgs: this.#execArgv,
          hub,
          onError: (error, client) => this.#logError(error, client),
          onLog: (text) => console.error(text),
          onShutdownRequest: () => this.#info.shutdown(),
        })
      );
      this.listening = this.#group.then((group) => group.listening).then((address) => {
        this.#address = address;
        this.#info = { ...this.#info, address };
        return address;
      });
      this.listening.catch((error) => {
        // Nothing can serve: release the children that did start (serveForever() re-raises it).
        this.#bindError = error;
        this.shutdown({ timeout: 0 });
      });
    } else {
      this.#listener = listenTcp({ hostname: this.#hostname, port });
      this.#address = tcpAddress(this.#listener.addr.hostname, this.#listener.addr.port);
      this.#info = { ...this.#info, address: this.#address };
      this.listening = Promise.resolve(this.#address);
    }
  }

  /**
   * The bound address (Python's `server_address`), with the real port when
   * port 0 was asked for.
   *
   * @throws {Error} In a prefork mode, before {@linkcode TcpServer.listening} has resolved.
   */
  get address(): TcpAddress {
    if (!this.#address) {
      throw new Error(
        `Cannot read the address of ${this.#name} before it is bound: in "${this.#mode}" mode ` +
          `the children bind, so await server.listening first`,
      );
    }
    return { ...this.#address };
  }

  /** How connections are served. */
  get mode(): ServerMode {
    return this.#mode;
  }

  /**
   * Serves connections until {@linkcode TcpServer.shutdown} (Python's
   * `serve_forever`). Resolves once shutdown has completed.
   *
   * @throws {Error} If the server is already serving or has been shut down, or
   *   (prefork modes) if the children could not bind.
   */
  async serveForever(): Promise<void> {
    if (this.#bindError !== undefined) throw this.#bindError;
    if (this.#state === "serving") {
      throw new Error(`Cannot serve ${this.#name} as serveForever() is already running`);
    }
    if (this.#state !== "bound") {
      throw new Error(`Cannot serve ${this.#name} as it has been shut down`);
    }
    this.#state = "serving";
    try {
      await this.#start();
    } catch (error) {
      await this.shutdown({ timeout: 0 });
      throw error;
    }
    await this.#stopped;
  }

  async #start(): Promise<void> {
    if (this.#group) {
      await this.listening;
      if (this.#state === "serving") (await this.#group).serve();
      return;
    }
    const listener = this.#listener!;
    let onConn: (conn: NetConn) => Served;
    if (this.#mode === "async") {
      const handler = typeof this.#handler === "function"
        ? this.#handler as Handler
        : await importHandler(await this.#handlerRef!, "this process");
      onConn = (conn) => this.#serveHere(conn, handler);
    } else {
      const handlerRef = await this.#handlerRef!;
      if (this.#state !== "serving") return;
      this.#hub = new RunnerHub();
      this.#pool = new RelayPool({
        kind: this.#mode === "process" ? "process" : "thread",
        name: this.#name,
        handler: handlerRef,
        address: this.#address!,
        mode: this.#mode,
        spares: this.#workers,
        perRunner: this.#perRunner,
        denoArgs: this.#execArgv,
        hub: this.#hub,
        onError: (error, client) => this.#logError(error, client),
        onLog: (text) => console.error(text),
        onShutdownRequest: () => this.#info.shutdown(),
      });
      this.#pool.start();
      const pool = this.#pool;
      onConn = (conn) => pool.submit(conn);
    }
    if (this.#state !== "serving") return;
    this.#loop = new AcceptLoop(listener, this.#maxConnections, onConn);
    this.#loop.run();
  }

  #serveHere(tcp: NetConn, handler: Handler): Served {
    const client = tcpAddress(tcp.remoteAddr.hostname, tcp.remoteAddr.port);
    const conn = new ServerConn(
      tcp,
      client,
      tcpAddress(tcp.localAddr.hostname, tcp.localAddr.port),
    );
    let aborted = false;
    const done = runHandler(handler, conn, client, this.#info).then(
      () => {},
      // An error caused by shutdown closing the connection is not the handler's.
      (error) => void (aborted || this.#logError(error, client)),
    ).finally(() => conn.close());
    const abort = () => {
      aborted = true;
      conn.close();
    };
    return { done, abort };
  }

  #logError(error: unknown, client: TcpAddress): void {
    try {
      this.handleError(error instanceof Error ? error : new Error(String(error)), client);
    } catch (failure) {
      console.error(failure);
    }
  }

  /**
   * Logs an error that ended a connection: thrown by the handler (in any
   * process or thread), or the crash of the process serving it. Python's
   * `handle_error`; override it in a subclass to log elsewhere. The default
   * prints `Error handling connection from 127.0.0.1:PORT: <stack>` to stderr.
   * Outside `"async"` mode it runs in this process when the runner's report
   * arrives, which can be just after the client saw its connection end.
   *
   * @param error The error, with the stack of where it was thrown.
   * @param client The client whose connection it ended.
   */
  handleError(error: Error, client: TcpAddress): void {
    console.error(
      `Error handling connection from ${formatAddress(client)}: ${error.stack ?? error.message}`,
    );
  }

  /**
   * Stops the server (Python's `shutdown`, which here also closes the
   * listening socket): stops accepting at once, waits up to `timeout` ms for
   * connections in flight to end, then closes them, and stops every child
   * process and thread (killing any that does not exit). Safe to call from
   * anywhere, any number of times (later calls return the same Promise),
   * also before {@linkcode TcpServer.serveForever}; from a handler, use
   * `server.shutdown()` of its third argument, which does not wait.
   *
   * @param options `timeout` in milliseconds.
   * @returns Resolves once everything is closed; `serveForever()` resolves too.
   * @throws {TypeError} If `timeout` is not a number, or is NaN.
   * @throws {RangeError} If `timeout` is negative.
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    const timeout = options.timeout ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    try {
      checkTimeout(timeout, `shut down ${this.#name}`);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#shutdown ??= this.#doShutdown(timeout);
    return this.#shutdown;
  }

  async #doShutdown(timeout: number): Promise<void> {
    this.#state = "stopping";
    if (this.#loop) await this.#loop.stop(timeout);
    else this.#listener?.close();
    await this.#pool?.close();
    if (this.#group) {
      const group = await this.#group.catch(() => undefined);
      await group?.stop(timeout);
    }
    await this.#hub?.close();
    this.#state = "stopped";
    this.#markStopped();
  }

  /**
   * Releases the server (Python's `server_close`): the same as
   * {@linkcode TcpServer.shutdown}, whose Promise it returns if shutdown has
   * already begun.
   *
   * @param options `timeout` in milliseconds, if shutdown has not begun.
   */
  serverClose(options: ShutdownOptions = {}): Promise<void> {
    return this.shutdown(options);
  }

  /** For `await using`: {@linkcode TcpServer.serverClose}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.serverClose();
  }

  /** A Python-like description, e.g. `<TcpServer-1 mode=process 127.0.0.1:9011 serving>`. */
  toString(): string {
    const where = this.#address ? formatAddress(this.#address) : "binding";
    return `<${this.#name} mode=${this.#mode} ${where} ${this.#state}>`;
  }
}
