/**
 * The tasks that `pool.ts` sends to pool workers (a worker imports its task
 * by module URL and export name, so they are exports of a small module of
 * their own: a worker loads nothing else of the benchmark).
 *
 * @module
 */

/** Returns `n * n`: the tiny item of `Pool.map`. */
export function square(n: number): number {
  return n * n;
}

/** Does nothing: a task whose cost is all pool overhead. */
export function noop(): void {}

/** Naive recursive Fibonacci: CPU-bound work of a fixed size. */
export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}
