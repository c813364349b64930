/// <reference lib="deno.worker" />
/**
 * Entry module of a thread runner (a Web Worker started by `_spawn.ts`):
 * takes one start message naming what to run (`runRelayed` for "thread"
 * mode, `servePrefork` for "prefork-thread"), runs it, reports how it
 * ended, and closes itself. Errors nobody awaited (a handler's stray
 * promise) are reported to the server and do not end the thread.
 *
 * @module
 */

import { errorToData } from "../_internal/codec.ts";
import { threadSelf } from "../_internal/runtime.ts";
import type { WorkerReport, WorkerStart } from "./_spawn.ts";
import { type PreforkConfig, servePrefork } from "./_prefork_child.ts";
import { type RelayConfig, runRelayed } from "./_runner.ts";

const self = await threadSelf(import.meta.url);
let started = false;
let ended = false;

function report(message: WorkerReport): void {
  if (message.t !== "uncaught") {
    if (ended) return;
    ended = true;
  }
  self.postMessage(message);
}

self.onUncaught((error) => report({ t: "uncaught", error: errorToData(error) }));
// `Deno.exit()` in a handler ends this thread quietly; the server must still learn it.
self.onExit(() => report({ t: "exit" }));

self.onMessage(async (message) => {
  if (started) return;
  started = true;
  const start = message as WorkerStart;
  try {
    if (start.export === "runRelayed") await runRelayed(start.config as RelayConfig);
    else await servePrefork(start.config as PreforkConfig);
    report({ t: "exit" });
  } catch (error) {
    report({ t: "fatal", error: errorToData(error) });
  }
  self.close();
});
