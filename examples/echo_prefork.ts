#!/usr/bin/env -S deno run --allow-net --allow-run --allow-read --allow-write
/**
 * The seed's echo server in its production shape: "prefork". N child
 * processes each listen on the same port (`SO_REUSEPORT`, Linux) and serve
 * their connections themselves, concurrently; the kernel spreads new
 * connections among them and nothing is relayed, so it scales with the
 * cores (see BENCHMARKS.md). The children get `--unstable-net`, which
 * `reusePort` needs; this process does not.
 *
 *     deno run -A examples/echo_prefork.ts [--port 9011] [--workers 2]   # Ctrl-C to stop
 *     deno run -A examples/echo_prefork.ts --port 0 --clients 6          # serve 6 clients, stop
 */
import { parseArgs } from "node:util";
import { cpuCount, TcpServer } from "../mod.ts";
import { talk } from "./echo_server.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One client: sends `message`, returns the reply. */
export async function ask(port: number, message: string): Promise<string> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(encoder.encode(message));
  const reply = new Uint8Array(message.length);
  let got = 0;
  while (got < reply.length) {
    const n = await conn.read(reply.subarray(got));
    if (n === null) break;
    got += n;
  }
  return decoder.decode(reply.subarray(0, got));
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string", default: "9011" },
      workers: { type: "string", default: String(cpuCount()) },
      clients: { type: "string" },
    },
  });
  const workers = Number(values.workers);
  const server = new TcpServer({
    hostname: "127.0.0.1",
    port: Number(values.port),
    handler: talk, // the same exported handler as the process-per-connection server
    mode: "prefork-process",
    workers,
  });
  const { hostname, port } = await server.listening; // the children bind, then report the port
  console.log(`listening on ${hostname}:${port} with ${workers} processes`);
  const serving = server.serveForever();
  if (values.clients !== undefined) {
    const replies = await Promise.all(
      Array.from({ length: Number(values.clients) }, (_, i) => ask(port, `hello ${i}`)),
    );
    for (const reply of replies) console.log(reply);
    await server.shutdown();
  } else {
    const stop = () => void server.shutdown({ timeout: 1000 });
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    await serving;
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
  }
  await serving;
  console.log("server stopped");
}
