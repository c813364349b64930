/**
 * The target of a `Process` or `Thread`.
 *
 * @module
 */

export type { TargetSpec } from "../_internal/target.ts";
