/**
 * Entry module of a pool's worker thread: the start message is its
 * `workerData`; batches of messages come and go by `postMessage`, packed by
 * `_thread_batch.ts`. It runs the chunks the pool sends until told to stop,
 * then ends.
 *
 * @module
 */

import { adoptProcessShared, setProcessIdentity } from "../_internal/context.ts";
import { goodbyeAll } from "../_internal/hub_client.ts";
import { poolThreadContext } from "../_internal/pool_thread.ts";
import { exitNow } from "../_internal/runtime.ts";
import type { FromWorker, ToWorker, WorkerStart } from "./_protocol.ts";
import { TaskRunner } from "./_runner.ts";
import { packBatch, unpackBatch } from "./_thread_batch.ts";

const context = await poolThreadContext();
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
  const { data, transfer } = packBatch(outbox);
  outbox = [];
  context.postMessage(data, transfer);
}

async function leave(): Promise<void> {
  if (outbox.length > 0) flush();
  await goodbyeAll();
  exitNow(0);
}

const runner = new TaskRunner(start, send, "clone", leave);
context.onMessage((data) => runner.receive(unpackBatch<ToWorker>(data)));
