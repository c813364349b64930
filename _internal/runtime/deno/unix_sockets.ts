/**
 * The Deno adapter's Unix sockets: the hub's (byte streams, see
 * `streamConn` in `common.ts`) and those of `net/` (full connections).
 *
 * @module
 */

import type { NetConn, NetListener, StreamConn, StreamListener } from "../../runtime_types.ts";
import { streamConn, streamListener } from "../common.ts";
import { wrapNetConn, wrapNetListener } from "./sockets.ts";

/** Connects to a Unix socket. */
export async function connectUnix(path: string): Promise<StreamConn> {
  return streamConn(await connectUnixNet(path));
}

/** Listens on a Unix socket at `path` (the folder must be private: the socket itself is not). */
export function listenUnix(path: string): StreamListener {
  return streamListener(listenUnixNet(path));
}

/** Listens on a Unix socket, handing out full connections (streams and half-close). */
export function listenUnixNet(path: string): NetListener {
  return wrapNetListener(Deno.listen({ transport: "unix", path }), false);
}

/** Connects to a Unix socket, as a full connection (streams and half-close). */
export async function connectUnixNet(path: string): Promise<NetConn> {
  return wrapNetConn(await Deno.connect({ transport: "unix", path }), false);
}

/** Whether an error from {@linkcode connectUnix} means "not listening yet". */
export function isNotListening(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound || error instanceof Deno.errors.ConnectionRefused;
}
