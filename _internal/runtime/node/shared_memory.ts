/**
 * The Node adapter's memory shared between processes: none (Node has no
 * FFI to map a file), so locks and values between processes use files.
 *
 * @module
 */

import type { MapOptions, SharedMapping } from "../../runtime_types.ts";

/**
 * Whether this process can map memory shared with other processes: never on
 * Node (it has no FFI), so locks between processes use lock files.
 */
export function canMapShared(): boolean {
  return false;
}

/** Nothing on Node (no process there spins on shared memory). */
export function yieldCore(): void {}

/** Not available on Node: see {@linkcode canMapShared}. */
export function mapShared(path: string, _bytes: number, _options?: MapOptions): SharedMapping {
  throw new Error(
    `Cannot map ${path}: shared memory between processes needs Deno with --allow-ffi`,
  );
}
