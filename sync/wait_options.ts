// Copyright the multiproc authors. MIT license.
/**
 * `WaitOptions`: the options of every call that can block.
 *
 * @module
 */

export type { WaitOptions } from "../_internal/wait.ts";
