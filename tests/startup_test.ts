/**
 * Starting children the way users do: programs without a main guard, class
 * instances and bad values as arguments and queue items, user modules saved
 * inside a copy of the library.
 */
import { equal, match } from "node:assert/strict";
import { readJson, runDeno, tempDir } from "./_helpers.ts";

const UNGUARDED = new URL("./fixtures/startup_unguarded.ts", import.meta.url).pathname;

/** Runs the unguarded program starting `kind`; returns how its child ended and the evaluations. */
async function runUnguarded(kind: "process" | "thread") {
  await using dir = await tempDir();
  const marker = `${dir.path}/marker`;
  const resultPath = `${dir.path}/result.json`;
  const run = await runDeno(["-A", UNGUARDED], {
    env: { STARTUP_MARKER: marker, STARTUP_RESULT: resultPath, STARTUP_KIND: kind },
  });
  const lines = (await Deno.readTextFile(marker)).split("\n").filter(Boolean);
  const result = await readJson<{ exitCode: number | null; error: string | null }>(resultPath)
    .catch(() => undefined);
  return { run, lines, result };
}

Deno.test("a process started at the top level of a child's target module fails in the child instead of running away", async () => {
  const { run, lines, result } = await runUnguarded("process");
  // The program and its child evaluated the module; no grandchild was started.
  equal(lines.length, 2, `evaluations: ${lines.join(", ")}`);
  equal(lines[0].endsWith("main"), true);
  equal(run.code, 0, run.stderr);
  equal(result?.exitCode, 1);
  match(
    String(result?.error),
    /^Cannot start process "Process-1:1" as this child has not finished its bootstrapping phase/,
  );
  match(String(result?.error), /startup_unguarded\.ts/);
  match(String(result?.error), /under if \(import\.meta\.main\) \{ \.\.\. \}/);
  // The child printed its error like any target error.
  match(run.stderr, /Process Process-1:\nError: Cannot start process/);
});

Deno.test("a thread started at the top level of a thread's target module fails in that thread instead of running away", async () => {
  const { run, lines, result } = await runUnguarded("thread");
  equal(lines.length, 2, `evaluations: ${lines.join(", ")}`);
  equal(run.code, 0, run.stderr);
  match(
    String(result?.error),
    /^Cannot start thread "Thread-1" as this child has not finished its bootstrapping phase/,
  );
  match(String(result?.error), /if \(import\.meta\.main\)/);
});
