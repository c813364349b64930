/**
 * A `TcpServer`'s options checked and completed with their defaults, before
 * anything binds or starts.
 *
 * @module
 */

import { checkNotBootstrapping } from "../_internal/import_target.ts";
import { cpuCount, mainModuleUrl, reusePortUnavailable } from "../_internal/runtime.ts";
import { execArgvOption } from "../_internal/exec_argv.ts";
import {
  callerModule,
  resolveTarget,
  type TargetRef,
  type TargetSpec,
} from "../_internal/target.ts";
import type { TcpServerOptions } from "./tcp_server_options.ts";
import type { ServerMode } from "./types.ts";

/** What a server was asked for, checked, with every default filled in. */
export interface ServerSettings {
  /** `TcpServer-N`, numbered in the order servers are created. */
  name: string;
  mode: ServerMode;
  /** Whether the mode is `"prefork-process"` or `"prefork-thread"`. */
  prefork: boolean;
  handler: TcpServerOptions["handler"];
  /** The handler's module and export, except for a function served in `"async"` mode. */
  handlerRef: TargetRef | Promise<TargetRef> | undefined;
  hostname: string;
  port: number;
  workers: number;
  maxConnections: number;
  /** `connectionsPerRunner`, 0 for no limit. */
  perRunner: number;
  execArgv: readonly string[];
}

const MODES: readonly ServerMode[] = [
  "async",
  "thread",
  "process",
  "prefork-process",
  "prefork-thread",
];
let serverCount = 0;

/**
 * Checks a server's options and fills in the defaults.
 *
 * @param options As given to the constructor.
 * @returns The settings.
 * @throws {TypeError} If the options are not an object, the handler is not a function, class or
 *   `{ module, export }` (or, outside `"async"` mode, is not exported), or both `execArgv` and
 *   `denoArgs` are given.
 * @throws {RangeError} For an unknown mode, or a negative or fractional count or port.
 * @throws {Error} In `"prefork-thread"` mode when this process cannot listen with `reusePort`,
 *   or when a child is still importing its target's module.
 */
export function serverSettings(options: TcpServerOptions): ServerSettings {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot create TcpServer as its options are not an object: received ${
        options === null ? "null" : typeof options
      }`,
    );
  }
  const mode = options.mode ?? "async";
  if (!MODES.includes(mode)) {
    throw new RangeError(
      `Cannot create TcpServer as mode "${mode}" is not one of ${
        MODES.map((m) => `"${m}"`).join(", ")
      }`,
    );
  }
  const name = `TcpServer-${++serverCount}`;
  const describe = `Cannot create TcpServer in "${mode}" mode`;
  // Its runners are children: a server created while a child imports its target would start
  // one more server (and its children) in every child.
  if (mode !== "async") checkNotBootstrapping(describe, "a server that starts children");
  const handler = options.handler;
  if (
    typeof handler !== "function" &&
    (typeof handler !== "object" || handler === null || typeof handler.export !== "string")
  ) {
    throw new TypeError(
      `${describe} as its handler is not a function, a class or { module, export }: received ${
        handler === null ? "null" : typeof handler
      }`,
    );
  }
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  checkCount(port, "port", describe, 0, 65535);
  const prefork = mode === "prefork-process" || mode === "prefork-thread";
  const workers = options.workers ?? (prefork ? cpuCount() : 2);
  checkCount(workers, "workers", describe, prefork ? 1 : 0);
  const maxConnections = options.maxConnections ??
    (mode === "process" ? 40 : mode === "thread" ? 100 : Infinity);
  if (maxConnections !== Infinity) {
    checkCount(maxConnections, "maxConnections", describe, 1);
  }
  let perRunner = options.connectionsPerRunner ?? (mode === "process" ? 1 : 0);
  if (perRunner === Infinity) perRunner = 0;
  checkCount(perRunner, "connectionsPerRunner", describe, 0);
  const execArgv = execArgvOption(options, describe);
  const noReusePort = mode === "prefork-thread" ? reusePortUnavailable() : undefined;
  if (noReusePort !== undefined) throw new Error(`${describe} as ${noReusePort}`);
  let handlerRef: TargetRef | Promise<TargetRef> | undefined;
  if (mode !== "async" || typeof handler !== "function") {
    // Found now, so that an unexported handler throws here, synchronously.
    handlerRef = resolveTarget(handler as TargetSpec, callerModule(), mainModuleUrl(), describe);
    if (handlerRef instanceof Promise) handlerRef.catch(() => {});
  }
  return {
    name,
    mode,
    prefork,
    handler,
    handlerRef,
    hostname,
    port,
    workers,
    maxConnections,
    perRunner,
    execArgv,
  };
}

function checkCount(
  value: unknown,
  name: string,
  describe: string,
  min: number,
  max?: number,
): void {
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < min ||
    (max !== undefined && value > max)
  ) {
    const range = max === undefined ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    const error = typeof value === "number" ? RangeError : TypeError;
    throw new error(`${describe} as ${name} is not ${range}: received ${String(value)}`);
  }
}
