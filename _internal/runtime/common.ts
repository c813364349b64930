/**
 * What the Deno adapter (`deno/`) and the Node one (`node/`) share: the
 * helpers that need nothing of the host, or only what both hosts have (Web
 * Crypto, `import.meta.resolve`, `node:worker_threads` ports), written once.
 * Both builds ship this file; it never names `Deno` nor imports a `node:`
 * module at run time.
 *
 * @module
 */

import type { MessagePort } from "node:worker_threads";
import type {
  HelperContext,
  NetConn,
  NetListener,
  StreamConn,
  StreamListener,
} from "../runtime_types.ts";

/** The signals whose default action ends a process and which a program can listen for. */
export type TerminatingSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

/** Every {@linkcode TerminatingSignal}. */
export const TERMINATING_SIGNALS: readonly TerminatingSignal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** A random hex key (for authenticating children to a hub). */
export function randomKey(bytes = 32): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(buf, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Resolves a bare or mapped specifier the way the runtime would. Node 20
 * resolves bare specifiers only from this file's location (the second
 * argument of `import.meta.resolve` is still experimental), which finds the
 * packages installed beside this one.
 */
export function resolveSpecifier(specifier: string, referrer: string): string | undefined {
  if (/^\.{0,2}\//.test(specifier)) return new URL(specifier, referrer).href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(specifier)) return specifier;
  try {
    return import.meta.resolve(specifier);
  } catch {
    return undefined;
  }
}

/**
 * Whether the process whose `/proc/<pid>/stat` reads `stat` is running: it is
 * neither a zombie (`Z`, killed but not yet reaped) nor dead (`X`).
 */
export function runningInStat(stat: string): boolean {
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state !== "Z" && state !== "X";
}

/**
 * Reads exactly `n` bytes with `read` (the host's read of the control pipe),
 * or fewer when it reports the end (`null` or 0).
 */
export async function readFull(
  n: number,
  read: (into: Uint8Array) => Promise<number | null>,
): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let filled = 0;
  while (filled < n) {
    const got = await read(out.subarray(filled));
    if (got === null || got === 0) break;
    filled += got;
  }
  return out.subarray(0, filled);
}

/** The `code` of a system error (`"ENOENT"`, `"EEXIST"`…), if it has one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * A full connection as a {@linkcode StreamConn} (the hub's Unix sockets):
 * the same reads, and writes that return once all of the bytes are written.
 */
export function streamConn(conn: NetConn): StreamConn {
  return {
    read: (into) => conn.read(into),
    async write(bytes) {
      let done = 0;
      while (done < bytes.length) done += await conn.write(bytes.subarray(done));
    },
    close: () => conn.close(),
    ref: () => conn.ref(),
    unref: () => conn.unref(),
  };
}

/** A listener handing out {@linkcode streamConn} connections. */
export function streamListener(listener: NetListener): StreamListener {
  return {
    accept: async () => streamConn(await listener.accept()),
    close: () => listener.close(),
    unref: () => listener.unref(),
  };
}

/**
 * The helper-thread side of `startHelperThread`: the data it was started
 * with and its channel to the parent, from `node:worker_threads` (both hosts
 * start helper threads with it).
 *
 * @throws {Error} Outside a worker (`parentPort` is `null`).
 */
export function helperContext(parentPort: MessagePort | null, data: unknown): HelperContext {
  const port = parentPort;
  if (!port) throw new Error("Cannot run the helper thread outside a worker");
  return {
    data,
    postMessage: (message) => port.postMessage(message),
    onMessage: (handler) => void port.on("message", handler),
  };
}
