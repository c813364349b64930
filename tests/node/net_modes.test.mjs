/**
 * TcpServer on Node.js in every mode this Node.js has: a handler that
 * throws, shutdown with clients connected, and maxConnections.
 */
import { deepStrictEqual, equal, match, ok, rejects } from "node:assert/strict";
import { test } from "node:test";
import { waitUntil } from "./_helpers.mjs";
import { Client, MODES, startServer, staysSilent, within, withServer } from "./_net.mjs";

for (const mode of MODES) {
  test(`TcpServer "${mode}": a handler that throws ends its connection only, logged with the client`, async () => {
    await withServer({ mode }, async (s) => {
      const good = await Client.connect(s.port);
      const bad = await Client.connect(s.port);
      try {
        equal(await good.echo("abc"), "ABC");
        equal(await bad.roundTrip("boom"), null, "the failing connection is closed");
        equal(await good.echo("still here"), "STILL HERE");
        const late = await Client.connect(s.port);
        equal(await late.echo("new client"), "NEW CLIENT");
        late.close();
        await waitUntil(() => s.server.errors.length >= 1, "the error to be logged");
        equal(s.server.errors.length, 1);
        const [{ error, client }] = s.server.errors;
        equal(error.message, "boom from the handler");
        match(error.stack ?? "", /net_handlers\.mjs/, "the handler's own stack");
        deepStrictEqual(client, { transport: "tcp", hostname: "127.0.0.1", port: bad.port });
      } finally {
        good.close();
        bad.close();
      }
    });
  });

  test(`TcpServer "${mode}": shutdown with clients connected ends within the timeout, clients see EOF`, async () => {
    const s = await startServer({ mode });
    const clients = await Promise.all(Array.from({ length: 4 }, () => Client.connect(s.port)));
    try {
      for (const client of clients) equal(await client.echo("hi"), "HI");
      await within(s.server.shutdown({ timeout: 200 }), 30_000, "shutdown");
      await within(s.serving, 30_000, "serveForever() after shutdown()");
      for (const client of clients) equal(await client.read(), null);
      await rejects(Client.connect(s.port), { code: "ECONNREFUSED" });
      equal(s.server.errors.length, 0, "closing at shutdown is not an error");
      await rejects(s.server.serveForever(), /has been shut down/);
      await s.dispose(); // harmless after shutdown
    } finally {
      for (const client of clients) client.close();
    }
  });

  test(`TcpServer "${mode}": maxConnections holds new clients back until one finishes`, async () => {
    // Runners to spare, so that the limit, not a lack of runners, is what holds a client back.
    const options = mode.startsWith("prefork")
      ? { workers: 1, maxConnections: 1 }
      : { workers: 2, maxConnections: 1 };
    await withServer({ mode, ...options }, async (s) => {
      const first = await Client.connect(s.port);
      const second = await Client.connect(s.port); // the kernel accepts it into the backlog
      try {
        equal(await first.echo("one"), "ONE");
        await second.send("two");
        // Long enough for a runner to start (a child process takes a second or more under load):
        // a shorter wait would let a server that ignored the limit pass.
        ok(await staysSilent(second, mode === "process" ? 3_000 : 1_000), "served past the limit");
        first.close();
        equal(await second.read(), "TWO");
      } finally {
        first.close();
        second.close();
      }
    });
  });
}
