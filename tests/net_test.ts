/**
 * TcpServer in every mode, with real clients on 127.0.0.1: many concurrent
 * clients, handler errors, crashing handler processes, clients that go away
 * mid-message, shutdown with clients connected, backpressure, and clean-up.
 */
import { deepEqual, equal, match, notEqual, ok, rejects, throws } from "node:assert/strict";
import {
  activeChildren,
  ForkingTcpServer,
  type ServerMode,
  type TcpAddress,
  TcpServer,
  type TcpServerOptions,
  ThreadingTcpServer,
} from "../mod.ts";
import { eventually, processState, runDeno, zombieChildren } from "./_helpers.ts";
import {
  countThenReply,
  faulty,
  notExported,
  twelveBytes,
  upper,
  UpperHandler,
} from "./fixtures/net_handlers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Modes this test process can run (prefork-thread needs --unstable-net: see net_program.ts). */
const MODES: ServerMode[] = ["async", "thread", "process", "prefork-process"];
/** Modes whose handlers run in another process. */
const PROCESS_MODES: ServerMode[] = ["process", "prefork-process"];

/** Fails the test instead of hanging when `promise` takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A server that records what it would log. */
class RecordingServer extends TcpServer {
  errors: { error: Error; client: TcpAddress }[] = [];
  override handleError(error: Error, client: TcpAddress): void {
    this.errors.push({ error, client });
  }
}

/** Starts a recording server on a free port, serving in the background. */
async function startServer(options: Partial<TcpServerOptions> & { mode: ServerMode }) {
  const server = new RecordingServer({
    port: 0,
    handler: faulty,
    workers: options.mode.startsWith("prefork") ? 2 : 1,
    ...options,
  });
  const address = await within(server.listening, 60_000, "binding");
  const serving = server.serveForever();
  return {
    server,
    port: address.port,
    serving,
    async [Symbol.asyncDispose]() {
      await within(server.shutdown({ timeout: 1000 }), 30_000, "shutdown");
      await serving;
    },
  };
}

