/**
 * Entry module of a pool's worker process (CPython's `pool.worker` /
 * `process._process_worker`). It reads its start message from the control
 * pipe (stdin), connects to the pool's Unix socket, and runs the chunks the
 * pool sends there until told to stop or until the pool goes away (the
 * connection ends), then exits.
 *
 * @module
 */

import { setProcessIdentity } from "../_internal/context.ts";
import { BatchWriter, readFrame, readFrames } from "../_internal/framing.ts";
import { helloFrame } from "../_internal/hello.ts";
import { goodbyeAll } from "../_internal/hub_client.ts";
import { connectUnix, exitNow, readControl } from "../_internal/runtime.ts";
import {
  type FromWorker,
  type ToWorker,
  WORKER_START_VERSION,
  type WorkerStart,
} from "./_protocol.ts";
import { TaskRunner } from "./_runner.ts";

const start = await readFrame(readControl) as WorkerStart | undefined;
if (!start) exitNow(0); // The pool went away before sending anything.
if (
  start.version !== WORKER_START_VERSION || !start.path || !start.key || !start.token ||
  !start.identity
) {
  throw new Error(`Cannot start pool worker: start message version ${start.version} is not valid`);
}
setProcessIdentity(start.identity);
const conn = await connectUnix(start.path);
await conn.write(helloFrame(start.key, start.token));
const writer = new BatchWriter<FromWorker>((bytes) => conn.write(bytes), () => exitNow(1));

async function leave(): Promise<never> {
  await writer.flushed();
  // A normal end: the hubs keep what this worker holds (only a dead process's is released).
  await goodbyeAll();
  conn.close();
  exitNow(0);
}

const runner = new TaskRunner(start, (messages) => writer.send(messages), "wire", leave);
await readFrames(conn, (frame) => runner.receive(frame as ToWorker[])).catch(() => {});
// The pool closed the connection (it terminated, or its process ended): nothing is left to do.
exitNow(0);
