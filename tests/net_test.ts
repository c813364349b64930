/**
 * TcpServer in every mode, with real clients on 127.0.0.1: many concurrent
 * clients, handler errors, clients that go away mid-message, shutdown with
 * clients connected, backpressure, and clean-up.
 */
import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { type ServerMode } from "../mod.ts";
import { eventually } from "./_helpers.ts";
import { countThenReply, twelveBytes, upper, UpperHandler } from "./fixtures/net_handlers.ts";
import { Client, startServer, within } from "./_net.ts";

/** Modes this test process can run (prefork-thread needs --unstable-net: see net_program.ts). */
const MODES: ServerMode[] = ["async", "thread", "process", "prefork-process"];

/** Whether no reply arrives within `ms` (only ever a false pass on a slow machine, never a false failure). */
async function staysSilent(client: Client, ms: number): Promise<boolean> {
  try {
    await client.read(ms);
    return false;
  } catch (error) {
    return error instanceof Error && error.message.includes("took more than");
  }
}

for (const mode of MODES) {
  Deno.test(`TcpServer "${mode}": 16 concurrent clients, 5 round trips each, all answered`, async () => {
    await using s = await startServer({ mode, maxConnections: 32 });
    const pids = new Set<string>();
    await Promise.all(Array.from({ length: 16 }, async (_, i) => {
      using client = await Client.connect(s.port);
      for (let j = 0; j < 5; j++) {
        equal(await client.echo(`hello ${i}-${j}`), `HELLO ${i}-${j}`);
      }
      pids.add((await client.roundTrip("who"))!);
    }));
    equal(s.server.errors.length, 0);
    if (mode === "async" || mode === "thread") deepEqual([...pids], [`pid:${Deno.pid}`]);
    if (mode === "process") equal(pids.size, 16, "one process per connection");
    if (mode === "prefork-process") equal(pids.size, 2, "the kernel spreads clients");
  });

  Deno.test(`TcpServer "${mode}": a handler that throws ends its connection only, logged with the client`, async () => {
    await using s = await startServer({ mode });
    using good = await Client.connect(s.port);
    using bad = await Client.connect(s.port);
    equal(await good.echo("abc"), "ABC");
    equal(await bad.roundTrip("boom"), null, "the failing connection is closed");
    equal(await good.echo("still here"), "STILL HERE");
    using late = await Client.connect(s.port);
    equal(await late.echo("new client"), "NEW CLIENT");
    // A runner's report travels apart from the client's bytes: it may land just after the close.
    ok(await eventually(() => s.server.errors.length > 0, 30_000), "the error was not logged");
    equal(s.server.errors.length, 1);
    const [{ error, client }] = s.server.errors;
    equal(error.message, "boom from the handler");
    match(error.stack ?? "", /net_handlers\.ts/, "the handler's own stack");
    deepEqual(client, { transport: "tcp", hostname: "127.0.0.1", port: bad.port });
  });

  Deno.test(`TcpServer "${mode}": a client that disconnects mid-message ends its connection only, logged with its address`, async () => {
    await using s = await startServer({ mode, handler: twelveBytes });
    const quitter = await Client.connect(s.port);
    const quitterPort = quitter.port;
    await quitter.send("half a mess");
    quitter.close();
    using client = await Client.connect(s.port);
    await client.send("twelve bytes");
    equal(await client.read(), "got 12");
    equal(await client.read(), null);
    // Handshake: the quitter's handler got its 11 bytes and then the end of stream, and the
    // error it threw was logged with the quitter's address (not the other client's).
    ok(await eventually(() => s.server.errors.length > 0, 30_000), "the quitter was not logged");
    equal(s.server.errors.length, 1);
    const [{ error, client: address }] = s.server.errors;
    equal(error.message, "client left mid-message after 11 bytes");
    deepEqual(address, { transport: "tcp", hostname: "127.0.0.1", port: quitterPort });
    // The server still serves.
    using late = await Client.connect(s.port);
    await late.send("twelve again");
    equal(await late.read(), "got 12");
  });

  Deno.test(`TcpServer "${mode}": a client that half-closes still gets its answer`, async () => {
    await using s = await startServer({ mode, handler: countThenReply });
    using client = await Client.connect(s.port);
    await client.send("twelve bytes");
    await client.closeWrite();
    // The handler reads to the end, answers, and closes its side.
    equal(await client.read(), "got 12");
    equal(await client.read(), null);
    equal(s.server.errors.length, 0);
  });

  Deno.test(`TcpServer "${mode}": shutdown({ timeout }) waits for a connection in flight, which completes`, async () => {
    const s = await startServer({ mode, handler: upper });
    using client = await Client.connect(s.port);
    equal(await client.echo("first half"), "FIRST HALF");
    // The connection is in the middle of its conversation when shutdown starts.
    let stopped = false;
    const stopping = s.server.shutdown({ timeout: 60_000 }).then(() => stopped = true);
    // No new client is accepted any more...
    ok(
      await eventually(async () => {
        try {
          (await Client.connect(s.port)).close();
          return false;
        } catch (error) {
          return error instanceof Deno.errors.ConnectionRefused;
        }
      }, 30_000),
      "the server still accepts after shutdown()",
    );
    // ...but the one in flight is still served, and shutdown waits for it.
    equal(await client.echo("second half"), "SECOND HALF");
    equal(stopped, false, "shutdown() returned while a connection was in flight");
    client.close(); // The handler sees the end of stream and returns.
    await within(stopping, 30_000, "shutdown() after the last connection ended");
    await within(s.serving, 30_000, "serveForever() after shutdown()");
    equal(s.server.errors.length, 0);
  });

  Deno.test(`TcpServer "${mode}": shutdown with clients connected ends within the timeout, clients see EOF`, async () => {
    const s = await startServer({ mode, handler: upper });
    const clients = await Promise.all(Array.from({ length: 4 }, () => Client.connect(s.port)));
    for (const client of clients) equal(await client.echo("hi"), "HI");
    await within(s.server.shutdown({ timeout: 200 }), 30_000, "shutdown");
    await within(s.serving, 30_000, "serveForever() after shutdown()");
    for (const client of clients) {
      equal(await client.read(), null);
      client.close();
    }
    await rejects(Client.connect(s.port), Deno.errors.ConnectionRefused);
    equal(s.server.errors.length, 0, "closing at shutdown is not an error");
    await s[Symbol.asyncDispose](); // harmless after shutdown
    await rejects(s.server.serveForever(), /has been shut down/);
  });

  Deno.test(`TcpServer "${mode}": maxConnections holds new clients back until one finishes`, async () => {
    const options = mode.startsWith("prefork")
      ? { workers: 1, maxConnections: 1 }
      : { maxConnections: 1 };
    await using s = await startServer({ mode, handler: upper, ...options });
    using first = await Client.connect(s.port);
    equal(await first.echo("one"), "ONE");
    using second = await Client.connect(s.port); // the kernel accepts it into the backlog
    await second.send("two");
    ok(await staysSilent(second, 300), "served while the limit was reached");
    first.close();
    equal(await second.read(), "TWO");
  });

  Deno.test(`TcpServer "${mode}": the handler gets the client's address and a handler class works`, async () => {
    await using s = await startServer({ mode });
    using client = await Client.connect(s.port);
    const reply = (await client.roundTrip("addr"))!.split(" ");
    const me = `127.0.0.1:${client.port}`;
    deepEqual(reply, [me, me, String(s.port), String(s.port), mode]);

    await using c = await startServer({ mode, handler: UpperHandler });
    using other = await Client.connect(c.port);
    equal(await other.echo("class"), "CLASS");
  });

  Deno.test(`TcpServer "${mode}": a handler can shut the server down`, async () => {
    const s = await startServer({ mode });
    using client = await Client.connect(s.port);
    equal(await client.roundTrip("stop"), "STOPPING");
    client.close();
    await within(s.serving, 30_000, "serveForever() after a handler's shutdown()");
    await rejects(Client.connect(s.port), Deno.errors.ConnectionRefused);
  });
}