/** A test client with a read deadline on every read. */
class Client {
  #conn: Deno.Conn;
  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  static async connect(port: number): Promise<Client> {
    return new Client(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  get port(): number {
    return (this.#conn.localAddr as Deno.NetAddr).port;
  }

  async send(text: string): Promise<void> {
    await this.#conn.write(encoder.encode(text));
  }

  /**
   * One read: a reply, or `null` at end of stream (a reset counts as end of
   * stream). A read that timed out stays pending, and the next call takes it over.
   */
  async read(ms = 60_000): Promise<string | null> {
    this.#pending ??= this.#readOnce();
    const pending = this.#pending;
    const result = await within(pending, ms, "reading a reply");
    this.#pending = undefined;
    return result;
  }

  #pending: Promise<string | null> | undefined;

  async #readOnce(): Promise<string | null> {
    const buf = new Uint8Array(1024);
    try {
      const n = await this.#conn.read(buf);
      return n === null ? null : decoder.decode(buf.subarray(0, n));
    } catch (error) {
      if (error instanceof Deno.errors.ConnectionReset) return null;
      throw error;
    }
  }

  /** Sends `text` and reads until as many bytes came back (an upper-case echo). */
  async echo(text: string): Promise<string | null> {
    await this.send(text);
    let reply = "";
    while (reply.length < text.length) {
      const part = await this.read();
      if (part === null) return reply || null;
      reply += part;
    }
    return reply;
  }

  async roundTrip(text: string): Promise<string | null> {
    await this.send(text);
    return await this.read();
  }

  closeWrite(): Promise<void> {
    return this.#conn.closeWrite();
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Connects and echoes until it works: after a prefork child dies, a new
 * client may meet a moment with no listener, or a socket about to close.
 */
async function echoEventually(port: number, text: string): Promise<string | null> {
  (await servedClient(port, text)).close();
  return text.toUpperCase();
}

/** A client whose echo of `text` has worked (retrying as {@linkcode echoEventually} explains). */
async function servedClient(port: number, text: string): Promise<Client> {
  const deadline = Date.now() + 30_000;
  while (true) {
    let client: Client | undefined;
    try {
      client = await Client.connect(port);
      const reply = await client.echo(text);
      if (reply === text.toUpperCase()) return client;
      if (Date.now() > deadline) throw new Error(`No echo after 30 s: ${reply}`);
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    client?.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Records what `console.error` prints (the server's log) until disposed. */
function captureConsoleError(): { text(): string } & Disposable {
  const original = console.error;
  const lines: string[] = [];
  console.error = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
  return {
    text: () => lines.join("\n"),
    [Symbol.dispose]() {
      console.error = original;
    },
  };
}

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

for (const mode of PROCESS_MODES) {
  Deno.test(`TcpServer "${mode}": a handler process that crashes closes its connections only, logged`, async () => {
    using log = captureConsoleError();
    await using s = await startServer({ mode });
    using good = await Client.connect(s.port);
    equal(await good.echo("abc"), "ABC");
    for (const command of ["exit", "kill"]) {
      // A prefork client may meet a child that is still going down from the last command.
      using bad = await servedClient(s.port, "fine");
      equal(await bad.roundTrip(command), null, `${command}: the connection is closed`);
      if (mode === "prefork-process") {
        // The whole child went down, with whatever it served; the other one and the replacement serve.
        equal(await echoEventually(s.port, "next"), "NEXT");
      }
    }
    equal(await echoEventually(s.port, "late"), "LATE");
    if (mode === "process") {
      equal(await good.echo("still here"), "STILL HERE");
      equal(s.server.errors.length, 2);
      // Both are logged; which report arrives first depends on the scheduler.
      const messages = s.server.errors.map(({ error }) => error.message).join("\n");
      match(messages, /exited with code 3/);
      match(messages, /was killed by signal 9/);
      for (const { client } of s.server.errors) equal(client.hostname, "127.0.0.1");
    } else {
      // A prefork child serves many clients and the server does not know which: the crash of
      // the whole child is logged (each of them), without a client address.
      ok(
        await eventually(() => /exited with code 3/.test(log.text()), 30_000),
        `the exit was not logged:\n${log.text()}`,
      );
      ok(
        await eventually(() => /was killed by signal 9/.test(log.text()), 30_000),
        `the kill was not logged:\n${log.text()}`,
      );
    }
  });
}

Deno.test('TcpServer "thread": Deno.exit() in a handler ends its thread and connection only, logged', async () => {
  await using s = await startServer({ mode: "thread" });
  using good = await Client.connect(s.port);
  equal(await good.echo("abc"), "ABC");
  using bad = await Client.connect(s.port);
  equal(await bad.roundTrip("exit"), null);
  equal(await good.echo("still here"), "STILL HERE");
  using late = await Client.connect(s.port);
  equal(await late.echo("late"), "LATE");
  equal(s.server.errors.length, 1);
  match(s.server.errors[0].error.message, /handler thread "TcpServer-\d+ runner \d+" ended/);
  equal(s.server.errors[0].client.port, bad.port);
});

Deno.test('TcpServer "process": each connection gets a fresh process, and none is left behind', async () => {
  const pids: number[] = [];
  {
    await using s = await startServer({ mode: "process", workers: 2 });
    for (let i = 0; i < 3; i++) {
      using client = await Client.connect(s.port);
      pids.push(Number((await client.roundTrip("who"))!.slice(4)));
    }
    equal(new Set(pids).size, 3);
  }
  equal(activeChildren().length, 0);
  for (const pid of pids) equal(processState(pid), undefined, `process ${pid} is still there`);
  deepEqual(zombieChildren(), []);
});

Deno.test('TcpServer "process" with connectionsPerRunner: 0 reuses its processes', async () => {
  await using s = await startServer({ mode: "process", workers: 1, connectionsPerRunner: 0 });
  const pids = new Set<number>();
  for (let i = 0; i < 8; i++) {
    using client = await Client.connect(s.port);
    pids.add(Number((await client.roundTrip("who"))!.slice(4)));
  }
  ok(pids.size < 8, "every connection got a new process");
  // A runner stays after its connection (with one connection per runner, it would exit).
  const running = activeChildren().map((p) => (p as { pid: number | null }).pid);
  for (const pid of pids) ok(running.includes(pid), `runner ${pid} exited after its connection`);
});

Deno.test('TcpServer "process" keeps two spare processes started, and a client is served by one of them', async () => {
  await using s = await startServer({ mode: "process", workers: undefined }); // 2 by default
  const pids = () => activeChildren().map((p) => (p as { pid: number | null }).pid);
  ok(await eventually(() => activeChildren().length === 2, 30_000), `children: ${pids()}`);
  const spares = pids();
  using client = await Client.connect(s.port);
  const who = Number((await client.roundTrip("who"))!.slice(4));
  ok(spares.includes(who), `served by ${who}, not by a spare (${spares})`);
  // The spare that took the client is replaced: two spares again, besides the busy one.
  ok(await eventually(() => activeChildren().length === 3, 30_000), `children: ${pids()}`);
  ok(pids().includes(who));
});

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

Deno.test('TcpServer "prefork-process": a port in use fails listening and serveForever()', async () => {
  await using taken = new TcpServer({ port: 0, handler: upper });
  const server = new TcpServer({
    port: taken.address.port,
    handler: upper,
    mode: "prefork-process",
    workers: 1,
  });
  throws(() => server.address, /await server.listening/);
  await rejects(within(server.listening, 60_000, "binding"), Deno.errors.AddrInUse);
  await rejects(server.serveForever(), Deno.errors.AddrInUse);
  await within(server.shutdown(), 30_000, "shutdown");
  equal(activeChildren().length, 0);
});

Deno.test('TcpServer "prefork-thread" serves 16 clients when the process has --unstable-net', async () => {
  const program = new URL("./fixtures/net_program.ts", import.meta.url).pathname;
  const result = await runDeno(["-A", "--unstable-net", program, "prefork-thread", "clients"]);
  equal(result.code, 0, result.stderr);
  equal(result.stdout.trim(), "ok 1", "threads of one process");
});

Deno.test('TcpServer "prefork-thread" without --unstable-net throws a clear error (no exit 70)', async () => {
  const program = new URL("./fixtures/net_program.ts", import.meta.url).pathname;
  const result = await runDeno(["-A", program, "prefork-thread", "clients"]);
  notEqual(result.code, 70);
  equal(result.code, 1);
  match(
    result.stderr,
    /unstable net APIs are not enabled in this process: run it with --unstable-net/,
  );
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
