#!/usr/bin/env -S deno run --allow-run --allow-read --allow-write --allow-net
/**
 * `concurrent.futures` in the style of the Python docs' examples: submit
 * one task per number to a ProcessPoolExecutor and handle each result as
 * soon as it is ready, with `asCompleted` (Python's `as_completed`):
 *
 *     with ProcessPoolExecutor() as executor:
 *         futures = {executor.submit(is_prime, n): n for n in NUMBERS}
 *         for future in as_completed(futures):
 *             n = futures[future]
 *             try:
 *                 print('%d is prime: %s' % (n, future.result()))
 *             except Exception as exc:
 *                 print('%r generated an exception: %s' % (n, exc))
 *
 * Results come in completion order, not submission order; a task's error
 * comes back with its class and message, and fails only that future.
 */
import { asCompleted, ProcessPoolExecutor } from "../mod.ts";

/** The Python docs' primes (and one that is not), plus an input the task refuses. */
const NUMBERS = [
  112272535095293,
  112582705942171,
  112272535095293,
  115280095190773,
  115797848077099,
  1099726899285419,
  -7,
];

/** Whether `n` is prime, by trial division (the Python docs' `is_prime`). */
export function isPrime(n: number): boolean {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`Cannot test ${n} as it is not a non-negative safe integer`);
  }
  if (n < 2) return false;
  if (n === 2) return true;
  if (n % 2 === 0) return false;
  const limit = Math.floor(Math.sqrt(n));
  for (let i = 3; i <= limit; i += 2) {
    if (n % i === 0) return false;
  }
  return true;
}

if (import.meta.main) {
  await using executor = new ProcessPoolExecutor({ maxWorkers: 2 });
  const futures = NUMBERS.map((n) => executor.submit(isPrime, n));
  const numberOf = new Map<unknown, number>(futures.map((future, i) => [future, NUMBERS[i]]));
  // A Future is thenable: `await future` is its result, or throws the task's error. (So
  // TypeScript types `future` below as the result; at run time it is the Future.)
  for await (const future of asCompleted(futures)) {
    const n = numberOf.get(future);
    try {
      console.log(`${n} is prime: ${await future}`);
    } catch (error) {
      console.log(`${n} generated an exception: ${error}`);
    }
  }
}
