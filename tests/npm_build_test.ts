/**
 * The npm package, end to end: `deno task build:npm` builds it, `npm
 * pack` packs it, the tarball installs offline into a fresh Node project
 * (the package has no dependencies), a program there shares a Queue and a
 * Lock between processes and threads, `tsc` type-checks a TypeScript user
 * against the package's `.d.ts` files, and the Node test suite
 * (`tests/node/*.test.mjs`, Node's own runner) passes against the installed
 * package. One module, so that the package is built and installed once (see
 * tests/_npm.ts); the programs it runs are in tests/fixtures/npm_programs.ts.
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
import { nodeDocExamples } from "../tools/build_npm.ts";
import {
  explain,
  hasReusePort,
  install,
  machineNode,
  NODE_TESTS,
  nodeTestRun,
  PINNED_NODE,
  ROOT_PATH,
  run,
  TSC,
  TYPES,
} from "./_npm.ts";
import {
  BUNDLED_MJS,
  CONSUMER_TS,
  EXEC_ARGV_MJS,
  NO_BINDING_MJS,
  TSX_DESCRIBE_TS,
  TSX_MAIN_TS,
} from "./fixtures/npm_programs.ts";

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
