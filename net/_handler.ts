/**
 * Running a connection handler, the same way in every mode: a function is
 * called with `(conn, client, server)`; a class (anything whose prototype
 * has `handle`, like a `BaseRequestHandler` subclass) is instantiated with
 * the same three values and its `setup()`, `handle()` and `finish()` are
 * awaited in turn (Python's `BaseRequestHandler.__init__`).
 *
 * @module
 */

import { importTarget } from "../_internal/import_target.ts";
import type { TargetRef } from "../_internal/target.ts";
import type {
  RequestConn,
  RequestHandlerClass,
  RequestHandlerFunction,
  ServerInfo,
  TcpAddress,
} from "./types.ts";

/** A handler as given to a server: a function or a handler class. */
export type Handler = RequestHandlerFunction | RequestHandlerClass;

/** Whether `value` is a handler class (its prototype has a `handle` method). */
export function isHandlerClass(value: unknown): value is RequestHandlerClass {
  return typeof value === "function" &&
    typeof (value as { prototype?: { handle?: unknown } }).prototype?.handle === "function";
}

/** Runs `handler` for one connection; resolves when it is done, rejects with its error. */
export async function runHandler(
  handler: Handler,
  conn: RequestConn,
  client: TcpAddress,
  server: ServerInfo,
): Promise<void> {
  if (isHandlerClass(handler)) {
    const instance = new handler(conn, client, server);
    await instance.setup?.();
    try {
      await instance.handle();
    } finally {
      await instance.finish?.();
    }
  } else {
    await (handler as RequestHandlerFunction)(conn, client, server);
  }
}

/**
 * Imports a handler by module URL and export name, in the process or thread
 * that runs it, and checks it is the parent's (same source text).
 *
 * @throws {TypeError} If the export is missing, not a function or class, or a different one.
 */
export async function importHandler(ref: TargetRef, where: string): Promise<Handler> {
  return await importTarget(
    ref,
    `Cannot run the connection handler in ${where}`,
    "handler",
  ) as unknown as Handler;
}
