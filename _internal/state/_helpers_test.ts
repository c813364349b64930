// Copyright the multiproc authors. MIT license.
/**
 * Helpers of the state machines' unit tests. Named `*_test.ts` so it stays
 * out of the library (`library_modules.ts`, the npm package, JSR).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Owner } from "./common.ts";

/** Whether `promise` is still pending once microtasks and one macrotask have run. */
export async function isPending(promise: Promise<unknown>): Promise<boolean> {
  let pending = true;
  promise.then(() => pending = false, () => pending = false);
  await new Promise((resolve) => setTimeout(resolve, 0));
  return pending;
}

/** Asserts that `promise` blocks: it has not settled after a macrotask. */
export async function assertBlocks(promise: Promise<unknown>): Promise<void> {
  assert.equal(await isPending(promise), true, "expected the call to block");
}

/** Records the order in which promises resolve. */
export function track<T>(order: string[], name: string, promise: Promise<T>): Promise<T> {
  return promise.then((value) => {
    order.push(name);
    return value;
  });
}

/** A reason to abort with, recognisable by identity. */
export function reason(): Error {
  return new Error("stopped by the test");
}

/** Owners that tests act as. */
export const A: Owner = 1;
/** Second owner. */
export const B: Owner = 2;
/** Third owner. */
export const C: Owner = 3;
