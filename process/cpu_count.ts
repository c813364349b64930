/**
 * `cpuCount()`: Python's `multiprocessing.cpu_count()`.
 *
 * @module
 */

import { cpuCount as hostCpuCount } from "../_internal/runtime.ts";

/**
 * The number of logical CPUs of the machine (`navigator.hardwareConcurrency`).
 * Like Python's, it ignores CPU affinity and container limits.
 *
 * @returns The number of CPUs, at least 1.
 *
 * @example
 * ```ts
 * import { cpuCount } from "@multiproc/multiproc";
 * import { ok } from "node:assert/strict";
 *
 * const n = cpuCount();
 * ok(Number.isInteger(n) && n >= 1);
 * ```
 */
export function cpuCount(): number {
  return Math.max(1, hostCpuCount());
}
