/**
 * Builds the npm package into `npm/` (`deno task build:npm`), the way dnt
 * does, with esbuild and `tsc` from `tools/node_modules` (pinned by
 * `tools/package.json`; `npm ci --prefix tools` installs them):
 *
 * 1. Stage every library source file (`mod.ts`, `process/`, `thread/`,
 *    `sync/`, `queue/`, `net/`, `_internal/`; no tests) in a temporary
 *    folder, with `_internal/runtime_node.ts` in place of
 *    `_internal/runtime.ts` and without the Deno adapter's files
 *    (`_internal/runtime/deno/`; the Node one's, `_internal/runtime/node/`,
 *    are staged), relative `.ts` specifiers rewritten to `.js`
 *    (imports, and strings such as `new URL("./_bootstrap.ts",
 *    import.meta.url)` that name a worker or child entry file), and Deno's
 *    `/// <reference lib="deno.worker" />` removed.
 * 2. Transpile each staged file to an ESM `.js` file of the same path
 *    (esbuild, no bundling, platform node, target node20), so every module
 *    keeps its own URL: a child process or thread imports the very
 *    `process/process.js` the user's code imported.
 * 3. Emit `.d.ts` files beside them (tsc 5.9, `emitDeclarationOnly`,
 *    checked against `@types/node`), and check that neither the code nor
 *    the public types mention `Deno`.
 * 4. Doc examples are rewritten for Node users (see {@linkcode nodeDocExamples}):
 *    package imports, and `isMain(import.meta)` for `import.meta.main`.
 * 5. Source maps (`.js.map`, esbuild) and declaration maps (`.d.ts.map`,
 *    tsc, so "go to definition" lands in TypeScript) point into `src/`: the
 *    staged sources, exactly as compiled, ship in the package (the stage
 *    *is* `src/`), so every map resolves in the installed package.
 * 6. Write `package.json` (name `@multiproc/multiproc`, as on JSR: npm
 *    refuses `multiproc` as too close to the existing `multi-proc`;
 *    version from `deno.json`, `exports` for every entry of `deno.json`),
 *    the Node README (`tools/README.npm.md`, written for Node users) as
 *    README.md, and LICENSE.
 *
 * Usage: `deno run -A tools/build_npm.ts [outDir]` (default `npm/`).
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);
const ROOT_PATH = decodeURIComponent(ROOT.pathname).replace(/\/$/, "");
const TOOLS = `${ROOT_PATH}/tools/node_modules`;
const LIBRARY_DIRS = [
  "process",
  "thread",
  "sync",
  "queue",
  "net",
  "pool",
  "redis",
  "_internal",
];
const NODE_RUNTIME = "_internal/runtime_node.ts";
const RUNTIME = "_internal/runtime.ts";
/** The Deno adapter's files, which `RUNTIME` re-exports: left out of the package. */
const DENO_RUNTIME_DIR = "_internal/runtime/deno/";
/** The package's name on npm (and on JSR, as in deno.json). */
export const PACKAGE_NAME = "@multiproc/multiproc";
/** The project's home: `repository`, `homepage` and `bugs` of package.json. */
const REPOSITORY = "https://github.com/multiproc/multiproc";
/** Where the staged TypeScript sources ship, for the source and declaration maps. */
const SOURCES = "src";
/** The npm package's README: written for Node users (the repository's README is Deno's). */
const NPM_README = "tools/README.npm.md";
/** Files of the stage that only the build needs: removed from the package. */
const STAGE_ONLY = ["tsconfig.json", "package.json", "_deno_lib.d.ts"];

/** Declarations that Deno's lib has and TypeScript 5.9's lacks (only for checking; not emitted). */
const DENO_LIB_SHIM =
  `interface Uint8Array<TArrayBuffer extends ArrayBufferLike = ArrayBufferLike> {
  toBase64(options?: { alphabet?: "base64" | "base64url"; omitPadding?: boolean }): string;
}
interface Uint8ArrayConstructor {
  fromBase64(
    string: string,
    options?: { alphabet?: "base64" | "base64url"; lastChunkHandling?: "loose" | "strict" | "stop-before-partial" },
  ): Uint8Array<ArrayBuffer>;
}
`;

