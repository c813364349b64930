/**
 * TcpServer's handlers in other threads and processes, with real clients on
 * 127.0.0.1: crashing handler processes and threads, fresh and reused
 * processes, spares, runners that find their server gone, and the prefork
 * modes' own failures.
 */
import { deepEqual, equal, match, notEqual, ok, rejects, throws } from "node:assert/strict";
import { sourceHash } from "../_internal/target.ts";
import { activeChildren, type ServerMode, TcpServer } from "../mod.ts";
import type { RelayConfig } from "../net/_runner.ts";
import { spawnRunner } from "../net/_spawn.ts";
import { eventually, lastingZombies, processState, runDeno, tempDir } from "./_helpers.ts";
import { upper } from "./fixtures/net_handlers.ts";
import { Client, startServer, within } from "./_net.ts";

const RUNNER_MODULE = new URL("../net/_runner.ts", import.meta.url).href;

/** Modes whose handlers run in another process. */
const PROCESS_MODES: ServerMode[] = ["process", "prefork-process"];

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
      // Each is logged once its runner's exit is seen, which may be after its client's close.
      ok(
        await eventually(() => s.server.errors.length >= 2, 30_000),
        "the crashes were not logged",
      );
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
  ok(await eventually(() => s.server.errors.length > 0, 30_000), "the thread's end was not logged");
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
  deepEqual(await lastingZombies(), []);
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

/** A Unix socket file in `dir` that nothing listens on: its server process was killed. */
async function staleSocket(dir: string): Promise<string> {
  const path = `${dir}/stale.sock`;
  const code =
    "Deno.listen({ transport: 'unix', path: Deno.args[0] }); setInterval(() => {}, 1000);";
  const server = new Deno.Command(Deno.execPath(), { args: ["eval", code, path], stdin: "null" })
    .spawn();
  ok(await eventually(() => exists(path), 30_000), "the socket was not created");
  server.kill("SIGKILL");
  await server.status;
  return path;
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isSocket === true;
  } catch {
    return false;
  }
}

// A server that shuts down (or whose process ends) while a runner is still starting leaves that
// runner nothing to connect to: its socket is gone (NotFound), or left behind with nobody
// listening (ConnectionRefused). The runner is started the way the server starts one.
Deno.test("A connection runner whose server's socket is gone ends quietly, in a process and a thread", async () => {
  await using tmp = await tempDir();
  const paths = { missing: `${tmp.path}/missing/net.sock`, stale: await staleSocket(tmp.path) };
  for (const kind of ["process", "thread"] as const) {
    for (const [what, path] of Object.entries(paths)) {
      const name = `gone-server ${kind} ${what}`;
      const config: RelayConfig = {
        path,
        token: "unused",
        runner: 1,
        name,
        handler: {
          module: new URL("./fixtures/net_handlers.ts", import.meta.url).href,
          export: "upper",
          hash: sourceHash(upper),
        },
        address: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
        mode: kind,
        limit: 1,
        kind,
      };
      const runner = spawnRunner(kind, name, RUNNER_MODULE, "runRelayed", config, {});
      const exit = await within(runner.exited, 60_000, `${kind} runner (${what} socket)`);
      equal(exit.error, null, `${kind} runner (${what} socket) failed: ${exit.error?.stack}`);
      equal(exit.code, kind === "process" ? 0 : null, `${kind} runner (${what} socket)`);
    }
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
