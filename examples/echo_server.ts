#!/usr/bin/env -S deno run --allow-net --allow-run --allow-read --allow-write
/**
 * Seed section "server端" (the server): an echo server that upper-cases what
 * it receives and serves every accepted connection in a Process of its own.
 *
 * Python passes the accepted socket to the child (`Process(target=talk,
 * args=(conn,))`). Deno cannot hand a socket to another process, so
 * `TcpServer` in "process" mode accepts, starts (ahead of need) a child per
 * connection, and relays the client's bytes to it over a private Unix
 * socket; `talk` gets a connection that behaves like the socket.
 *
 *     deno run -A examples/echo_server.ts [--port 9011]    # Ctrl-C to stop
 *     deno run -A examples/echo_client.ts [--port 9011]    # in another terminal
 */
import { parseArgs } from "node:util";
import { type RequestConn, type TcpAddress, TcpServer } from "../mod.ts";

/** Python's `bytes.upper()`: ASCII letters only, so the reply has as many bytes as the message. */
export function upper(data: Uint8Array): Uint8Array {
  return data.map((b) => (b >= 97 && b <= 122 ? b - 32 : b));
}

/** The seed's `talk(conn)`, run in a child process for each connection. */
export async function talk(conn: RequestConn, client: TcpAddress): Promise<void> {
  console.log(`process ${Deno.pid} serves ${client.hostname}:${client.port}`);
  const buf = new Uint8Array(1024);
  while (true) {
    let n: number | null;
    try {
      n = await conn.read(buf); // data = conn.recv(1024)
    } catch (error) {
      if (error instanceof Deno.errors.ConnectionReset) break; // except ConnectionResetError
      throw error;
    }
    if (n === null) break; // if not data: break
    const reply = upper(buf.subarray(0, n));
    let sent = 0;
    while (sent < reply.length) sent += await conn.write(reply.subarray(sent)); // conn.send(data.upper())
  }
  conn.close();
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { port: { type: "string", default: "9011" } },
  });
  const server = new TcpServer({
    hostname: "127.0.0.1",
    port: Number(values.port),
    handler: talk,
    mode: "process", // a Process per connection, as in the seed
  });
  const { hostname, port } = server.address;
  console.log(`listening on ${hostname}:${port}`);
  const stop = () => void server.shutdown({ timeout: 1000 });
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await server.serveForever();
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  console.log("server stopped");
}
