// deno-lint-ignore-file explicit-module-boundary-types
/**
 * The tasks of `pool_threads.mjs`, for both pools: piscina calls
 * `export[name](task)` with one argument, multiproc `fn(...args)`, so each
 * takes at most one.
 */

/** Does nothing: a task whose cost is all pool overhead. */
export function noop() {}

/** Naive recursive Fibonacci: CPU-bound work of a fixed size. */
export function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}
