/**
 * TcpServer's options and entry points: the Python-named subclasses, which
 * handlers each mode accepts, option checks, ports in use, shutdown() before
 * serveForever(), and the default handleError().
 */
import { equal, match, ok, rejects, throws } from "node:assert/strict";
import {
  activeChildren,
  ForkingTcpServer,
  type ServerMode,
  TcpServer,
  ThreadingTcpServer,
} from "../mod.ts";
import { runDeno } from "./_helpers.ts";
import { notExported, upper } from "./fixtures/net_handlers.ts";
import { Client, within } from "./_net.ts";

Deno.test("ThreadingTcpServer and ForkingTcpServer are TcpServer in thread and process mode", async () => {
  await using threading = new ThreadingTcpServer({ port: 0, handler: upper });
  await using forking = new ForkingTcpServer({ port: 0, handler: upper });
  equal(threading.mode, "thread");
  equal(forking.mode, "process");
  ok(threading instanceof TcpServer);
  const serving = [threading.serveForever(), forking.serveForever()];
  for (const server of [threading, forking]) {
    using client = await Client.connect(server.address.port);
    equal(await client.echo("python names"), "PYTHON NAMES");
  }
  await Promise.all([threading.shutdown(), forking.shutdown()]);
  await Promise.all(serving);
});

Deno.test("TcpServer refuses an unexported handler outside async mode, and says to export it", () => {
  for (const mode of ["thread", "process", "prefork-process"] as const) {
    throws(
      () => new TcpServer({ port: 0, handler: notExported, mode }),
      (error: Error) => {
        ok(error instanceof TypeError);
        match(error.message, /handler|target/);
        match(error.message, /export/);
        return true;
      },
    );
  }
  throws(
    () => new TcpServer({ port: 0, handler: () => {}, mode: "process" }),
    /an inline arrow function cannot be imported/,
  );
});

Deno.test("TcpServer in async mode serves any function, exported or not", async () => {
  await using server = new TcpServer({ port: 0, handler: notExported });
  const serving = server.serveForever();
  using client = await Client.connect(server.address.port);
  equal(await client.echo("inline"), "INLINE");
  client.close();
  await server.shutdown();
  await serving;
});

Deno.test("TcpServer checks its options", () => {
  throws(() => new TcpServer({ handler: upper, mode: "fork" as ServerMode }), RangeError);
  throws(() => new TcpServer({ handler: upper, port: 70000 }), RangeError);
  throws(() => new TcpServer({ handler: upper, maxConnections: 0 }), RangeError);
  throws(() => new TcpServer({ handler: upper, mode: "prefork-process", workers: 0 }), RangeError);
  throws(
    () => new TcpServer({ handler: 42 as never }),
    /not a function, a class or \{ module, export \}/,
  );
});

Deno.test("TcpServer throws AddrInUse for a taken port, and works with { module, export }", async () => {
  await using first = new TcpServer({
    port: 0,
    handler: { module: new URL("./fixtures/net_handlers.ts", import.meta.url), export: "upper" },
    mode: "thread",
  });
  throws(() => new TcpServer({ port: first.address.port, handler: upper }), Deno.errors.AddrInUse);
  const serving = first.serveForever();
  using client = await Client.connect(first.address.port);
  equal(await client.echo("explicit"), "EXPLICIT");
  client.close();
  await first.shutdown();
  await serving;
});

Deno.test("TcpServer.shutdown() before serveForever() releases the port and any children", async () => {
  for (const mode of ["async", "process", "prefork-process"] as const) {
    const server = new TcpServer({ port: 0, handler: upper, mode, workers: 1 });
    const { port } = await within(server.listening, 60_000, "binding");
    await within(server.shutdown(), 30_000, "shutdown");
    await server.shutdown(); // again: harmless
    await rejects(Client.connect(port), Deno.errors.ConnectionRefused);
    await rejects(server.serveForever(), /has been shut down/);
    equal(activeChildren().length, 0);
  }
});

Deno.test("the default handleError prints the client's address and the handler's stack", async () => {
  const program = new URL("./fixtures/net_program.ts", import.meta.url).pathname;
  for (const mode of ["process", "prefork-thread"]) {
    const flags = mode === "prefork-thread" ? ["--unstable-net"] : [];
    const result = await runDeno(["-A", ...flags, program, mode, "faults"]);
    equal(result.code, 0, result.stderr);
    const port = result.stdout.trim().split(" ")[1];
    match(
      result.stderr,
      new RegExp(
        `Error handling connection from 127\\.0\\.0\\.1:${port}: Error: boom from the handler\\n\\s+at faulty`,
      ),
    );
  }
});
