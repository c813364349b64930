/**
 * The codec alone, on both runtimes: multiproc's codec against `node:v8`'s
 * serialize+deserialize (the baseline) and, where JSON can carry the value,
 * `JSON.stringify`+`JSON.parse`, for a small object
 * `{ id, name, tags: [...] }`, a 1 KiB string, a 64 KiB `Uint8Array` and a
 * Map/Date/BigInt/Set mix; µs of CPU time per encode+decode, no I/O.
 *
 * The cases, the timing loop and the one adapter that says how the codec is
 * called (`ours()`) are in `node/codec.mjs`, plain JavaScript shared by both
 * runtimes, which measures one implementation on one case per process (so
 * that each pays for its own garbage, see `measureOne` there):
 *
 * 1. Deno: runs it on `_internal/codec.ts`.
 * 2. Node: builds the npm package (`deno task build:npm`) into a temporary
 *    folder and runs it with the Node of `tools/` (pinned by
 *    `tools/package.json`) on the build's `_internal/codec.js`.
 * 3. Per runtime and case, the implementations' processes take turns, three
 *    rounds of three samples each (one round with `--quick`), so that all
 *    meet the machine's changing load alike.
 * 4. Prints one JSON line: multiproc's codec as `results` and `node:v8` as
 *    `baseline_results` (see `Benchmark.baseline` in `run.ts`), case names
 *    prefixed with the runtime; the JSON rows are among `results`, marked
 *    "(reference)", and compare with `node:v8` too.
 *
 * The temporary folder is removed at the end, whatever happens.
 *
 *     deno run -A bench/codec.ts [--quick]
 *
 * @module
 */

import { emit, log, parseBenchArgs, type Result, result, round4 } from "./_bench.ts";
import { CASES, IMPLS } from "./node/codec.mjs";

const ROOT_PATH = decodeURIComponent(new URL("../", import.meta.url).pathname).replace(/\/$/, "");
/** The Node that runs the npm package's tests (tools/package.json pins it). */
const NODE = `${ROOT_PATH}/tools/node_modules/.bin/node`;
/** Samples per process. */
const SAMPLES = 3;

/** One implementation's samples of one case. */
interface Measured {
  case: string;
  impl: string;
  samples: number[];
  detail: Record<string, unknown>;
}

/** Runs a command, its stderr passed on as progress; returns stdout. Throws if it fails. */
async function run(cmd: string, args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(cmd, {
    args,
    cwd: ROOT_PATH,
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

/**
 * Every implementation on every case, with `start` (the command that runs `node/codec.mjs` under
 * a runtime, up to its arguments): per case, the implementations' processes take turns, round
 * after round. Returns the measurements and the runtime's version as the script reported it.
 */
async function measureAll(
  start: string[],
  quick: boolean,
): Promise<{ runtime: string; results: Measured[] }> {
  const rounds = quick ? 1 : 3;
  const results: Measured[] = [];
  let runtime = "";
  for (const [index, c] of CASES.entries()) {
    log(`  ${c.name}`);
    const impls = IMPLS.filter((impl) => impl !== "JSON" || c.json);
    const byImpl = new Map(impls.map((impl) => {
      const m: Measured = { case: c.name, impl, samples: [], detail: {} };
      results.push(m);
      return [impl, m];
    }));
    for (let round = 0; round < rounds; round++) {
      for (const impl of impls) {
        const out = await run(start[0], [
          ...start.slice(1),
          impl,
          String(index),
          String(SAMPLES),
          ...(quick ? ["--quick"] : []),
        ]);
        const line = JSON.parse(out.trim().split("\n").at(-1) ?? "");
        if (!Array.isArray(line?.samples)) throw new Error("node/codec.mjs printed no samples");
        runtime = line.runtime;
        const m = byImpl.get(impl)!;
        m.samples.push(...line.samples);
        const { batch, ...rest } = line.detail;
        m.detail = { ...rest, batches: [...(m.detail.batches as number[] ?? []), batch] };
      }
    }
  }
  return { runtime, results };
}

/** Builds the npm package in a temporary folder and measures its codec under Node. */
async function measureNode(quick: boolean): Promise<{ runtime: string; results: Measured[] }> {
  const dir = await Deno.makeTempDir({ prefix: "multiproc-bench-codec-" });
  try {
    log("building the npm package");
    await run(Deno.execPath(), ["task", "build:npm", `${dir}/npm`]);
    log("Node:");
    return await measureAll(
      [NODE, "bench/node/codec.mjs", `${dir}/npm/_internal/codec.js`],
      quick,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * One runtime's measurements as results: multiproc's codec (and JSON, as a reference) in
 * `ours`, `node:v8` in `baseline`, each with its ratio to `node:v8` in `detail`.
 */
function summarise(runtime: string, measured: Measured[], ours: Result[], baseline: Result[]) {
  const median = (m: Measured) => [...m.samples].sort((a, b) => a - b)[m.samples.length >> 1];
  log(`${runtime}, node:v8:`);
  for (const m of measured.filter((m) => m.impl === "node:v8")) {
    baseline.push(result(`${runtime}, ${m.case}`, "µs", m.samples, { ...m.detail, runtime }));
  }
  log(`${runtime}, multiproc's codec and JSON:`);
  for (const m of measured.filter((m) => m.impl !== "node:v8")) {
    const v8 = measured.find((x) => x.case === m.case && x.impl === "node:v8")!;
    const name = m.impl === "ours"
      ? `${runtime}, ${m.case}`
      : `${runtime}, ${m.case}, JSON.stringify+parse (reference)`;
    // Above 1: faster than node:v8. The goal for the 64 KiB array is at least 0.5.
    const vsV8 = round4(median(v8) / median(m));
    ours.push(result(name, "µs", m.samples, { ...m.detail, runtime, node_v8_over_this: vsV8 }));
  }
}

if (import.meta.main) {
  const { quick } = parseBenchArgs();
  const results: Result[] = [];
  const baseline: Result[] = [];
  log("Deno:");
  const deno = await measureAll(
    [Deno.execPath(), "run", "-A", "bench/node/codec.mjs", `${ROOT_PATH}/_internal/codec.ts`],
    quick,
  );
  summarise("Deno", deno.results, results, baseline);
  const node = await measureNode(quick);
  summarise("Node", node.results, results, baseline);
  emit("codec", results, {
    baseline_results: baseline,
    node: node.runtime,
    codec: "encodeBytes + decodeBytesSync (binary)",
  });
}
