/**
 * The Deno adapter's TCP: listening (with `reusePort` where the unstable net
 * APIs allow it), and Deno's I/O error classes for errors rebuilt from
 * another process or thread.
 *
 * @module
 */

import type { NetListener } from "../../runtime_types.ts";
import { wrapNetListener } from "./sockets.ts";

/**
 * Whether Deno's unstable network APIs are enabled in this runtime
 * (`--unstable-net`, or `"unstable": ["net"]` in deno.json). Using one
 * without the flag does not throw: the process exits with code 70, so this
 * must be asked first. `Deno.listenDatagram` exists only under the flag.
 */
export function unstableNetAvailable(): boolean {
  return typeof (Deno as unknown as Record<string, unknown>).listenDatagram === "function";
}

/**
 * Why this process cannot listen with `reusePort` (what a `"prefork-thread"`
 * server needs), as the end of an error message that says what to do, or
 * `undefined` when it can.
 */
export function reusePortUnavailable(): string | undefined {
  if (unstableNetAvailable()) return undefined;
  return "Deno's unstable net APIs are not enabled in this process: run it with --unstable-net " +
    "(prefork threads share the port with reusePort, which needs the flag, and Deno would end " +
    `the process with exit code 70 without it), or use mode "prefork-process", whose children ` +
    "get the flag";
}

/**
 * Listens on TCP. With `reusePort` (Linux `SO_REUSEPORT`: several sockets,
 * in any processes or threads of this user, share the port and the kernel
 * spreads connections among them), the runtime must have the unstable net
 * APIs: this throws instead of letting Deno end the process.
 *
 * @throws {Error} If `reusePort` is asked for without the unstable net APIs.
 */
export function listenTcp(
  options: { hostname: string; port: number; reusePort?: boolean },
): NetListener {
  if (options.reusePort && !unstableNetAvailable()) {
    throw new Error(
      "Cannot listen with reusePort as Deno's unstable net APIs are not enabled: run deno with --unstable-net",
    );
  }
  const listener = Deno.listen({
    transport: "tcp",
    hostname: options.hostname,
    port: options.port,
    ...(options.reusePort ? { reusePort: true } : {}),
  });
  return wrapNetListener(listener, true);
}

/**
 * Gives an error rebuilt from another process or thread the runtime's own
 * class when its name is one of the runtime's I/O errors (`AddrInUse`,
 * `ConnectionRefused`…), so that `instanceof Deno.errors.AddrInUse` holds
 * wherever it was thrown. Other errors are returned as they are.
 */
export function reviveRuntimeError(error: Error): Error {
  const errors = Deno.errors as unknown as Record<
    string,
    (new (message: string) => Error) | undefined
  >;
  const Class = Object.hasOwn(Deno.errors, error.name) ? errors[error.name] : undefined;
  if (!Class || (error as unknown) instanceof Class) return error;
  const revived = new Class(error.message);
  if (error.stack) revived.stack = error.stack;
  return revived;
}
