/** What the tests of the sync primitives across processes share: children, bounded joins and waits. */
import { equal, ok } from "node:assert/strict";
import { Event, Process } from "../mod.ts";
import { sleep } from "./_helpers.ts";

/** Bound of every wait that must succeed: never reached by a passing test, it turns a hang into a failure. */
export const LONG = 30_000;

// deno-lint-ignore no-explicit-any
export type Target = (...args: any[]) => unknown;

/** Starts a child running `target(...args)`. */
export function child(target: Target, ...args: unknown[]): Process {
  const p = new Process({ target, args });
  p.start();
  return p;
}

/** Several children, started together and disposed together by `await using`. */
export function children(
  count: number,
  make: (i: number) => [Target, ...unknown[]],
): Process[] & AsyncDisposable {
  const all = Array.from({ length: count }, (_, i) => {
    const [target, ...args] = make(i);
    return new Process({ target, args });
  });
  for (const p of all) p.start();
  return Object.assign(all, {
    async [Symbol.asyncDispose]() {
      await Promise.all(all.map((p) => p[Symbol.asyncDispose]()));
    },
  });
}

/** Joins each process (bounded) and checks that it returned normally. */
export async function joinOk(...processes: Process[]): Promise<void> {
  for (const p of processes) {
    await p.join({ timeout: LONG });
    equal(p.exitCode, 0, p.error?.stack ?? `${p} did not exit with 0`);
  }
}

/** Joins a process (bounded) that must have failed, and returns its error. */
export async function joinFailed(p: Process): Promise<Error> {
  await p.join({ timeout: LONG });
  equal(p.exitCode, 1, `${p} should have failed`);
  ok(p.error, `${p} left no error report`);
  return p.error;
}

/** What `promise` resolves to within `ms`, or "still pending" (the timer is cleared either way). */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | "still pending"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"still pending">((resolve) => {
    timer = setTimeout(() => resolve("still pending"), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits (bounded) for an event that a child sets. */
export async function waitSet(event: Event, what: string): Promise<void> {
  ok(await event.wait({ timeout: LONG }), `${what} was not set within ${LONG} ms`);
}

/** Checks that `predicate` still holds after `ms` (what a blocked party must not change). */
export async function stillAfter(
  ms: number,
  predicate: () => boolean,
  what: string,
): Promise<void> {
  await sleep(ms);
  ok(predicate(), what);
}
