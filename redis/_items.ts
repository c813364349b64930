/**
 * Items of remote queues: encoded with the library's codec (the same values
 * cross as between local processes; shared primitives become handles) and
 * stored as JSON text.
 *
 * @module
 */

import { decodeEncoded } from "../_internal/backing/queue.ts";
import { checkTimeout } from "../_internal/shared.ts";
import type { BlockingOptions } from "./types.ts";

/** Decodes an item stored as JSON text (importing the modules its handles need). */
export async function decodeItem<T>(text: string): Promise<T> {
  return await decodeEncoded(JSON.parse(text)) as T;
}

/** Checks the options of a blocking call (rejecting, like the local twins, on bad input). */
export function checkWait(options: BlockingOptions, what: string): void {
  checkTimeout(options.timeout, what);
}

/** Longest single blocking command, so `close()` and new leases are noticed. */
export const BLOCK_SLICE_MS = 500;

/** Races a blocking command with a signal; `onLate` gets its result if the caller gave up. */
export function raceSignal<T>(
  p: Promise<T>,
  signal: AbortSignal | undefined,
  onLate: (value: T) => void,
): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason);
      p.then(onLate, () => {});
    };
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        if (!signal.aborted) resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        if (!signal.aborted) reject(error);
      },
    );
  });
}
