/** What the tests of queues and pipes across processes share: bounded gets and joins, started children. */
import { equal } from "node:assert/strict";
import { Process, Queue } from "../mod.ts";

/** The longest any single wait in these tests may take before the test fails instead of hanging. */
export const WAIT = 20_000;

/** `q.get()`, bounded: rejects with Empty instead of hanging. */
export function get<T>(q: Queue<T>, timeout = WAIT): Promise<T> {
  return q.get({ timeout });
}

/** Joins every process (bounded) and checks that each exited with `code`. */
export async function joinAll(processes: Process[], code = 0): Promise<void> {
  for (const p of processes) {
    await p.join({ timeout: WAIT });
    equal(p.exitCode, code, `${p} ${p.error?.stack ?? ""}`);
  }
}

/** Starts a process for `target` with `args`; dispose it with `await using`. */
export function start(
  target: (...args: never[]) => unknown,
  args: unknown[],
  daemon = false,
): Process {
  const p = new Process({ target, args, daemon });
  p.start();
  return p;
}
