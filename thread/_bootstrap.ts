/// <reference lib="deno.worker" />
/**
 * Entry module of every thread (a module worker). It registers its message
 * and error handlers before the first `await`, takes one start message,
 * adopts what the process's threads share (folder, hub, counters), imports
 * the target's module by URL, rebuilds the Thread object without running
 * user constructors, runs it, reports an escaping error to the starting
 * thread (its except hook), says goodbye to the hubs, and closes itself.
 *
 * @module
 */

import { decode, errorToData } from "../_internal/codec.ts";
import { adoptProcessShared, setProcessIdentity } from "../_internal/context.ts";
import { goodbyeAll } from "../_internal/hub_client.ts";
import { threadSelf } from "../_internal/runtime.ts";
import { importTarget } from "../_internal/import_target.ts";
import { REVIVE, type ReviveInit, type ThreadReport, type ThreadStart } from "./_revive.ts";
import { setCurrentThread, Thread } from "./thread.ts";

const self = await threadSelf(import.meta.url);
let name = "thread";
let started = false;
let doneSent = false;

function report(message: ThreadReport): void {
  if (message.t === "done") {
    if (doneSent) return;
    doneSent = true;
  }
  self.postMessage(message);
}

self.onUncaught((error) => report({ t: "error", error: errorToData(error) }));
// `Deno.exit()` in a thread ends it quietly, as `sys.exit()` ends a Python thread.
self.onExit(() => report({ t: "done" }));

async function run(start: ThreadStart): Promise<void> {
  name = start.identity.name;
  adoptProcessShared(start.shared);
  if (start.process) setProcessIdentity(start.process);
  const describe = `Cannot run thread "${name}"`;
  const Cls = start.cls
    ? await importTarget(start.cls, describe, "class") as unknown as typeof Thread
    : Thread;
  if (Cls !== Thread && !(Cls.prototype instanceof Thread)) {
    throw new TypeError(
      `Cannot run thread "${name}" as ${start.cls!.export} does not extend Thread`,
    );
  }
  const target = start.fn ? await importTarget(start.fn, describe, "function") : undefined;
  const args = await decode(start.payload.args) as unknown[];
  const fields = await decode(start.payload.fields) as Record<string, unknown>;
  const init: ReviveInit = {
    [REVIVE]: true,
    identity: start.identity,
    role: "self",
    target: target as ReviveInit["target"],
    args,
  };
  const thread = Reflect.construct(Thread, [init], Cls) as Thread;
  Object.assign(thread, fields);
  setCurrentThread(start.identity, thread);
  await thread.run();
}

self.onMessage(async (message) => {
  if (started) return;
  started = true;
  try {
    await run(message as ThreadStart);
  } catch (error) {
    report({ t: "error", error: errorToData(error) });
  }
  try {
    await goodbyeAll();
  } finally {
    report({ t: "done" });
    self.close();
  }
});
