/**
 * The Deno adapter's threads: helper threads (the hub, the signal watcher),
 * pool threads, and the threads of `Thread` (Web Workers, or unref'd
 * `node:worker_threads` workers for daemon threads), from both sides.
 *
 * @module
 */

import { poolThread } from "../../pool_thread.ts";
import type {
  HelperContext,
  HelperThread,
  PoolThread,
  ThreadHandle,
  ThreadSelf,
} from "../../runtime_types.ts";
import { helperContext } from "../common.ts";

/**
 * The URL a `node:worker_threads` worker is started from to run the module
 * at `url`. That API takes only `file:` and `data:` URLs, so a module loaded
 * over http(s) (the library imported by URL, or from JSR) is run through a
 * one-line `data:` module that imports it. The worker keeps this thread's
 * permissions, so the import needs no more than loading the library did.
 */
function nodeWorkerUrl(url: string): URL {
  const parsed = new URL(url);
  if (parsed.protocol === "file:" || parsed.protocol === "data:") return parsed;
  const source = `import ${JSON.stringify(parsed.href)};`;
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

/**
 * Starts a helper thread running `url` with `data` available to it as
 * `workerData`. It uses `node:worker_threads` (also in Deno) because a Web
 * Worker cannot be unref'd: the hub must not keep a finished program alive.
 */
export async function startHelperThread(url: string, data: unknown): Promise<HelperThread> {
  const { Worker } = await import("node:worker_threads");
  const worker = new Worker(nodeWorkerUrl(url), { workerData: data });
  worker.unref();
  return {
    postMessage: (message) => worker.postMessage(message),
    onMessage: (handler) => void worker.on("message", handler),
    onError: (handler) => void worker.on("error", handler),
    ref: () => worker.ref(),
    unref: () => worker.unref(),
    terminate: () => void worker.terminate(),
  };
}

/** The helper-thread side of {@linkcode startHelperThread}: its data and its channel to the parent. */
export async function helperThreadContext(): Promise<HelperContext> {
  const { parentPort, workerData } = await import("node:worker_threads");
  return helperContext(parentPort, workerData);
}

/**
 * Starts a pool's worker thread running `url` (a `node:worker_threads`
 * worker, also in Deno, for its exit event and `ref`/`unref`), with `data`
 * available to it as `workerData` (see {@linkcode helperThreadContext}).
 */
export async function startPoolThread(url: string, data: unknown): Promise<PoolThread> {
  const { Worker } = await import("node:worker_threads");
  return poolThread(new Worker(nodeWorkerUrl(url), { workerData: data }));
}

/**
 * Starts a module worker with this thread's permissions (Deno's default for
 * workers). An uncaught error in it never kills this process: it is handed
 * to `onError` (the worker's bootstrap normally reports errors itself).
 *
 * A daemon thread must not keep the program alive (Python's rule), and a
 * Web Worker cannot be unref'd, so daemon threads run on
 * `node:worker_threads` (also a V8 isolate, unref'd); their bootstrap is told
 * so by a `?unref` query. `onExit` is called when the worker ends for any
 * reason (including `Deno.exit` inside it).
 */
export function startThread(url: string, name: string, daemon: boolean): ThreadHandle {
  if (daemon) return startUnrefThread(`${url}?unref`, name);
  const worker = new Worker(url, { type: "module", name });
  let errorHandler: (error: { message: string }) => void = () => {};
  worker.onerror = (event) => {
    event.preventDefault();
    errorHandler({ message: event.message });
  };
  worker.onmessageerror = () =>
    errorHandler({ message: "A message from the thread could not be deserialized" });
  return {
    postMessage: (message, transfer) =>
      worker.postMessage(message, [...(transfer ?? [])] as Transferable[]),
    onMessage: (handler) => {
      worker.onmessage = (event) => handler(event.data);
    },
    onError: (handler) => {
      errorHandler = handler;
    },
    terminate: () => worker.terminate(),
  };
}

function startUnrefThread(url: string, name: string): ThreadHandle {
  let messageHandler: (message: unknown) => void = () => {};
  let errorHandler: (error: { message: string }) => void = () => {};
  let terminated = false;
  const ready = import("node:worker_threads").then(({ Worker: NodeWorker }) => {
    const worker = new NodeWorker(nodeWorkerUrl(url), { name });
    worker.unref();
    worker.on("message", (message: unknown) => messageHandler(message));
    worker.on(
      "error",
      (error: Error) => errorHandler({ message: error?.message ?? String(error) }),
    );
    if (terminated) worker.terminate();
    return worker;
  });
  return {
    postMessage: (message, transfer) =>
      void ready.then((w) => w.postMessage(message, transfer as never)),
    onMessage: (handler) => void (messageHandler = handler),
    onError: (handler) => void (errorHandler = handler),
    terminate: () => {
      terminated = true;
      ready.then((w) => w.terminate());
    },
  };
}

/** Inside a worker: its channel to the thread that started it (a Web Worker or an unref'd one). */
export async function threadSelf(moduleUrl: string): Promise<ThreadSelf> {
  // deno-lint-ignore no-explicit-any
  const scope = globalThis as any;
  const onUncaught = (handler: (error: unknown) => void) => {
    scope.addEventListener("error", (event: ErrorEvent) => {
      event.preventDefault();
      handler(event.error ?? new Error(event.message));
    });
    scope.addEventListener("unhandledrejection", (event: PromiseRejectionEvent) => {
      event.preventDefault();
      handler(event.reason);
    });
  };
  const onExit = (handler: () => void) => scope.addEventListener("unload", handler);
  if (new URL(moduleUrl).search === "?unref") {
    // Messages wait in the port until a listener is attached, so this await loses nothing.
    const { parentPort } = await import("node:worker_threads");
    return {
      postMessage: (message) => parentPort!.postMessage(message),
      onMessage: (handler) => void parentPort!.on("message", handler),
      onUncaught,
      onExit,
      close: () => parentPort!.close(),
    };
  }
  return {
    postMessage: (message) => scope.postMessage(message),
    onMessage: (handler) => {
      scope.onmessage = (event: MessageEvent) => handler(event.data);
    },
    onUncaught,
    onExit,
    close: () => scope.close(),
  };
}

/** Whether this code runs in a worker thread. */
export function inWorker(): boolean {
  // deno-lint-ignore no-explicit-any
  const scope = globalThis as any;
  return typeof scope.WorkerGlobalScope !== "undefined" && scope instanceof scope.WorkerGlobalScope;
}

// ---------------------------------------------------------------------------
// TCP and Unix stream sockets for `net/` (servers and their relays).
