/**
 * The Node adapter's TCP: listening, bound synchronously where it can be
 * (Python's constructor binds) and with `reusePort` where this Node has it,
 * and Node's error codes for errors rebuilt from another process or thread.
 *
 * @module
 */

import * as net from "node:net";
import { getSystemErrorName } from "node:util";
import type { NetListener, SocketAddress } from "../../runtime_types.ts";
import { wrapNetListener } from "./sockets.ts";

/**
 * `net._createServerHandle(address, port, addressType, fd, flags)`: what
 * `net.Server.listen` itself calls, after its asynchronous address lookup,
 * to make a bound TCP handle synchronously (exported by `node:net` for
 * `cluster`). It returns the handle, or a negative error number.
 */
type CreateServerHandle = (
  address: string,
  port: number,
  addressType: number,
  fd?: number,
  flags?: number,
) => { listen(backlog: number): number; close(): void } | number;

/** libuv's `UV_TCP_REUSEPORT` bind flag (`uv_tcp_flags`; Node ≥ 22.12 / 23.1 passes it on). */
const UV_TCP_REUSEPORT = 2;

const [NODE_MAJOR, NODE_MINOR] = process.versions.node.split(".").map(Number);

/** Node.js has `reusePort` from 22.12 and 23.1 on (`net.Server.listen({ reusePort })`). */
const NODE_HAS_REUSEPORT = NODE_MAJOR > 23 || (NODE_MAJOR === 23 && NODE_MINOR >= 1) ||
  (NODE_MAJOR === 22 && NODE_MINOR >= 12);

/**
 * Whether `listenTcp` can share a port with `reusePort` (Linux
 * `SO_REUSEPORT`): Node has it from 22.12 and 23.1 (Deno needs
 * `--unstable-net`, hence the name shared with `runtime.ts`).
 */
export function unstableNetAvailable(): boolean {
  return NODE_HAS_REUSEPORT;
}

/** The reason `reusePort` is missing on this Node, and what to do (message end). */
function noReusePortReason(): string {
  return `Node.js ${process.versions.node} has no reusePort (SO_REUSEPORT), which prefork ` +
    `servers share their port with: it needs Node.js >= 22.12 (or >= 23.1), or use mode ` +
    `"thread" or "process"`;
}

/**
 * Why this process cannot listen with `reusePort` (what a `"prefork-thread"`
 * server needs), as the end of an error message that says what to do, or
 * `undefined` when it can.
 */
export function reusePortUnavailable(): string | undefined {
  return NODE_HAS_REUSEPORT ? undefined : noReusePortReason();
}

/** A listen error as Node reports it, named like Deno's (`AddrInUse`) for the common cases. */
function listenError(code: number, hostname: string, port: number): Error {
  const name = getSystemErrorName(code);
  const error = new Error(
    `listen ${name}: ${hostname}:${port}`,
  ) as NodeJS.ErrnoException;
  error.code = name;
  error.errno = code;
  error.syscall = "listen";
  const denoNames: Record<string, string> = {
    EADDRINUSE: "AddrInUse",
    EADDRNOTAVAIL: "AddrNotAvailable",
    EACCES: "PermissionDenied",
  };
  if (denoNames[name]) error.name = denoNames[name];
  return error;
}

/**
 * Binds and listens on `server` synchronously, so that the port is known and
 * an address in use throws at once (Python's constructor binds; a Deno
 * listener does too): `net.Server.listen` with a host binds only after an
 * asynchronous lookup, even of an IP address. Returns `false` where that is
 * not possible (a host name, or a Node without `_createServerHandle`): the
 * caller then listens asynchronously.
 */
function listenSync(
  server: net.Server,
  hostname: string,
  port: number,
  reusePort: boolean,
): boolean {
  const family = net.isIP(hostname);
  const create = (net as unknown as { _createServerHandle?: CreateServerHandle })
    ._createServerHandle;
  if (family === 0 || typeof create !== "function") return false;
  const handle = create(hostname, port, family, undefined, reusePort ? UV_TCP_REUSEPORT : 0);
  if (typeof handle === "number") throw listenError(handle, hostname, port);
  const code = handle.listen(511);
  if (code !== 0) {
    handle.close();
    throw listenError(code, hostname, port);
  }
  // A listening handle: `listen` adopts it (as it does a server handle passed from a cluster
  // primary) and listens on it again, a no-op.
  server.listen(handle as unknown as net.ListenOptions);
  return true;
}

/**
 * Listens on TCP. With `reusePort` (Linux `SO_REUSEPORT`: several sockets
 * share the port and the kernel spreads connections among them), Node must
 * be 22.12 / 23.1 or newer: this throws otherwise.
 *
 * @throws {Error} If `reusePort` is asked for on a Node without it, or the
 *   address cannot be bound (`name` `AddrInUse` when the port is taken).
 */
export function listenTcp(
  options: { hostname: string; port: number; reusePort?: boolean },
): NetListener {
  const { hostname, port } = options;
  if (options.reusePort && !NODE_HAS_REUSEPORT) {
    throw new Error(`Cannot listen with reusePort as ${noReusePortReason()}`);
  }
  const server = net.createServer({ allowHalfOpen: true });
  if (!listenSync(server, hostname, port, options.reusePort ?? false)) {
    server.listen({
      host: hostname,
      port,
      ...(options.reusePort ? { reusePort: true } : {}),
    });
  }
  const addr = (): SocketAddress => {
    const bound = server.address();
    if (bound && typeof bound === "object") {
      return { transport: "tcp", hostname: bound.address, port: bound.port };
    }
    return { transport: "tcp", hostname, port };
  };
  return wrapNetListener(server, addr);
}

/** Node's error codes for the names `listenTcp` and Deno give I/O errors. */
const CODES_BY_NAME: Record<string, string> = {
  AddrInUse: "EADDRINUSE",
  AddrNotAvailable: "EADDRNOTAVAIL",
  PermissionDenied: "EACCES",
  ConnectionRefused: "ECONNREFUSED",
  ConnectionReset: "ECONNRESET",
  ConnectionAborted: "ECONNABORTED",
  NotConnected: "ENOTCONN",
  BrokenPipe: "EPIPE",
  NotFound: "ENOENT",
  AlreadyExists: "EEXIST",
  TimedOut: "ETIMEDOUT",
};

/**
 * Gives an error rebuilt from another process or thread what a local one
 * of its kind has: Node has no I/O error classes, so an error named like
 * one of Deno's (`AddrInUse`…, as {@linkcode listenTcp} names them) gets
 * Node's `code` (`EADDRINUSE`…) back if it lost it. Other errors are
 * returned as they are.
 */
export function reviveRuntimeError(error: Error): Error {
  const code = CODES_BY_NAME[error.name];
  const withCode = error as NodeJS.ErrnoException;
  if (code && withCode.code === undefined) withCode.code = code;
  return error;
}
