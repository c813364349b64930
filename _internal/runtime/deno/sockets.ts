/**
 * The Deno adapter's stream sockets, TCP or Unix: `Deno.Conn` and
 * `Deno.Listener` wrapped as {@linkcode NetConn} and {@linkcode NetListener}
 * for `tcp.ts` and `unix_sockets.ts`.
 *
 * @module
 */

import type { NetConn, NetListener, SocketAddress } from "../../runtime_types.ts";

function netAddress(addr: Deno.Addr): SocketAddress {
  if (addr.transport === "tcp" || addr.transport === "udp") {
    return { transport: "tcp", hostname: addr.hostname, port: addr.port };
  }
  return { transport: "unix", path: (addr as Deno.UnixAddr).path };
}

export function wrapNetConn(conn: Deno.Conn, tcp: boolean): NetConn {
  if (tcp) {
    try {
      (conn as Deno.TcpConn).setNoDelay(true);
    } catch {
      // Already closed by the peer: the first read will say so.
    }
  }
  const localAddr = netAddress(conn.localAddr);
  const remoteAddr = netAddress(conn.remoteAddr);
  return {
    localAddr,
    remoteAddr,
    get readable() {
      return conn.readable;
    },
    get writable() {
      return conn.writable;
    },
    read: (into) => conn.read(into),
    write: (bytes) => conn.write(bytes),
    closeWrite: () => conn.closeWrite(),
    close() {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    },
    ref: () => conn.ref(),
    unref: () => conn.unref(),
  };
}

export function wrapNetListener(listener: Deno.Listener, tcp: boolean): NetListener {
  return {
    addr: netAddress(listener.addr),
    accept: async () => wrapNetConn(await listener.accept(), tcp),
    close() {
      try {
        listener.close();
      } catch {
        // Already closed.
      }
    },
    ref: () => listener.ref(),
    unref: () => listener.unref(),
  };
}
