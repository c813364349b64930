/**
 * Entry module of a pool's worker thread: the start message is its
 * `workerData`; message arrays come and go by `postMessage`. It runs the
 * chunks the pool sends until told to stop, then ends.
 *
 * @module
 */

import { adoptProcessShared, setProcessIdentity } from "../_internal/context.ts";
import { goodbyeAll } from "../_internal/hub_client.ts";
import { exitNow, helperThreadContext } from "../_internal/runtime.ts";
import type { FromWorker, ToWorker, WorkerStart } from "./_protocol.ts";
import { TaskRunner } from "./_runner.ts";

const context = await helperThreadContext();
const start = context.data as WorkerStart;
if (start.shared) adoptProcessShared(start.shared);
if (start.process) setProcessIdentity(start.process);

/** Messages of one turn of the event loop go out as one array. */
let outbox: FromWorker[] = [];
function send(messages: FromWorker[]): void {
  if (outbox.length === 0) queueMicrotask(flush);
  for (const m of messages) outbox.push(m);
}
function flush(): void {
  const batch = outbox;
  outbox = [];
  context.postMessage(batch);
}

async function leave(): Promise<void> {
  if (outbox.length > 0) flush();
  await goodbyeAll();
  exitNow(0);
}

const runner = new TaskRunner(start, send, "clone", leave);
context.onMessage((message) => runner.receive(message as ToWorker[]));
