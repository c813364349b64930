#!/usr/bin/env -S deno run -A
/**
 * Process start+join latency with a trivial target, and the floors under it.
 *
 * Start-up IS the work here: each sample is the wall time from `start()` to
 * `join()` resolving, so it includes the child runtime's start-up and exit.
 * Every child is a fresh `deno run`, so Python's "spawn" is the like-for-like
 * comparison (`python/process_start.py`). Three floors show where the time
 * goes:
 *
 * - "bare deno run": `deno run` of an empty file, i.e. Deno's own start-up
 *   and exit (alone, and 10 at once);
 * - "bootstrap-like deno run": a library-free child that reads a start
 *   message from a pipe, imports the target's module and calls it;
 * - "bootstrap, no start message": the library's real child entry point,
 *   which loads its modules, finds stdin closed and exits.
 *
 * `detail.child_cpu_ms` is the CPU time (user + system) each child used, from
 * the reaped children's times in `/proc/self/stat` (Linux only): with N
 * cores, K children that each need C ms of CPU cannot finish in less than
 * K·C/N ms.
 *
 * @module
 */

import { Process } from "../mod.ts";
import { emit, log, parseBenchArgs, repetitions, type Result, result, sampleMs } from "./_bench.ts";
import { noop } from "./_noop.ts";

const BATCH = 10; // the case is defined by its size, so --quick only cuts repetitions

function path(relative: string): string {
  return decodeURIComponent(new URL(relative, import.meta.url).pathname);
}

const EMPTY = path("./_empty.ts");
const BOOTSTRAP_LIKE = path("./_bootstrap_like.ts");
const BOOTSTRAP = path("../process/_bootstrap.ts");
const START_MESSAGE = new TextEncoder().encode(
  JSON.stringify({ module: new URL("./_noop.ts", import.meta.url).href, export: "noop" }),
);

/** `deno run -A <file>`, as `Process` runs its children (it passes `-A` when it has it). */
function denoRun(file: string, stdin: "null" | "piped" = "null"): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", file],
    stdin,
    stdout: "inherit",
    stderr: "inherit",
  });
}

function check(what: string, code: number | null): void {
  if (code !== 0) throw new Error(`Benchmark child failed: ${what} exited with code ${code}`);
}

async function bareRun(): Promise<void> {
  const { code } = await denoRun(EMPTY).output();
  check("deno run of an empty file", code);
}

async function bootstrapLikeRun(): Promise<void> {
  const child = denoRun(BOOTSTRAP_LIKE, "piped").spawn();
  const writer = child.stdin.getWriter();
  await writer.write(START_MESSAGE);
  await writer.close();
  check("bootstrap-like program", (await child.status).code);
}

async function bootstrapRun(): Promise<void> {
  const { code } = await denoRun(BOOTSTRAP).output();
  check("process/_bootstrap.ts", code);
}

async function processRun(): Promise<void> {
  const p = new Process({ target: noop });
  p.start();
  await p.join();
  check(String(p), p.exitCode);
}

async function processBatch(): Promise<void> {
  const procs = Array.from({ length: BATCH }, () => new Process({ target: noop }));
  for (const p of procs) p.start();
  for (const p of procs) await p.join();
  for (const p of procs) check(String(p), p.exitCode);
}

async function bareBatch(): Promise<void> {
  await Promise.all(Array.from({ length: BATCH }, bareRun));
}

/** CPU time (user + system, ms) of this process's reaped children so far, if Linux says. */
function childrenCpuMs(): number | undefined {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    // Fields after "pid (comm) ": state is field 3; cutime and cstime are fields 16 and 17.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[16 - 3]) + Number(fields[17 - 3]);
    return Number.isFinite(ticks) ? ticks * 10 : undefined; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** Times `count` sequential calls of `fn`, with the children's CPU time per child. */
async function measure(
  name: string,
  count: number,
  childrenPerCall: number,
  fn: () => Promise<void>,
  detail: Record<string, unknown>,
): Promise<Result> {
  await fn(); // warm-up: first-run costs (transpile cache, runtime folder) stay out
  const cpu0 = childrenCpuMs();
  const samples = await sampleMs(count, fn);
  const cpu1 = childrenCpuMs();
  const cpu = cpu0 === undefined || cpu1 === undefined
    ? null
    : Math.round((cpu1 - cpu0) / (count * childrenPerCall) * 10) / 10;
  return result(name, "ms", samples, { ...detail, child_cpu_ms: cpu });
}

if (import.meta.main) {
  const { quick } = parseBenchArgs();
  const reps = repetitions(quick);
  const sequential = quick ? 10 : 20;
  const per = { per: "process, start+join" };
  const perBatch = { per: `start ${BATCH}, then join all ${BATCH}` };

  log("floors:");
  const results = [
    await measure("bare deno run", sequential, 1, bareRun, { ...per, file: "empty" }),
    await measure(`bare deno run, ${BATCH} at once`, reps, BATCH, bareBatch, perBatch),
    await measure("bootstrap-like deno run", sequential, 1, bootstrapLikeRun, per),
    await measure("bootstrap, no start message", sequential, 1, bootstrapRun, per),
  ];
  log("Process:");
  results.push(
    await measure("1 at a time", sequential, 1, processRun, per),
    await measure(`${BATCH} at once`, reps, BATCH, processBatch, perBatch),
  );
  emit("process_start", results, { cores: navigator.hardwareConcurrency });
}
