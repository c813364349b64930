/** What the tests of pools and executors share: assertions on errors and rejections, the pool kinds, child pids. */
import { deepStrictEqual, ok } from "node:assert/strict";

export const assert: (value: unknown, message?: string) => asserts value = ok;

export function assertEquals(actual: unknown, expected: unknown): void {
  deepStrictEqual(actual, expected);
}

// deno-lint-ignore no-explicit-any
export type ErrorClass<E extends Error> = abstract new (...args: any[]) => E;

export function check<E extends Error>(
  error: unknown,
  Class?: ErrorClass<E>,
  includes?: string,
): E {
  if (Class) ok(error instanceof Class, `expected ${Class.name}, got ${error}`);
  ok(error instanceof Error, `expected an Error, got ${error}`);
  if (includes) ok(error.message.includes(includes), `"${error.message}" lacks "${includes}"`);
  return error as E;
}

/** Awaits `fn()`, which must reject (with `Class`, and a message including `includes`). */
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  Class?: ErrorClass<E>,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    return check(error, Class, includes);
  }
  throw new Error("expected a rejection");
}

/** Calls `fn()`, which must throw (with `Class`, and a message including `includes`). */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  Class?: ErrorClass<E>,
  includes?: string,
): E {
  try {
    fn();
  } catch (error) {
    return check(error, Class, includes);
  }
  throw new Error("expected an error");
}

/** The error `promise` rejects with, handled at once (so waiting for another is no unhandled rejection). */
export function rejection(promise: PromiseLike<unknown>): Promise<unknown> {
  return Promise.resolve(promise).then(
    () => new Error("expected a rejection, got a value"),
    (error) => error,
  );
}

/** Pids of this process's children, read from /proc (reaped children are not listed). */
export function childPids(): number[] {
  const pids: number[] = [];
  for (const task of Deno.readDirSync("/proc/self/task")) {
    const text = Deno.readTextFileSync(`/proc/self/task/${task.name}/children`).trim();
    if (text) pids.push(...text.split(/\s+/).map(Number));
  }
  return pids;
}