interface DenoJson {
  name: string;
  version: string;
  exports: Record<string, string>;
}

async function run(
  cmd: string,
  args: string[],
  cwd = ROOT_PATH,
): Promise<void> {
  const { code, stdout, stderr } = await new Deno.Command(cmd, { args, cwd })
    .output();
  if (code !== 0) {
    const out = new TextDecoder().decode(stdout) +
      new TextDecoder().decode(stderr);
    throw new Error(
      `${cmd} ${
        args.slice(0, 3).join(" ")
      }… failed with exit code ${code}:\n${out}`,
    );
  }
}

/**
 * The library's source files (in subfolders too), relative to the root: no
 * tests, no runtime_node (it becomes runtime), none of the Deno adapter's.
 */
async function librarySources(): Promise<string[]> {
  const files = ["mod.ts"];
  for (const dir of LIBRARY_DIRS) {
    for (const path of await walk(`${ROOT_PATH}/${dir}`)) {
      const name = path.slice(ROOT_PATH.length + 1);
      if (!name.endsWith(".ts") || name.endsWith("_test.ts")) continue;
      if (name === NODE_RUNTIME || name.startsWith(DENO_RUNTIME_DIR)) continue;
      files.push(name);
    }
  }
  return files.sort();
}

/**
 * The package specifier for a library file named in a doc example:
 * `process/process.ts` → `@multiproc/multiproc/process`; the root module and
 * private files (`_internal/errors.ts`, whose public classes the root
 * re-exports) → `@multiproc/multiproc`.
 */
function packageSpecifier(file: string, exportDirs: readonly string[]): string {
  const slash = file.indexOf("/");
  const dir = slash < 0 ? "" : file.slice(0, slash);
  return exportDirs.includes(dir) ? `${PACKAGE_NAME}/${dir}` : PACKAGE_NAME;
}

/**
 * Rewrites one fenced example of a doc comment for Node users: relative
 * imports of the library become package imports (`"../mod.ts"` →
 * `"@multiproc/multiproc"`), and `import.meta.main` (undefined on Node 20,
 * so copied code would silently do nothing) becomes `isMain(import.meta)`,
 * imported if the example does not import it yet.
 */
