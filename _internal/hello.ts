/**
 * The one hello: the first frame on every connection to a Unix socket this
 * library listens on (a hub, a `TcpServer`'s runners, a process pool), and
 * the one check of it.
 *
 * A listener hands its key only to the processes it starts (through their
 * control pipe, never argv or the environment). A connection must say the
 * key first, in a frame of at most {@linkcode HELLO_MAX_BYTES} (refused from
 * its header, before anything is read or allocated), within a time limit;
 * anything else closes that connection and affects no other. `route` says,
 * where a listener serves several kinds of connection, which one this is.
 *
 * @module
 */

import { encodeFrame, readFrameFrom, type ReadLimits } from "./framing.ts";
import { type Hello, HELLO_MAX_BYTES } from "./protocol.ts";
import { currentPid } from "./runtime.ts";

export { type Hello, HELLO_MAX_BYTES } from "./protocol.ts";

/** How long a new connection has to say hello, unless the listener says otherwise. */
export const HELLO_TIMEOUT_MS = 10_000;

/** The limit on a connection's first message. */
export const HELLO_LIMITS: ReadLimits = { maxMessage: () => HELLO_MAX_BYTES };

/**
 * The frame of a hello with `key`, from this process.
 *
 * @param key The listener's key.
 * @param route Which kind of connection this is, for a listener that routes them.
 * @returns The frame, to be written first.
 */
export function helloFrame(key: string, route?: string): Uint8Array {
  const hello: Hello = { op: "hello", key, pid: currentPid() };
  if (route !== undefined) hello.route = route;
  return encodeFrame(hello);
}

/** Compares two keys in time that does not depend on where they differ. */
function sameKey(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Whether a decoded first message is a hello with `key`.
 *
 * @param value The message, from an untrusted peer.
 * @param key The listener's key.
 * @returns Whether to admit the connection.
 */
export function isHello(value: unknown, key: string): value is Hello {
  const m = value as Partial<Record<keyof Hello, unknown>> | null;
  return typeof m === "object" && m !== null && m.op === "hello" && typeof m.key === "string" &&
    sameKey(m.key, key) && (m.route === undefined || typeof m.route === "string") &&
    (m.pid === undefined || Number.isSafeInteger(m.pid));
}

/**
 * Reads the hello of a new connection, never past it (what follows stays
 * unread), within `timeoutMs`.
 *
 * @param conn The connection (closed by the caller if this returns `undefined`).
 * @param key The listener's key.
 * @param timeoutMs How long it may take.
 * @returns The hello, or `undefined` if the connection did not say one with
 *   the key in time (or said something else, or too much).
 */
export async function readHello(
  conn: { read(into: Uint8Array): Promise<number | null>; close(): void },
  key: string,
  timeoutMs: number = HELLO_TIMEOUT_MS,
): Promise<Hello | undefined> {
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    const value = await readFrameFrom(conn, HELLO_LIMITS);
    return isHello(value, key) ? value : undefined;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
