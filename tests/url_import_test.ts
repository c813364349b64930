/**
 * The library imported by URL, children included: `deno run http://…/program.ts`
 * and `import { Process } from "http://…/mod.ts"`, with the repository
 * checkout served read-only over HTTP on the loopback interface, a fresh
 * `DENO_DIR` for every program (nothing cached), and scoped permissions
 * rather than `-A`, so the child's permission flags (`--allow-import` for
 * the library's host included) are rebuilt from the parent's.
 */
import { deepStrictEqual, equal, notEqual, ok } from "node:assert/strict";
import { tempDir } from "./_helpers.ts";

/** The repository checkout: the folder above `tests/`. */
const ROOT = new URL("../", import.meta.url);

/** A program must finish within this (it normally takes well under a second). */
const RUN_TIMEOUT_MS = 20_000;

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

/**
 * Runs `deno run` on `entry` (a path or an http URL) with permissions scoped
 * to what the library needs, a fresh `DENO_DIR` and no colours, in `cwd` (a
 * temporary folder, so no `deno.json` or lock file of the checkout is used),
 * and parses what the parent and its child printed.
 */
async function runProgram(
  entry: string,
  cwd: string,
  importHosts: string[],
): Promise<{ code: number; out: string; child: ChildLine[]; parent: ParentLine[] }> {
  const denoDir = await Deno.makeTempDir({ dir: cwd, prefix: "deno-dir-" });
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--allow-import=${importHosts.join(",")}`,
      "--allow-run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      entry,
    ],
    cwd,
    env: { DENO_DIR: denoDir, NO_COLOR: "1" },
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
  const lines = (prefix: string) =>
    stdout.split("\n").filter((l) => l.startsWith(prefix)).map((l) =>
      JSON.parse(l.slice(prefix.length))
    );
  return { code: output.code, out, child: lines("child "), parent: lines("parent ") };
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