function nodeExample(
  block: string,
  file: string,
  exportDirs: readonly string[],
): string {
  let out = block.replace(
    /(\bfrom\s+|\bimport\s*\(\s*)(["'])(\.\.?\/[^"']+)\2/g,
    (_match, keyword: string, quote: string, specifier: string) => {
      const target = new URL(specifier, `file:///${file}`).pathname.slice(1);
      return `${keyword}${quote}${
        packageSpecifier(target, exportDirs)
      }${quote}`;
    },
  );
  if (/import\.meta\.main\b/.test(out)) {
    out = out.replace(/import\.meta\.main\b/g, "isMain(import.meta)");
    if (!/import\s*\{[^}]*\bisMain\b[^}]*\}/.test(out)) {
      // After the opening fence line: its own import, so it is right whatever else is imported.
      out = out.replace(
        /^([^\n]*```[^\n]*\n)(\s*\*\s*)/,
        `$1$2import { isMain } from "${PACKAGE_NAME}";\n$2`,
      );
    }
  }
  return out;
}

/** Rewrites the fenced examples of every doc comment of `text` (from `file`) for Node users. */
export function nodeDocExamples(
  text: string,
  file: string,
  exportDirs: readonly string[] = ["process", "thread", "sync", "queue", "net"],
): string {
  return text.replace(
    /\/\*\*[\s\S]*?\*\//g,
    (comment) =>
      comment.replace(
        /```(?:ts|js|typescript|javascript)\b[^\n]*\n[\s\S]*?```/g,
        (block) => nodeExample(block, file, exportDirs),
      ),
  );
}

/** `npm:name@version/sub` specifiers (the pinned dependencies of a subpath, e.g. `./redis`). */
const NPM_SPECIFIER =
  /(["'])npm:((?:@[^/"'@]+\/)?[^/"'@]+)@([^/"']+)(\/[^"']*)?\1/g;

/**
 * Rewrites a source file for Node: `.ts` → `.js` in relative specifiers, no
 * Deno lib references, `npm:name@version` → `name` (resolved from the
 * package's peer dependencies, see {@linkcode npmDependencies}).
 */
export function transformSource(text: string): string {
  return text
    .replace(/^\/\/\/\s*<reference\s+lib="deno\.[a-z]+"\s*\/>\s*\n/gm, "")
    .replace(/(["'])(\.\.?\/[^"'\s]*?)\.ts\1/g, "$1$2.js$1")
    .replace(
      NPM_SPECIFIER,
      (_m, q: string, name: string, _v: string, sub = "") =>
        `${q}${name}${sub}${q}`,
    );
}

/**
 * The npm packages the sources import by `npm:name@version`, with their
 * pinned versions. They become *optional peer dependencies* of the package:
 * only one subpath needs each (`redis` for `./redis`), so installing the
 * package installs none of them (the core stays dependency-free, and the
 * tarball still installs offline); a user of that subpath installs the
 * package next to ours (`npm install redis@6`), and Node names it if missing.
 */
export async function npmDependencies(
  files: string[],
): Promise<Record<string, string>> {
  const deps: Record<string, string> = {};
  for (const file of files) {
    const text = await Deno.readTextFile(`${ROOT_PATH}/${file}`);
    for (const m of stripComments(text).matchAll(NPM_SPECIFIER)) {
      const [, , name, version] = m;
      if (deps[name] !== undefined && deps[name] !== version) {
        throw new Error(
          `Cannot build the npm package as npm:${name} is pinned to both ${
            deps[name]
          } and ${version}`,
        );
      }
      deps[name] = version;
    }
  }
  return deps;
}

/** Removes comments (roughly: enough to find code that names `Deno`). */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(
    /(^|[^:"'`])\/\/.*$/gm,
    "$1",
  );
}

async function walk(dir: string, out: string[] = []): Promise<string[]> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) await walk(path, out);
    else out.push(path);
  }
  return out;
}

function packageJson(
  deno: DenoJson,
  deps: Record<string, string> = {},
): Record<string, unknown> {
  const exports: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(deno.exports)) {
    const js = value.replace(/\.ts$/, ".js");
    exports[key] = { types: js.replace(/\.js$/, ".d.ts"), default: js };
  }
  exports["./package.json"] = "./package.json";
  const main = deno.exports["."].replace(/\.ts$/, ".js");
  return {
    name: PACKAGE_NAME,
    version: deno.version,
    description:
      "Python's multiprocessing, threading, queue and socketserver for Deno and Node.js: processes, threads, locks, queues and TCP servers shared across real processes",
    keywords: [
      "multiprocessing",
      "threading",
      "socketserver",
      "python",
      "process",
      "thread",
      "worker",
      "worker_threads",
      "queue",
      "lock",
      "ipc",
      "tcp",
      "deno",
    ],
    homepage: `${REPOSITORY}#readme`,
    repository: { type: "git", url: `git+${REPOSITORY}.git` },
    bugs: { url: `${REPOSITORY}/issues` },
    license: "MIT",
    type: "module",
    main,
    types: main.replace(/\.js$/, ".d.ts"),
    exports,
    engines: { node: ">=20" },
    sideEffects: true,
    ...(Object.keys(deps).length > 0
      ? {
        // Same major, at least the version Deno pins (see npmDependencies).
        peerDependencies: Object.fromEntries(
          Object.entries(deps).map(([name, version]) => [name, `^${version}`]),
        ),
        peerDependenciesMeta: Object.fromEntries(
          Object.keys(deps).map((name) => [name, { optional: true }]),
        ),
      }
      : {}),
  };
}

