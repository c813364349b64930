/**
 * The Node adapter's threads, all `node:worker_threads` workers: helper
 * threads (the hub), pool threads and the threads of `Thread` (unref'd for
 * daemon threads), from both sides; under `node --import tsx`, tsx is
 * registered in each thread.
 *
 * @module
 */

import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { poolThread } from "../../pool_thread.ts";
import type {
  HelperContext,
  HelperThread,
  PoolThread,
  ThreadHandle,
  ThreadSelf,
} from "../../runtime_types.ts";
import { helperContext } from "../common.ts";
import { checkEntryFile } from "./process.ts";

/** Starts a helper thread running `url` with `data` available to it as `workerData`. */
export function startHelperThread(
  url: string,
  data: unknown,
): Promise<HelperThread> {
  const worker = new Worker(new URL(url), { workerData: data });
  let messageHandler: (message: unknown) => void = () => {};
  let errorHandler: (error: unknown) => void = () => {};
  // Listeners first: adding a 'message' listener refs the worker's port again. An 'error' event
  // without a listener would throw in this thread.
  worker.on("message", (message) => messageHandler(message));
  worker.on("error", (error) => errorHandler(error));
  worker.unref();
  return Promise.resolve({
    postMessage: (message) => worker.postMessage(message),
    onMessage: (handler) => void (messageHandler = handler),
    onError: (handler) => void (errorHandler = handler),
    ref: () => worker.ref(),
    unref: () => worker.unref(),
    terminate: () => void worker.terminate(),
  });
}

/** The helper-thread side of {@linkcode startHelperThread}: its data and its channel to the parent. */
export function helperThreadContext(): Promise<HelperContext> {
  try {
    return Promise.resolve(helperContext(parentPort, workerData));
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Starts a pool's worker thread running `url`, with `data` available to it
 * as `workerData` (see {@linkcode helperThreadContext}).
 */
export function startPoolThread(url: string, data: unknown): Promise<PoolThread> {
  return Promise.resolve(poolThread(new Worker(new URL(url), { workerData: data })));
}

/**
 * Starts a module worker. An uncaught error in it never kills this process:
 * it is handed to `onError` (the worker's bootstrap normally reports errors
 * itself). A daemon thread does not keep the program alive (an unref'd
 * worker), as in Python.
 */
export function startThread(
  url: string,
  name: string,
  daemon: boolean,
): ThreadHandle {
  checkEntryFile(url, `thread "${name}"`);
  const worker = new Worker(new URL(url), { name });
  let messageHandler: (message: unknown) => void = () => {};
  let errorHandler: (error: { message: string }) => void = () => {};
  // Listeners first: adding a 'message' listener refs the worker's port again.
  worker.on("message", (message) => messageHandler(message));
  worker.on(
    "error",
    (error: Error) => errorHandler({ message: error?.message ?? String(error) }),
  );
  worker.on(
    "messageerror",
    () =>
      errorHandler({
        message: "A message from the thread could not be deserialized",
      }),
  );
  if (daemon) worker.unref();
  return {
    postMessage: (message, transfer) =>
      worker.postMessage(
        message,
        transfer as Parameters<Worker["postMessage"]>[1],
      ),
    onMessage: (handler) => void (messageHandler = handler),
    onError: (handler) => void (errorHandler = handler),
    terminate: () => void worker.terminate(),
  };
}

/** The `tsx` loader this process was started with (`--import tsx`, `--loader tsx`…), if any. */
function tsxFlag(): string | undefined {
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const match = /^--(?:import|loader|experimental-loader)(?:=(.*))?$/.exec(argv[i]);
    const specifier = match && (match[1] ?? argv[i + 1]);
    if (specifier && /^tsx(\/|$)/.test(specifier)) return specifier;
  }
  return undefined;
}

/**
 * Whether tsx's loader, imported in a worker, registers itself there: tsx
 * (4.23, the version tested) does so only on Node ≥ 22.22.3, 24.11.1 and
 * 25.1; on older Node it leaves workers alone, so it is registered through
 * its API (`tsx/esm/api`) instead.
 */
function tsxRegistersInWorkers(): boolean {
  const [major, minor, patch] = process.versions.node.split(".").map(Number);
  const atLeast = (m: number, p: number) => minor > m || (minor === m && patch >= p);
  return major >= 26 || (major === 25 && atLeast(1, 0)) || (major === 24 && atLeast(11, 1)) ||
    (major === 22 && atLeast(22, 3));
}

/** What an `exports` entry of a package.json gives an ESM `import` (a path, or conditions). */
type ExportTarget = string | { import?: ExportTarget; node?: ExportTarget; default?: ExportTarget };

function importTarget(target: ExportTarget | undefined): string | undefined {
  if (typeof target === "string" || target === undefined) return target;
  return importTarget(target.import ?? target.node ?? target.default);
}

/**
 * URL of the ESM file that `import "tsx<subpath>"` loads, found from the
 * working folder (where `--import tsx` was resolved), else from this module.
 */
function resolveTsx(subpath: "" | "/esm/api"): string {
  let manifest: string;
  try {
    manifest = createRequire(path.join(process.cwd(), "noop.js")).resolve("tsx/package.json");
  } catch {
    manifest = fileURLToPath(import.meta.resolve("tsx/package.json"));
  }
  const exports = JSON.parse(fs.readFileSync(manifest, "utf8")).exports as Record<
    string,
    ExportTarget
  >;
  const file = importTarget(exports[`.${subpath}`]);
  if (file === undefined) throw new Error(`tsx has no export "tsx${subpath}"`);
  return pathToFileURL(path.join(path.dirname(manifest), file)).href;
}

/**
 * In a worker of a program started with `node --import tsx`: registers tsx's
 * loader in this worker too, so that the thread can import the user's `.ts`
 * modules. Node passes a worker its parent's flags, but its loader hooks do
 * not reach the worker (`ERR_UNKNOWN_FILE_EXTENSION ".ts"` otherwise).
 */
async function registerTsxInWorker(): Promise<void> {
  if (isMainThread || tsxFlag() === undefined) return;
  try {
    if (tsxRegistersInWorkers()) {
      await import(resolveTsx(""));
    } else {
      const api = await import(resolveTsx("/esm/api")) as { register(): unknown };
      api.register();
    }
  } catch (error) {
    throw new Error(
      `Cannot load tsx in this thread although the program was started with --import tsx: ` +
        `${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** Inside a worker: its channel to the thread that started it. */
export async function threadSelf(_moduleUrl: string): Promise<ThreadSelf> {
  const port = parentPort;
  if (!port) throw new Error("Cannot run a thread's entry module outside a worker");
  await registerTsxInWorker();
  return {
    postMessage: (message: unknown) => port.postMessage(message),
    onMessage: (handler: (message: unknown) => void) => void port.on("message", handler),
    onUncaught(handler: (error: unknown) => void) {
      // Handled here, an uncaught error does not end the thread (as `preventDefault()` in Deno).
      process.on("uncaughtException", (error) => handler(error));
      process.on("unhandledRejection", (reason) => handler(reason));
    },
    onExit: (handler: () => void) => void process.on("exit", () => handler()),
    // Deno's `self.close()`: the worker ends (messages already posted are delivered).
    close: () => process.exit(),
  };
}

/** Whether this code runs in a worker thread. */
export function inWorker(): boolean {
  return !isMainThread;
}

// ---------------------------------------------------------------------------
// TCP and Unix stream sockets for `net/` (servers and their relays).
