/**
 * A prefork child or worker: binds the server's port with `reusePort`
 * (every child has its own listening socket on the same port, and the
 * kernel spreads new connections among them), reports the port to the
 * server over the private Unix socket, waits for "serve", then accepts and
 * runs handlers concurrently, in this process or thread, with no relay.
 * Handler errors go to the server to be logged; "stop" drains and closes.
 *
 * @module
 */

import { type ErrorData, errorToData } from "../_internal/codec.ts";
import {
  connectUnixNet,
  everyUnref,
  exitNow,
  listenTcp,
  type NetConn,
  type NetListener,
} from "../_internal/runtime.ts";
import type { TargetRef } from "../_internal/target.ts";
import { AcceptLoop, type Served } from "./_accept_loop.ts";
import { FrameWriter, readFrameFrom, ServerConn, tcpAddress, writeAll } from "./_conn.ts";
import { importHandler, runHandler } from "./_handler.ts";
import { runnerRoute } from "./_hub.ts";
import { helloFrame } from "../_internal/hello.ts";
import type { ServerInfo, ServerMode } from "./types.ts";

/** What a prefork child is started with. */
export interface PreforkConfig {
  path: string;
  token: string;
  runner: number;
  name: string;
  handler: TargetRef;
  hostname: string;
  port: number;
  mode: ServerMode;
  /** Connections this child serves at once; 0 for no limit. */
  maxConnections: number;
  kind: "process" | "thread";
}

/** Child → server. */
export type PreforkReport =
  | { t: "listening"; port: number }
  | { t: "bind-error"; error: ErrorData }
  | { t: "error"; client: { hostname: string; port: number }; error: ErrorData }
  | { t: "shutdown" };

/** Server → child. */
export type PreforkCommand = { t: "serve" } | { t: "stop"; timeout: number };

/** After the server has gone, how long a process child waits for its handlers before exiting. */
const ORPHAN_GRACE_MS = 2000;

/** Serves the server's port from this process or thread until told to stop. */
export async function servePrefork(config: PreforkConfig): Promise<void> {
  const control = await connectUnixNet(config.path);
  await writeAll(control, helloFrame(config.token, runnerRoute(config.runner, "control")));
  const reports = new FrameWriter(control);
  const report = (message: PreforkReport) => reports.send(message);
  let listener: NetListener;
  try {
    listener = listenTcp({ hostname: config.hostname, port: config.port, reusePort: true });
  } catch (error) {
    await report({ t: "bind-error", error: errorToData(error) });
    control.close();
    return;
  }
  // Bound before the handler's module is imported: a replacement started while every other
  // child is down holds new clients in its backlog from here on, instead of the kernel
  // refusing them.
  let handler: Awaited<ReturnType<typeof importHandler>>;
  try {
    handler = await importHandler(config.handler, `${config.kind} "${config.name}"`);
  } catch (error) {
    listener.close();
    control.close();
    throw error;
  }
  const address = tcpAddress(listener.addr.hostname, listener.addr.port);
  const server: ServerInfo = {
    address,
    mode: config.mode,
    shutdown: () => void report({ t: "shutdown" }),
  };
  const serveOne = (tcp: NetConn): Served => {
    const client = tcpAddress(tcp.remoteAddr.hostname, tcp.remoteAddr.port);
    const local = tcpAddress(tcp.localAddr.hostname, tcp.localAddr.port);
    const conn = new ServerConn(tcp, client, local);
    let aborted = false;
    const done = runHandler(handler, conn, client, server).then(
      () => {},
      // An error caused by the server closing the connection at shutdown is not the handler's.
      (error) => void (aborted || report({ t: "error", client, error: errorToData(error) })),
    ).finally(() => conn.close());
    const abort = () => {
      aborted = true;
      conn.close();
    };
    return { done, abort };
  };
  const loop = new AcceptLoop(listener, config.maxConnections || Infinity, serveOne);
  await report({ t: "listening", port: address.port });

  let serving: Promise<void> | undefined;
  let timeout = 0;
  while (true) {
    let command: PreforkCommand | undefined;
    try {
      command = await readFrameFrom(control) as PreforkCommand | undefined;
    } catch {
      command = undefined;
    }
    if (!command) {
      // The server is gone: stop at once, and do not outlive it because of a hanging handler.
      if (config.kind === "process") everyUnref(ORPHAN_GRACE_MS, () => exitNow(0));
      break;
    }
    if (command.t === "serve") serving ??= loop.run();
    else if (command.t === "stop") {
      timeout = command.timeout;
      break;
    }
  }
  await loop.stop(timeout);
  await serving;
  await reports.flush();
  control.close();
}