/**
 * The names a module exports: its declarations, and the names it re-exports
 * by name (`export { a, b as c } from "./x.ts"`, how the runtime facades
 * name their adapter's functions). Enough for the runtime modules.
 */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  const declaration =
    /^export\s+(?:declare\s+)?(?:async\s+)?(?:function\*?|class|interface|type|const|let|enum)\s+([A-Za-z_$][\w$]*)/gm;
  for (const m of text.matchAll(declaration)) names.add(m[1]);
  for (const m of text.matchAll(/^export\s+(?:type\s+)?\{([^}]*)\}/gm)) {
    for (const item of m[1].split(",")) {
      const name = item.trim().replace(/^type\s+/, "").split(/\s+as\s+/).pop();
      if (name) names.add(name);
    }
  }
  return names;
}

/**
 * Fails unless `runtime_node.ts` exports every name `runtime.ts` exports:
 * whoever adds a function to the Deno runtime (a file of `runtime/deno/`,
 * named in `runtime.ts`) learns here that the Node one needs it too.
 */
async function checkRuntimeParity(): Promise<void> {
  const deno = exportedNames(
    await Deno.readTextFile(`${ROOT_PATH}/${RUNTIME}`),
  );
  const node = exportedNames(
    await Deno.readTextFile(`${ROOT_PATH}/${NODE_RUNTIME}`),
  );
  const missing = [...deno].filter((name) => !node.has(name));
  const extra = [...node].filter((name) => !deno.has(name));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(
      `Cannot build the npm package as ${NODE_RUNTIME} does not match ${RUNTIME}: ` +
        [
          missing.length > 0 ? `missing ${missing.join(", ")}` : "",
          extra.length > 0 ? `not in ${RUNTIME}: ${extra.join(", ")}` : "",
        ].filter(Boolean).join("; "),
    );
  }
}

/** The declaration file of a tools' copy of a peer dependency (its package.json `types`). */
async function typesOf(name: string): Promise<string> {
  const dir = `${TOOLS}/${name}`;
  try {
    const pkg = JSON.parse(await Deno.readTextFile(`${dir}/package.json`));
    return `${dir}/${pkg.types ?? pkg.typings ?? "index.d.ts"}`;
  } catch (error) {
    throw new Error(
      `Cannot build the npm package as ${name} is not in tools/node_modules: ` +
        `add it to tools/package.json and run npm ci --prefix tools`,
      { cause: error },
    );
  }
}

