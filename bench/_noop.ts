/**
 * The trivial target of `process_start.ts`, in a module of its own so that a
 * child imports nothing else.
 *
 * @module
 */

/** Does nothing: the benchmark measures everything around the call. */
export function noop(): void {}
