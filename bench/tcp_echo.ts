#!/usr/bin/env -S deno run -A
/**
 * TCP echo servers under the same client load: Python's (the seed's
 * process-per-connection server with `fork`, and `socketserver`'s
 * `ThreadingTCPServer`, from `python/tcp_echo.py`) and multiproc's
 * `TcpServer` in each mode. Every server runs in a process of its own and
 * upper-cases what it receives; this process is the load generator for all
 * of them, so the client's cost is the same on both sides.
 *
 * Cases, per server: round trips per second of a 16-byte message with 1, 8
 * and 32 connections, each sending the next message when the reply to the
 * last one has arrived; and new connections per second with 8 clients
 * connecting in a loop (connect, one round trip, close). Each case is
 * warmed up, then measured over a few fixed windows; the value is the
 * median window. Loopback only; every wait is bounded (a case that stalls
 * is aborted and reported).
 *
 * `tcp_echo.ts serve --mode <mode>` runs one multiproc server the way
 * `python/tcp_echo.py serve` runs Python's: it prints `{"port": N}` and
 * serves until its stdin ends.
 *
 * The Python servers' numbers are measured here too (Python would be a
 * slower load generator), so this script's JSON line carries them in
 * `python_results`, which `run.ts` compares against.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type RequestConn, type ServerMode, TcpServer } from "../mod.ts";
import { emit, log, type Result, result, WAIT_TIMEOUT_MS } from "./_bench.ts";

/** The seed's `talk()`: upper-case whatever arrives, until the client closes. */
export async function echoUpper(conn: RequestConn): Promise<void> {
  const buf = new Uint8Array(65536);
  let n;
  while ((n = await conn.read(buf)) !== null) {
    const out = buf.subarray(0, n);
    for (let i = 0; i < n; i++) if (out[i] >= 97 && out[i] <= 122) out[i] -= 32;
    let done = 0;
    while (done < n) done += await conn.write(out.subarray(done));
  }
}

const HOST = "127.0.0.1";
const MESSAGE = new TextEncoder().encode("abcdefghijklmnop"); // 16 bytes
const REPLY = new TextEncoder().encode("ABCDEFGHIJKLMNOP");
const CONCURRENCY = [1, 8, 32];
const CONNECTORS = 8;

interface ServerSpec {
  /** Case-name prefix. */
  name: string;
  /** Whether it is one of Python's servers. */
  python: boolean;
  command: string;
  args: string[];
}

function denoServer(name: string, mode: ServerMode, extra: string[] = []): ServerSpec {
  const flags = mode === "prefork-thread" ? ["--unstable-net"] : [];
  const script = decodeURIComponent(new URL(import.meta.url).pathname);
  return {
    name,
    python: false,
    command: Deno.execPath(),
    args: ["run", "-A", ...flags, script, "serve", "--mode", mode, ...extra],
  };
}

function pythonServer(name: string, kind: string): ServerSpec {
  const script = decodeURIComponent(new URL("./python/tcp_echo.py", import.meta.url).pathname);
  return { name, python: true, command: "python3", args: [script, "serve", "--kind", kind] };
}

const SERVERS: ServerSpec[] = [
  pythonServer("python fork", "fork"),
  pythonServer("python threading", "threading"),
  denoServer("async", "async"),
  denoServer("thread", "thread"),
  denoServer("process", "process"),
  denoServer("process, reused", "process", ["--connections-per-runner", "0"]),
  denoServer("prefork-process", "prefork-process"),
  denoServer("prefork-thread", "prefork-thread"),
];

// ---------------------------------------------------------------------------
// Serving (a child of the benchmark)

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      mode: { type: "string" },
      "connections-per-runner": { type: "string" },
      workers: { type: "string" },
    },
  });
  const mode = values.mode as ServerMode;
  const perRunner = values["connections-per-runner"];
  const server = new TcpServer({
    hostname: HOST,
    port: 0,
    handler: echoUpper,
    mode,
    maxConnections: 128,
    ...(perRunner === undefined ? {} : { connectionsPerRunner: Number(perRunner) }),
    ...(values.workers === undefined ? {} : { workers: Number(values.workers) }),
  });
  const { port } = await server.listening;
  const serving = server.serveForever();
  console.log(JSON.stringify({ port }));
  log(`tcp_echo ${mode}: serving on ${HOST}:${port} (pid ${Deno.pid})`);
  // Until the driver closes our stdin.
  const buf = new Uint8Array(64);
  while (await Deno.stdin.read(buf) !== null) {
    // The driver never writes.
  }
  await server.shutdown({ timeout: 1000 });
  await serving;
}

// ---------------------------------------------------------------------------
// Driving

interface Running {
  port: number;
  stop(): Promise<void>;
}