/** Empties `outDir` for a new build, refusing a folder that is not an earlier build. */
async function clearOutDir(outDir: string): Promise<void> {
  let entries: string[];
  try {
    entries = [];
    for await (const entry of Deno.readDir(outDir)) entries.push(entry.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  if (entries.length === 0) return;
  let name: unknown;
  try {
    name = JSON.parse(await Deno.readTextFile(`${outDir}/package.json`)).name;
  } catch {
    name = undefined;
  }
  if (name !== PACKAGE_NAME && name !== "multiproc") {
    throw new Error(
      `Cannot build the npm package into ${outDir} as it is not empty and holds no earlier build`,
    );
  }
  await Deno.remove(outDir, { recursive: true });
}

/** Builds the package into `outDir` (absolute), replacing what was there. */
export async function buildNpm(outDir = `${ROOT_PATH}/npm`): Promise<void> {
  await checkRuntimeParity();
  const deno = JSON.parse(
    await Deno.readTextFile(`${ROOT_PATH}/deno.json`),
  ) as DenoJson;
  await clearOutDir(outDir);
  await Deno.mkdir(outDir, { recursive: true });
  const deps = await npmDependencies(await librarySources());
  // First, so that a failed build is still recognised (and replaced) by the next one.
  await Deno.writeTextFile(
    `${outDir}/package.json`,
    JSON.stringify(packageJson(deno, deps), null, 2) + "\n",
  );
  // The stage is the package's src/: the maps point at these very files.
  const stage = `${outDir}/${SOURCES}`;
  await Deno.mkdir(stage, { recursive: true });
  try {
    const files = await librarySources();
    for (const file of files) {
      const text = await Deno.readTextFile(`${ROOT_PATH}/${file}`);
      await Deno.mkdir(
        `${stage}/${file.slice(0, file.lastIndexOf("/") + 1) || "."}`,
        {
          recursive: true,
        },
      );
      await Deno.writeTextFile(
        `${stage}/${file}`,
        transformSource(nodeDocExamples(text, file)),
      );
    }
    // The Node runtime adapter takes the place of the Deno one.
    await Deno.writeTextFile(
      `${stage}/${RUNTIME}`,
      transformSource(await Deno.readTextFile(`${ROOT_PATH}/${NODE_RUNTIME}`)),
    );
    await Deno.writeTextFile(
      `${stage}/tsconfig.json`,
      JSON.stringify(
        {
          compilerOptions: {
            target: "ES2022",
            module: "NodeNext",
            moduleResolution: "NodeNext",
            lib: ["ESNext"],
            types: ["node"],
            typeRoots: [`${TOOLS}/@types`],
            strict: true,
            noImplicitOverride: true,
            useDefineForClassFields: true,
            declaration: true,
            declarationMap: true,
            emitDeclarationOnly: true,
            rootDir: ".",
            outDir,
            skipLibCheck: true,
            stripInternal: false,
            // The peer dependencies' types, from the tools' pinned copies (tools/package.json).
            paths: Object.fromEntries(
              await Promise.all(
                Object.keys(deps).map(async (
                  name,
                ) => [name, [await typesOf(name)]]),
              ),
            ),
          },
          // `files`, not `include`: tsc leaves out whatever is under outDir from `include`.
          files: [...files, "_deno_lib.d.ts"],
        },
        null,
        2,
      ),
    );
    // What Deno's lib has and TypeScript 5.9's does not (the code feature-tests it).
    await Deno.writeTextFile(`${stage}/_deno_lib.d.ts`, DENO_LIB_SHIM);
    // Mark the staged sources as ESM for tsc's NodeNext resolution.
    await Deno.writeTextFile(
      `${stage}/package.json`,
      JSON.stringify({ type: "module" }),
    );

    await run(`${TOOLS}/.bin/esbuild`, [
      ...files.map((f) => `${stage}/${f}`),
      `--outdir=${outDir}`,
      `--outbase=${stage}`,
      "--format=esm",
      "--platform=node",
      "--target=node20",
      "--log-level=warning",
      // Linked maps whose `sources` name the shipped src/ files (so no copy inside each map).
      "--sourcemap=linked",
      "--sources-content=false",
      `--tsconfig=${stage}/tsconfig.json`,
    ]);
    await run("node", [
      `${TOOLS}/typescript/bin/tsc`,
      "-p",
      `${stage}/tsconfig.json`,
    ]);
  } finally {
    for (const file of STAGE_ONLY) {
      await Deno.remove(`${stage}/${file}`).catch(() => {});
    }
  }

  // Neither the code nor the public types may depend on Deno.
  const leaks: string[] = [];
  for (const path of await walk(outDir)) {
    if (!/\.(js|d\.ts)$/.test(path)) continue;
    if (/\bDeno\.[A-Za-z]/.test(stripComments(await Deno.readTextFile(path)))) {
      leaks.push(path.slice(outDir.length + 1));
    }
  }
  if (leaks.length > 0) {
    throw new Error(
      `The npm build still uses Deno APIs in: ${leaks.join(", ")}`,
    );
  }

  await Deno.copyFile(`${ROOT_PATH}/${NPM_README}`, `${outDir}/README.md`);
  await Deno.copyFile(`${ROOT_PATH}/LICENSE`, `${outDir}/LICENSE`);
}

if (import.meta.main) {
  const started = performance.now();
  // `deno task` runs in the folder of deno.json; a relative path is the caller's (INIT_CWD).
  const arg = Deno.args[0];
  const cwd = Deno.env.get("INIT_CWD") ?? Deno.cwd();
  const out = arg
    ? (arg.startsWith("/") ? arg : `${cwd}/${arg}`).replace(/\/$/, "")
    : undefined;
  await buildNpm(out);
  console.log(
    `Built the npm package in ${out ?? "npm/"} (${
      Math.round(performance.now() - started)
    } ms)`,
  );
}
