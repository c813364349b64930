/** The connection object a handler gets behaves the same in every mode. */
import { equal } from "node:assert/strict";
import { type ServerMode, TcpServer } from "../mod.ts";
import { countStream } from "./fixtures/net_stream_handlers.ts";

const MODES: ServerMode[] = ["async", "thread", "process", "prefork-process"];

for (const mode of MODES) {
  Deno.test(`TcpServer (${mode}): a handler that reads conn.readable to the end can still reply`, async () => {
    await using server = new TcpServer({
      hostname: "127.0.0.1",
      port: 0,
      handler: countStream,
      mode,
    });
    // Prefork modes bind in their children: wait until one listens.
    const { port } = await server.listening;
    const serving = server.serveForever();
    try {
      const client = await Deno.connect({ hostname: "127.0.0.1", port });
      try {
        const request = new Uint8Array(100_000).fill(120);
        let done = 0;
        while (done < request.length) done += await client.write(request.subarray(done));
        await client.closeWrite();
        const chunks: Uint8Array[] = [];
        const buf = new Uint8Array(1024);
        for (let n; (n = await client.read(buf)) !== null;) chunks.push(buf.slice(0, n));
        const reply = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
        equal(reply, "read 100000 bytes");
      } finally {
        client.close();
      }
    } finally {
      await server.shutdown();
      await serving;
    }
  });
}
