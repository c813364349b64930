/**
 * The parent side of the private channel between a server and its runners
 * (the processes or threads that run handlers): a Unix socket in this
 * process's private (0700) runtime folder. Every connection to it starts
 * with a hello frame carrying a random token, so only runners started by
 * this server are served; the hello names the runner and what the
 * connection is for ("control" for messages, "data" for a relayed client).
 *
 * @module
 */

import { runtimeDir } from "../_internal/context.ts";
import {
  listenUnixNet,
  type NetConn,
  type NetListener,
  randomKey,
  removeTree,
} from "../_internal/runtime.ts";
import { readHello } from "../_internal/hello.ts";

/** What a runner's connection is for: its control channel, or a client's bytes. */
export type RunnerConnection = "control" | "data";

/**
 * The route of a runner's hello (the library's one hello, `_internal/hello.ts`, with this
 * server's token as its key): which runner, which connection.
 */
export function runnerRoute(runner: number, kind: RunnerConnection): string {
  return `${runner}:${kind}`;
}

/** Routes authenticated runner connections to the runner they name. */
export type HelloHandler = (kind: RunnerConnection, conn: NetConn) => void;

/** The Unix socket runners connect to; see the module doc. */
export class RunnerHub {
  /** Socket path, passed to runners. */
  readonly path: string;
  /** Shared secret, passed to runners. */
  readonly token: string;
  #listener: NetListener;
  #routes = new Map<number, HelloHandler>();
  #greeting = new Set<NetConn>();
  #closed = false;
  #loop: Promise<void>;

  constructor() {
    this.path = `${runtimeDir()}/net-${randomKey(6)}.sock`;
    this.token = randomKey();
    this.#listener = listenUnixNet(this.path);
    this.#loop = this.#acceptLoop();
  }

  /** Routes connections that name `runner` to `handler`. */
  register(runner: number, handler: HelloHandler): void {
    this.#routes.set(runner, handler);
  }

  /** Stops routing to `runner`: its later connections are closed. */
  unregister(runner: number): void {
    this.#routes.delete(runner);
  }

  async #acceptLoop(): Promise<void> {
    while (!this.#closed) {
      let conn: NetConn;
      try {
        conn = await this.#listener.accept();
      } catch {
        if (this.#closed) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      this.#greet(conn);
    }
  }

  async #greet(conn: NetConn): Promise<void> {
    this.#greeting.add(conn);
    const hello = await readHello(conn, this.token);
    this.#greeting.delete(conn);
    const [runner, kind] = (hello?.route ?? "").split(":");
    const route = this.#routes.get(Number(runner));
    if (!route || this.#closed || (kind !== "control" && kind !== "data")) {
      conn.close();
      return;
    }
    route(kind, conn);
  }

  /** Stops listening and removes the socket file; connections already routed are not touched. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
    for (const conn of this.#greeting) conn.close();
    await this.#loop;
    removeTree(this.path);
  }
}