async function startServer(spec: ServerSpec): Promise<Running> {
  const child = new Deno.Command(spec.command, {
    args: spec.args,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const timer = setTimeout(() => child.kill("SIGKILL"), WAIT_TIMEOUT_MS);
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${spec.name} server exited before printing its port`);
      text += value;
    }
  } finally {
    clearTimeout(timer);
  }
  const port = JSON.parse(text.split("\n")[0]).port as number;
  const drain = (async () => {
    while (!(await reader.read()).done) {
      // Discard anything else it prints.
    }
  })();
  const writer = child.stdin.getWriter();
  return {
    port,
    async stop() {
      await writer.close().catch(() => {});
      const killer = setTimeout(() => child.kill("SIGKILL"), WAIT_TIMEOUT_MS);
      const status = await child.status;
      clearTimeout(killer);
      await drain;
      if (!status.success) throw new Error(`${spec.name} server exited with code ${status.code}`);
    },
  };
}

/** A live count of completed operations, with every connection of a case, for aborting it. */
interface Load {
  done: number;
  /** Clients that have completed their first operation (all of them: warmed up). */
  warm: number;
  errors: number;
  running: boolean;
  conns: Set<Deno.Conn>;
}

async function roundTrip(conn: Deno.Conn, buf: Uint8Array): Promise<void> {
  let sent = 0;
  while (sent < MESSAGE.length) sent += await conn.write(MESSAGE.subarray(sent));
  let got = 0;
  while (got < REPLY.length) {
    const n = await conn.read(buf.subarray(got, REPLY.length));
    if (n === null) throw new Error("Connection closed by the server before the reply");
    got += n;
  }
  for (let i = 0; i < REPLY.length; i++) {
    if (buf[i] !== REPLY[i]) throw new Error(`Wrong reply: ${new TextDecoder().decode(buf)}`);
  }
}

async function connect(port: number, load: Load): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: HOST, port });
  conn.setNoDelay(true);
  load.conns.add(conn);
  return conn;
}

function close(conn: Deno.Conn, load: Load): void {
  load.conns.delete(conn);
  try {
    conn.close();
  } catch {
    // Already closed (aborted).
  }
}

/** One client of a round-trip case: one connection, round trips until stopped. */
async function roundTripper(port: number, load: Load): Promise<void> {
  const conn = await connect(port, load);
  const buf = new Uint8Array(64);
  try {
    await roundTrip(conn, buf);
    load.warm++;
    while (load.running) {
      await roundTrip(conn, buf);
      load.done++;
    }
  } finally {
    close(conn, load);
  }
}

/** One client of the connection case: connect, one round trip, close, until stopped. */
async function connector(port: number, load: Load): Promise<void> {
  const buf = new Uint8Array(64);
  let first = true;
  while (load.running) {
    let conn: Deno.Conn;
    try {
      conn = await connect(port, load);
    } catch (error) {
      // A refused or reset connect under load (full backlog) is counted, not fatal.
      if (!load.running) return;
      if (++load.errors > 1000) throw error;
      continue;
    }
    try {
      await roundTrip(conn, buf);
      load.done++;
    } finally {
      close(conn, load);
    }
    if (first) {
      first = false;
      load.warm++;
    }
  }
}

/**
 * Runs `clients` copies of `client` against the server: a warm-up, then
 * `windows` windows of `windowMs`, each giving one rate sample.
 */
async function measure(
  clients: number,
  client: (port: number, load: Load) => Promise<void>,
  port: number,
  windows: number,
  windowMs: number,
): Promise<{ samples: number[]; errors: number }> {
  const load: Load = { done: 0, warm: 0, errors: 0, running: true, conns: new Set() };
  let failure: unknown;
  const tasks = Array.from({ length: clients }, () =>
    client(port, load).catch((error) => {
      failure ??= error;
      load.running = false;
    }));
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const samples: number[] = [];
  // Warm-up: until every client has been served once (processes and threads started), and a bit.
  const deadline = Date.now() + WAIT_TIMEOUT_MS;
  while (load.running && load.warm < clients && Date.now() < deadline) await sleep(10);
  if (load.running && load.warm < clients) {
    failure ??= new Error(
      `Only ${load.warm} of ${clients} clients were served within ${WAIT_TIMEOUT_MS} ms`,
    );
    load.running = false;
  }
  await sleep(200);
  for (let i = 0; i < windows && load.running; i++) {
    const before = load.done;
    const t0 = performance.now();
    await sleep(windowMs);
    samples.push((load.done - before) / ((performance.now() - t0) / 1000));
  }
  load.running = false;
  // Every client finishes its current operation; one that hangs is cut off.
  const watchdog = setTimeout(() => {
    failure ??= new Error(`A client did not finish within ${WAIT_TIMEOUT_MS} ms`);
    for (const conn of load.conns) close(conn, load);
  }, WAIT_TIMEOUT_MS);
  await Promise.all(tasks);
  clearTimeout(watchdog);
  if (failure) throw failure;
  return { samples, errors: load.errors };
}

async function benchServer(
  spec: ServerSpec,
  windows: number,
  windowMs: number,
): Promise<Result[]> {
  log(`${spec.name}:`);
  const server = await startServer(spec);
  const results: Result[] = [];
  try {
    for (const clients of CONCURRENCY) {
      const { samples } = await measure(clients, roundTripper, server.port, windows, windowMs);
      const name = `${spec.name}, ${clients} connection${clients === 1 ? "" : "s"}`;
      results.push(result(name, "round trips/s", samples, { clients, bytes: MESSAGE.length }));
    }
    const { samples, errors } = await measure(
      CONNECTORS,
      connector,
      server.port,
      windows,
      windowMs,
    );
    results.push(
      result(`${spec.name}, new connections`, "connections/s", samples, {
        clients: CONNECTORS,
        connect_errors: errors,
      }),
    );
  } finally {
    await server.stop();
  }
  return results;
}

async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
    },
  });
  // Five windows: the median of five shrugs off a burst of other work on a shared machine.
  const windows = values.quick ? 1 : 5;
  const windowMs = values.quick ? 400 : 600;
  const only = values.only?.split(",").map((s) => s.trim());
  const pythonResults: Result[] = [];
  const results: Result[] = [];
  for (const spec of SERVERS) {
    if (only && !only.includes(spec.name)) continue;
    const measured = await benchServer(spec, windows, windowMs);
    (spec.python ? pythonResults : results).push(...measured);
  }
  emit("tcp_echo", results, {
    python_results: pythonResults,
    cores: navigator.hardwareConcurrency,
  });
}

if (import.meta.main) {
  if (Deno.args[0] === "serve") await serve(Deno.args.slice(1));
  else await main(Deno.args);
}
