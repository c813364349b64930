/**
 * Thread pools on Node: multiproc's npm build against piscina, in the same
 * run (`node/pool_threads.mjs` measures each, see there for the cases).
 *
 * 1. Installs the baseline's pinned dependencies (`npm ci --prefix
 *    bench/node`) when they are missing: piscina is a dependency of this
 *    benchmark only, never of the library or its tests.
 * 2. Builds the npm package (`deno task build:npm`) into a temporary folder,
 *    packs it and installs the tarball into a fresh project there, as a user
 *    would (the package has no dependencies, so offline).
 * 3. Runs `node bench/node/pool_threads.mjs piscina`, then the same for
 *    multiproc with `MULTIPROC_PKG` naming the installed package, one after
 *    the other, and that in 3 alternating rounds of 2 samples per case, so
 *    that both pools meet the machine's changing load alike (it is shared).
 * 4. Prints one JSON line: multiproc's results, and piscina's as
 *    `baseline_results` (see `Benchmark.baseline` in `run.ts`).
 *
 * The temporary folder is removed at the end, whatever happens.
 *
 *     deno run -A bench/pool_node.ts [--quick]
 *
 * @module
 */

import { emit, log, parseBenchArgs, type Result, result } from "./_bench.ts";

const ROOT_PATH = decodeURIComponent(new URL("../", import.meta.url).pathname).replace(/\/$/, "");
const NODE_DIR = `${ROOT_PATH}/bench/node`;

/** Runs a command, its output going to stderr (progress); throws if it fails. */
async function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(cmd, {
    args,
    cwd: options.cwd ?? ROOT_PATH,
    env: { npm_config_update_notifier: "false", npm_config_fund: "false", ...options.env },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  const err = decoder.decode(stderr);
  if (err.trim()) log(err.trimEnd());
  if (code !== 0) {
    throw new Error(`Cannot run ${cmd} ${args.join(" ")} as it exited with code ${code}`);
  }
  return decoder.decode(stdout);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Builds, packs and installs the npm package under `dir`; returns the installed package folder. */
async function installPackage(dir: string): Promise<string> {
  const npmDir = `${dir}/npm`;
  log("building the npm package");
  await run(Deno.execPath(), ["task", "build:npm", npmDir]);
  const packed = await run("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: npmDir });
  const tarball = `${dir}/${packed.trim().split("\n").at(-1)}`;
  const project = `${dir}/project`;
  await Deno.mkdir(project);
  await Deno.writeTextFile(
    `${project}/package.json`,
    JSON.stringify({ name: "multiproc-bench-user", private: true, type: "module" }),
  );
  await run(
    "npm",
    ["install", tarball, "--offline", "--no-package-lock", "--no-audit", "--silent"],
    {
      cwd: project,
    },
  );
  const { name } = JSON.parse(await Deno.readTextFile(`${npmDir}/package.json`));
  return `${project}/node_modules/${name}`;
}

/** Runs one side once (`reps` samples per case) and returns its raw samples. */
async function measure(
  impl: "piscina" | "multiproc",
  quick: boolean,
  reps: number,
  env: Record<string, string> = {},
): Promise<Measured[]> {
  const out = await run(
    "node",
    ["bench/node/pool_threads.mjs", impl, "--reps", String(reps), ...(quick ? ["--quick"] : [])],
    { env },
  );
  const line = JSON.parse(out.trim().split("\n").at(-1) ?? "");
  if (!Array.isArray(line?.results)) throw new Error(`${impl} printed no results`);
  return line.results;
}

/** The rounds' samples of each case pooled, then summarised as every benchmark's results. */
function summarise(impl: string, rounds: Measured[][]): Result[] {
  log(`${impl}:`);
  return rounds[0].map((first) => {
    const samples = rounds.flatMap((r) => r.find((m) => m.case === first.case)?.samples ?? []);
    return result(first.case, first.unit, samples, { ...first.detail, rounds: rounds.length });
  });
}

/** One case as `node/pool_threads.mjs` reports it: raw samples. */
interface Measured {
  case: string;
  unit: string;
  samples: number[];
  detail: Record<string, unknown>;
}

if (import.meta.main) {
  const { quick } = parseBenchArgs();
  if (!(await exists(`${NODE_DIR}/node_modules/piscina/package.json`))) {
    log("installing bench/node's dependencies (npm ci --prefix bench/node)");
    await run("npm", ["ci", "--prefix", "bench/node", "--no-audit"]);
  }
  const piscina = JSON.parse(
    await Deno.readTextFile(`${NODE_DIR}/node_modules/piscina/package.json`),
  ).version;
  const node = (await run("node", ["--version"])).trim();
  const dir = await Deno.makeTempDir({ prefix: "multiproc-bench-npm-" });
  try {
    const pkg = await installPackage(dir);
    const [rounds, reps] = quick ? [1, 3] : [3, 2];
    const baseline: Measured[][] = [];
    const ours: Measured[][] = [];
    for (let round = 0; round < rounds; round++) {
      baseline.push(await measure("piscina", quick, reps));
      ours.push(await measure("multiproc", quick, reps, { MULTIPROC_PKG: pkg }));
    }
    emit("pool_node", summarise("multiproc", ours), {
      baseline_results: summarise("piscina", baseline),
      node,
      piscina,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
