/**
 * The library imported by URL, children included: `deno run http://…/program.ts`
 * and `import { Process } from "http://…/mod.ts"`, with the repository
 * checkout served read-only over HTTP on the loopback interface, a fresh
 * `DENO_DIR` for every program (nothing cached: each run is a cold start),
 * and scoped permissions rather than `-A` unless a test says otherwise, so
 * the child's permission flags (`--allow-import` for the library's host
 * included) are rebuilt from the parent's. Every primitive kind is shared
 * with a process and a thread, a TcpServer runs in every mode, and examples
 * (the demo too) run by URL.
 */
import { deepStrictEqual, equal, match, notEqual, ok } from "node:assert/strict";
import { tempDir } from "./_helpers.ts";

/** The repository checkout: the folder above `tests/`. */
const ROOT = new URL("../", import.meta.url);

/**
 * A hang guard only: a program must finish within this. A cold module cache
 * on a busy machine makes a run take several seconds; none takes minutes.
 */
const RUN_TIMEOUT_MS = 180_000;

/** What the tests below grant by default: scoped, so the child's flags are rebuilt one by one. */
const SCOPED = ["--allow-run", "--allow-read", "--allow-write", "--allow-env"];

const CONTENT_TYPES: Record<string, string> = {
  ".ts": "application/typescript",
  ".js": "application/javascript",
  ".json": "application/json",
};

/** Serves a file of the checkout by path, read-only; 404 for anything else. */
async function serveFile(request: Request): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("Method not allowed", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  let path: string;
  try {
    path = decodeURIComponent(new URL(request.url).pathname);
  } catch {
    return new Response("Bad request", { status: 400 });
  }
  // `new URL` already folds "/../" away; an encoded "%2e%2e" or "%2f" shows up only once decoded.
  const segments = path.split("/").slice(1);
  if (segments.some((s) => s === ".." || s === "." || s.includes("\\") || s.includes("\0"))) {
    return new Response("Forbidden", { status: 403 });
  }
  const file = new URL(segments.map(encodeURIComponent).join("/"), ROOT);
  if (!file.href.startsWith(ROOT.href)) return new Response("Forbidden", { status: 403 });
  const type = CONTENT_TYPES[path.slice(path.lastIndexOf("."))];
  if (!type) return new Response("Not found", { status: 404 });
  let body: Uint8Array<ArrayBuffer>;
  try {
    body = await Deno.readFile(file);
  } catch {
    return new Response("Not found", { status: 404 }); // Missing, or a folder.
  }
  return new Response(request.method === "HEAD" ? null : body, {
    headers: { "content-type": type },
  });
}

/** The checkout served on 127.0.0.1 (a free port); `await using` shuts it down. */
interface CheckoutServer extends AsyncDisposable {
  /** `127.0.0.1:PORT`, as `--allow-import` takes it. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  /** Every path requested, in order (to see that a child fetched the library itself). */
  requested: string[];
}

function serveCheckout(): CheckoutServer {
  const requested: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    requested.push(new URL(request.url).pathname);
    return serveFile(request);
  });
  const host = `127.0.0.1:${server.addr.port}`;
  return {
    host,
    origin: `http://${host}`,
    requested,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** One line a fixture prints as `child {…}` (from the child) or `parent {…}` (after join). */
interface ChildLine {
  pid: number;
  name?: string;
  args: unknown[];
  isGreeter?: boolean;
}
interface ParentLine {
  pid: number;
  childPid: number;
  exitCode: number | null;
  error: string | null;
}

/** How {@linkcode runProgram} runs a program. */
interface RunOptions {
  /** Permission and runtime flags besides `--allow-import` (default {@linkcode SCOPED}). */
  flags?: string[];
  /** Arguments after the entry. */
  args?: string[];
}

/**
 * Runs `deno run` on `entry` (a path or an http URL) with permissions scoped
 * to what the library needs (or `options.flags`), a fresh `DENO_DIR` and
 * `TMPDIR` and no colours, in `cwd` (a temporary folder, so no `deno.json`
 * or lock file of the checkout is used), and parses what the parent and its
 * child printed.
 */
async function runProgram(
  entry: string,
  cwd: string,
  importHosts: string[],
  options: RunOptions = {},
): Promise<
  { code: number; out: string; stdout: string; child: ChildLine[]; parent: ParentLine[] }
> {
  const denoDir = await Deno.makeTempDir({ dir: cwd, prefix: "deno-dir-" });
  // Whatever the program leaves in its temporary folder goes with `cwd`.
  const tmp = await Deno.makeTempDir({ dir: cwd, prefix: "tmp-" });
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      // `-A` conflicts with `--allow-import`, and includes it.
      ...(importHosts.length > 0 ? [`--allow-import=${importHosts.join(",")}`] : []),
      ...(options.flags ?? SCOPED),
      entry,
      ...(options.args ?? []),
    ],
    cwd,
    env: { DENO_DIR: denoDir, NO_COLOR: "1", TMPDIR: tmp },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
  }).output();
  const decoder = new TextDecoder();
  const stdout = decoder.decode(output.stdout);
  const out = `exit code ${output.code}\n--- stdout\n${stdout}--- stderr\n${
    decoder.decode(output.stderr)
  }`;
  // Only the fixtures' JSON lines (an example may print "child pid was 123").
  const lines = (prefix: string) =>
    stdout.split("\n").filter((l) => l.startsWith(`${prefix}{`)).map((l) =>
      JSON.parse(l.slice(prefix.length))
    );
  return { code: output.code, out, stdout, child: lines("child "), parent: lines("parent ") };
}

