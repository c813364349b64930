/**
 * The runner side of "process" and "thread" modes (runs in a child process
 * or a worker): connects back to the server's private Unix socket, opens a
 * data connection and waits on it; the server writes a header (which
 * client) and then relays that client's bytes both ways, so the handler is
 * given a real socket. When the handler is done the runner closes the data
 * connection, reports on its control connection (with the handler's error,
 * if any, for the server to log), and opens the next data connection, up
 * to its connection limit.
 *
 * A runner whose server is gone before it could connect (the server shut
 * down, or its process ended, while the runner was starting) ends quietly:
 * there is nothing left to serve.
 *
 * @module
 */

import { type ErrorData, errorToData } from "../_internal/codec.ts";
import {
  connectUnixNet,
  everyUnref,
  exitNow,
  isNotListening,
  type NetConn,
} from "../_internal/runtime.ts";
import type { TargetRef } from "../_internal/target.ts";
import { FrameWriter, readFrameFrom, ServerConn, writeAll } from "./_conn.ts";
import { importHandler, runHandler } from "./_handler.ts";
import { type RunnerConnection, runnerRoute } from "./_hub.ts";
import { helloFrame } from "../_internal/hello.ts";
import type { ServerInfo, ServerMode, TcpAddress } from "./types.ts";

/** What a relay runner is started with. */
export interface RelayConfig {
  /** The server's Unix socket and token. */
  path: string;
  token: string;
  /** This runner's number, named in its hellos. */
  runner: number;
  /** Name for messages, e.g. `TcpServer-1 runner 3`. */
  name: string;
  handler: TargetRef;
  address: TcpAddress;
  mode: ServerMode;
  /** Connections to serve, one after another, before ending; 0 for no limit. */
  limit: number;
  /** A process runner exits by itself if the server goes away while a handler hangs. */
  kind: "process" | "thread";
}

/** Written by the server on a data connection, before the client's bytes. */
export interface RelayHeader {
  id: number;
  client: TcpAddress;
  local: TcpAddress;
}

/** Runner → server, on the control connection. */
export type RunnerMessage =
  | { t: "done"; id: number; error?: ErrorData }
  | { t: "shutdown" };

/** After the server has gone, how long a process runner waits for its handler before exiting. */
const ORPHAN_GRACE_MS = 2000;

/**
 * Connects to the server's socket and says hello on it, or finds the server
 * gone: its socket removed or not listening (it shut down while this runner
 * was starting), or the connection closed before the hello went out (it is
 * shutting down). Other errors are thrown.
 */
async function connectControl(path: string, hello: Uint8Array): Promise<NetConn | undefined> {
  let control: NetConn;
  try {
    control = await connectUnixNet(path);
  } catch (error) {
    if (isNotListening(error)) return undefined;
    throw error;
  }
  try {
    await writeAll(control, hello);
  } catch {
    control.close(); // Only the server can have closed it.
    return undefined;
  }
  return control;
}

/** Serves relayed connections until the limit, or until the server closes this runner's channel. */
export async function runRelayed(config: RelayConfig): Promise<void> {
  const handler = await importHandler(config.handler, `${config.kind} "${config.name}"`);
  const hello = (kind: RunnerConnection) =>
    helloFrame(config.token, runnerRoute(config.runner, kind));
  const control = await connectControl(config.path, hello("control"));
  if (!control) return;
  const messages = new FrameWriter(control);
  let gone = false;
  let finished = false;
  /** Data connections open and not yet finished with (at most two: current and next). */
  const open = new Set<NetConn>();
  // The server never writes on the control connection: its end means the server is gone.
  const watch = (async () => {
    const buf = new Uint8Array(16);
    try {
      while (await control.read(buf) !== null) {
        // Nothing is expected.
      }
    } catch {
      // Closed by us at the end, or reset.
    }
    gone = true;
    for (const conn of open) conn.close();
    if (!finished && config.kind === "process") everyUnref(ORPHAN_GRACE_MS, () => exitNow(0));
  })();
  const server: ServerInfo = {
    address: config.address,
    mode: config.mode,
    shutdown: () => void messages.send({ t: "shutdown" } satisfies RunnerMessage),
  };
  /** Opens a data connection: ready for the server's next client. */
  const openData = async (): Promise<NetConn | undefined> => {
    if (gone) return undefined;
    try {
      const data = await connectUnixNet(config.path);
      open.add(data);
      await writeAll(data, hello("data"));
      return data;
    } catch {
      return undefined; // The server is closing.
    }
  };
  let next: Promise<NetConn | undefined> | undefined = openData();
  for (let served = 0; next && (config.limit === 0 || served < config.limit); served++) {
    const data = await next;
    next = undefined;
    let header: RelayHeader | undefined;
    try {
      header = data && await readFrameFrom(data) as RelayHeader | undefined;
    } catch {
      header = undefined;
    }
    if (!header) {
      // The server stopped this runner (closed the connection), or is gone.
      data?.close();
      break;
    }
    // The next data connection opens while this client is served, so that the server has it
    // at hand (and can give this runner a new client) as soon as this one is done.
    if (config.limit === 0 || served + 1 < config.limit) next = openData();
    const conn = new ServerConn(data!, header.client, header.local);
    let error: ErrorData | undefined;
    try {
      await runHandler(handler, conn, header.client, server);
    } catch (e) {
      error = errorToData(e);
    }
    conn.close();
    open.delete(data!);
    await messages.send({ t: "done", id: header.id, ...(error ? { error } : {}) });
  }
  finished = true;
  (await next)?.close();
  for (const conn of open) conn.close();
  control.close();
  await watch;
}
