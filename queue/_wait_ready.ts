// Copyright the multiproc authors. MIT license.
/**
 * How `Connection.wait()` (`connection.ts`) waits for the first of several
 * objects to be ready: it watches each one (an end of a pipe receives, a
 * process or thread is joined) until one is, with no polling, and stops the
 * other watches when it returns. Apart from the connection as it needs
 * nothing of an end but a way to watch it.
 *
 * @module
 */

import type { WaitOptions } from "../_internal/wait.ts";
import type { Process } from "../process/process.ts";
import type { Thread } from "../thread/thread.ts";
import { describe } from "./_bytes.ts";

/**
 * Checks that `object`, which is not an end of a pipe, is a started process
 * or thread.
 *
 * @param what Names the call in the error messages.
 * @throws {TypeError} If it is neither, or was not started.
 */
export function checkStarted(object: unknown, what: string): asserts object is Process | Thread {
  if (
    typeof (object as { isAlive?: unknown })?.isAlive !== "function" ||
    typeof (object as { join?: unknown }).join !== "function"
  ) {
    throw new TypeError(
      `Cannot ${what} as one is neither a Connection nor a Process or Thread: received ${
        describe(object)
      }`,
    );
  } else if ((object as Process | Thread).ident === null) {
    throw new TypeError(`Cannot ${what} as ${(object as Process | Thread).name} was not started`);
  }
}

/**
 * Watches each of `list` until one is ready, `timeout` passes or `signal`
 * aborts, and returns those ready then, in their order.
 *
 * @param isReady Whether an object is ready now.
 * @param watch Watches an object until `stop` aborts: it resolves once the
 *   object is ready (or its watch failed: the caller then sees why at once),
 *   and a rejection is ignored.
 * @param options `timeout` (ms) and `signal`.
 * @returns The objects ready, or whose watch ended.
 * @throws {unknown} The signal's reason (as a rejection) if it aborts first.
 */
export async function firstReady<T>(
  list: T[],
  isReady: (object: T) => boolean,
  watch: (object: T, stop: AbortSignal) => Promise<unknown>,
  options: WaitOptions,
): Promise<T[]> {
  // Each end receives (what comes is kept as its next message) and each process or thread is
  // joined until one is ready: no polling. Those still going are stopped when it returns.
  const stop = new AbortController();
  // What ended its watch (a message, the other end closed, a failure) or its join.
  const done = new Set<T>();
  let wake!: () => void;
  const woken = new Promise<"woken">((resolve) => wake = () => resolve("woken"));
  const ended = (o: T) => () => {
    done.add(o);
    wake();
  };
  for (const o of list) watch(o, stop.signal).then(ended(o), () => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const { timeout, signal } = options;
    const expired = new Promise<"timeout">((resolve, reject) => {
      if (timeout !== undefined) timer = setTimeout(() => resolve("timeout"), timeout);
      if (signal) {
        onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
      }
    });
    await Promise.race([woken, expired]);
    // Ended also counts: a receive that failed (the hub is gone) fails at once for the caller too.
    return list.filter((o) => isReady(o) || done.has(o));
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener("abort", onAbort);
    stop.abort();
  }
}