/**
 * The program exited with 0; its child ran once, in another process, with
 * `args` (and as `currentProcess().name === "url-child"` unless `named` is
 * false), and exited with 0.
 */
function assertChildRan(
  server: CheckoutServer,
  result: Awaited<ReturnType<typeof runProgram>>,
  args: unknown[],
  named = true,
): ChildLine {
  const { code, out, child, parent } = result;
  equal(code, 0, out);
  equal(child.length, 1, out);
  equal(parent.length, 1, out);
  deepStrictEqual(child[0].args, args, out);
  if (named) equal(child[0].name, "url-child", out);
  equal(parent[0].exitCode, 0, out);
  equal(parent[0].error, null, out);
  equal(parent[0].childPid, child[0].pid, out);
  notEqual(child[0].pid, parent[0].pid, out);
  // The parent never imports the bootstrap: the child fetched the library over HTTP itself.
  ok(server.requested.includes("/process/_bootstrap.ts"), out);
  return child[0];
}

Deno.test("the server serves the checkout read-only and refuses what is not a module", async () => {
  await using server = serveCheckout();
  const get = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${server.origin}${path}`, init);
    await response.body?.cancel();
    return response;
  };
  const mod = await get("/mod.ts");
  equal(mod.status, 200);
  equal(mod.headers.get("content-type"), "application/typescript");
  equal((await get("/tests/..%2fmod.ts")).status, 403);
  equal((await get("/%2e%2e%2f%2e%2e%2fetc/passwd")).status, 403);
  equal((await get("/README.md")).status, 404);
  equal((await get("/process/")).status, 404);
  equal((await get("/no_such_file.ts")).status, 404);
  equal((await get("/mod.ts", { method: "PUT", body: "x" })).status, 405);
});

Deno.test("a local program importing the library by URL starts a child that runs its export", async () => {
  await using server = serveCheckout();
  await using dir = await tempDir();
  const program = `${dir.path}/program.ts`;
  await Deno.writeTextFile(
    program,
    `import { currentProcess, Process } from "${server.origin}/mod.ts";

export function greet(who: string, n: number): void {
  const me = currentProcess();
  console.log(\`child \${JSON.stringify({ pid: Deno.pid, name: me.name, args: [who, n] })}\`);
}

if (import.meta.main) {
  const p = new Process({ target: greet, args: ["from a local file", 0], name: "url-child" });
  p.start();
  await p.join();
  const line = { pid: Deno.pid, childPid: p.pid, exitCode: p.exitCode, error: p.error?.stack ?? null };
  console.log(\`parent \${JSON.stringify(line)}\`);
}
`,
  );
  const result = await runProgram(program, dir.path, [server.host]);
  assertChildRan(server, result, ["from a local file", 0]);
  ok(server.requested.includes("/mod.ts"), result.out);
});

Deno.test("a local program importing the library by URL shares a Queue with a child and a thread", async () => {
  await using server = serveCheckout();
  await using dir = await tempDir();
  const program = `${dir.path}/program.ts`;
  await Deno.writeTextFile(
    program,
    `import { Process, Queue, Thread } from "${server.origin}/mod.ts";

export async function echo(requests: Queue<string>, replies: Queue<string>): Promise<void> {
  await replies.put(\`echo \${await requests.get({ timeout: 60_000 })}\`);
}

if (import.meta.main) {
  const requests = new Queue<string>();
  const replies = new Queue<string>();
  const p = new Process({ target: echo, args: [requests, replies] });
  const t = new Thread({ target: echo, args: [requests, replies] });
  p.start();
  t.start();
  await requests.put("one");
  await requests.put("two");
  const got = [await replies.get({ timeout: 60_000 }), await replies.get({ timeout: 60_000 })];
  await p.join();
  await t.join();
  console.log(\`replies \${JSON.stringify(got.sort())} \${p.exitCode}\`);
}
`,
  );
  const result = await runProgram(program, dir.path, [server.host], {
    flags: [...SCOPED, "--allow-net"],
  });
  equal(result.code, 0, result.out);
  equal(result.stdout, 'replies ["echo one","echo two"] 0\n', result.out);
  ok(server.requested.includes("/_internal/_hub_worker.ts"), result.out);
});

Deno.test("a program run by URL starts a child that runs an export of that http module", async () => {
  await using server = serveCheckout();
  await using dir = await tempDir();
  const result = await runProgram(
    `${server.origin}/tests/fixtures/url/program.ts`,
    dir.path,
    [server.host],
  );
  assertChildRan(server, result, ["from http", 1]);
});

Deno.test("a program run by URL starts a child that runs an export of a second http module", async () => {
  await using server = serveCheckout();
  await using dir = await tempDir();
  const result = await runProgram(
    `${server.origin}/tests/fixtures/url/program_imported.ts`,
    dir.path,
    [server.host],
  );
  assertChildRan(server, result, ["from imported", 2]);
});

Deno.test("a Process subclass exported from an http module runs in a child, run by URL", async () => {
  await using server = serveCheckout();
  await using dir = await tempDir();
  const result = await runProgram(
    `${server.origin}/tests/fixtures/url/subclass.ts`,
    dir.path,
    [server.host],
  );
  const child = assertChildRan(server, result, ["from subclass", 3]);
  equal(child.isGreeter, true, result.out);
});

Deno.test("a Process subclass exported from an http module runs in a child, started locally", async () => {
  await using server = serveCheckout();
  await using dir = await tempDir();
  const program = `${dir.path}/program.ts`;
  await Deno.writeTextFile(
    program,
    `import { Greeter } from "${server.origin}/tests/fixtures/url/subclass.ts";

if (import.meta.main) {
  const p = new Greeter("from a local file", 4);
  p.start();
  await p.join();
  const line = { pid: Deno.pid, childPid: p.pid, exitCode: p.exitCode, error: p.error?.stack ?? null };
  console.log(\`parent \${JSON.stringify(line)}\`);
}
`,
  );
  const result = await runProgram(program, dir.path, [server.host]);
  const child = assertChildRan(server, result, ["from a local file", 4]);
  equal(child.isGreeter, true, result.out);
});

Deno.test("a target in an http module on another host than the library runs in a child", async () => {
  await using server = serveCheckout();
  await using other = serveCheckout(); // Another port: another host for --allow-import.
  await using dir = await tempDir();
  const program = `${dir.path}/program.ts`;
  await Deno.writeTextFile(
    program,
    `import { Process } from "${server.origin}/mod.ts";
import { greetStandalone } from "${other.origin}/tests/fixtures/url/standalone.ts";

if (import.meta.main) {
  const p = new Process({ target: greetStandalone, args: ["from another host", 5] });
  p.start();
  await p.join();
  const line = { pid: Deno.pid, childPid: p.pid, exitCode: p.exitCode, error: p.error?.stack ?? null };
  console.log(\`parent \${JSON.stringify(line)}\`);
}
`,
  );
  const result = await runProgram(program, dir.path, [server.host, other.host]);
  assertChildRan(server, result, ["from another host", 5], false);
});

/** Lines of `stdout`, without the trailing empty one. */
function outputLines(stdout: string): string[] {
  return stdout.trimEnd().split("\n");
}

Deno.test("a program run by URL shares every primitive kind with a process, a thread and a daemon thread", async () => {
  await using server = serveCheckout();
  await using dir = await tempDir();
  const result = await runProgram(
    `${server.origin}/tests/fixtures/url/primitives.ts`,
    dir.path,
    [server.host],
    { flags: [...SCOPED, "--allow-net", "--allow-ffi"] },
  );
  equal(result.code, 0, result.out);
  deepStrictEqual(
    outputLines(result.stdout),
    ["ok process", "ok thread", "ok daemon thread", "done"],
    result.out,
  );
  // The hub's helper thread, the child process and both threads loaded their modules over http.
  for (
    const path of ["/_internal/_hub_worker.ts", "/process/_bootstrap.ts", "/thread/_bootstrap.ts"]
  ) {
    ok(server.requested.includes(path), `${path} was not requested\n${result.out}`);
  }
});

/** Where each mode serves connections: in the server's process, or in child processes. */
const MODES = [
  ["async", "here"],
  ["thread", "here"],
  ["process", "children"],
  ["prefork-process", "children"],
  ["prefork-thread", "here"],
] as const;

for (const [mode, where] of MODES) {
  Deno.test(`a TcpServer in "${mode}" mode serves with a handler of an http module, run by URL`, async () => {
    await using server = serveCheckout();
    await using dir = await tempDir();
    // A program using "prefork-thread" must itself run with --unstable-net (for reusePort).
    const unstable = mode === "prefork-thread" ? ["--unstable-net"] : [];
    const result = await runProgram(
      `${server.origin}/tests/fixtures/url/tcp_server.ts`,
      dir.path,
      [server.host],
      { flags: [...SCOPED, "--allow-net", ...unstable], args: [mode] },
    );
    equal(result.code, 0, result.out);
    deepStrictEqual(outputLines(result.stdout), [`ok ${mode} ${where}`], result.out);
  });
}

Deno.test("a program run by URL runs its exported task on a process pool and a thread pool", async () => {
  await using server = serveCheckout();
  await using dir = await tempDir();
  const result = await runProgram(`${server.origin}/tests/fixtures/url/pools.ts`, dir.path, [], {
    flags: ["-A"],
  });
  equal(result.code, 0, result.out);
  deepStrictEqual(outputLines(result.stdout), ["Pool 1,4,9", "ThreadPool 1,4,9"], result.out);
});

Deno.test("examples/queue_producer_consumer.ts run by URL eats every bun made exactly once", async () => {
  await using server = serveCheckout();
  await using dir = await tempDir();
  const result = await runProgram(
    `${server.origin}/examples/queue_producer_consumer.ts`,
    dir.path,
    [],
    { flags: ["-A"] },
  );
  equal(result.code, 0, result.out);
  const out = outputLines(result.stdout);
  equal(out[0], "1. direct calls", result.out);
  ok(out.includes("main: all buns eaten, the consumer still waits: isAlive() = true"), result.out);
  const expected = ["A", "B", "C", "D"].flatMap((p) =>
    Array.from({ length: 10 }, (_, i) => `bun ${p}${i}`)
  ).sort();
  const made = out.flatMap((l) => l.match(/^producer [A-D] made (bun [A-D]\d)$/)?.[1] ?? []);
  const eaten = out.flatMap((l) => l.match(/^consumer [1-3] ate (bun [A-D]\d)$/)?.[1] ?? []);
  deepStrictEqual(made.sort(), expected, result.out);
  deepStrictEqual(eaten.sort(), expected, result.out);
  equal(out.at(-1), "exit codes: 0 0 0 0 0 0 0", result.out);
});

Deno.test("examples/demo.ts run by URL runs its sibling examples by URL", async () => {
  await using server = serveCheckout();
  await using dir = await tempDir();
  // Two examples (the whole demo takes minutes): a plain one, and the echo server with its client.
  const result = await runProgram(`${server.origin}/examples/demo.ts`, dir.path, [], {
    flags: ["-A"],
    args: ["process_pid.ts", "echo_server.ts"],
  });
  equal(result.code, 0, result.out);
  const out = outputLines(result.stdout).filter((l) => l !== ""); // Blank lines before headings.
  const pid = out.indexOf("=== pid and ppid (examples/process_pid.ts) ===");
  const echo = out.findIndex((l) =>
    l.startsWith("=== Echo server") && l.endsWith("(examples/echo_server.ts) ===")
  );
  ok(pid >= 0 && echo > pid, result.out);
  match(out[pid + 1], /^main \d+, parent id is <\d+>$/, result.out);
  match(out[echo - 1], /^child pid was \d+$/, result.out);
  // The server's child prints "process N serves ..." on the same stdout, at its own pace: it can
  // land in the middle of the client's output (after a prompt), so it is taken out first.
  const served = out.slice(echo + 1).join("\n").replace(/process \d+ serves [\d.:]+\n?/g, "");
  match(served, /listening on 127\.0\.0\.1:\d+/, result.out);
  match(served, /HELLO\n>>>:>>>:WORLD/, result.out);
  equal(out.at(-1), "server stopped", result.out);
  for (
    const path of [
      "/examples/process_pid.ts",
      "/examples/echo_server.ts",
      "/examples/echo_client.ts",
    ]
  ) {
    ok(server.requested.includes(path), `${path} was not requested\n${result.out}`);
  }
});
