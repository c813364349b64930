/**
 * The Node adapter's Unix sockets: the hub's (byte streams, see
 * `streamConn` in `common.ts`) and those of `net/` (full connections).
 *
 * @module
 */

import * as net from "node:net";
import type { NetConn, NetListener, StreamConn, StreamListener } from "../../runtime_types.ts";
import { errorCode, streamConn, streamListener } from "../common.ts";
import { connectSocket, wrapNetConn, wrapNetListener } from "./sockets.ts";

/** Connects to a Unix socket. */
export async function connectUnix(socketPath: string): Promise<StreamConn> {
  return streamConn(await connectUnixNet(socketPath));
}

/** Listens on a Unix socket at `path` (the folder must be private: the socket itself is not). */
export function listenUnix(socketPath: string): StreamListener {
  return streamListener(listenUnixNet(socketPath));
}

/** Listens on a Unix socket, handing out full connections (streams and half-close). */
export function listenUnixNet(socketPath: string): NetListener {
  const server = net.createServer({ allowHalfOpen: true });
  server.listen(socketPath);
  return wrapNetListener(
    server,
    () => ({ transport: "unix", path: socketPath }),
    socketPath,
  );
}

/** Connects to a Unix socket, as a full connection (streams and half-close). */
export async function connectUnixNet(socketPath: string): Promise<NetConn> {
  return wrapNetConn(await connectSocket({ path: socketPath }), socketPath);
}

/** Whether an error from {@linkcode connectUnix} means "not listening yet". */
export function isNotListening(error: unknown): boolean {
  const code = errorCode(error);
  return code === "ENOENT" || code === "ECONNREFUSED";
}
