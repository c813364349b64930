/**
 * Entry module of every child process (CPython's `spawn._main`).
 *
 * It reads one start message from the control pipe (stdin), takes on the
 * identity the parent gave it, imports the target's module by URL, rebuilds
 * the Process object (without running user constructors), runs it, and
 * leaves a defined exit code: 0, or 1 after printing an uncaught error under
 * `Process <name>:` and leaving a report for the parent. The top-level await
 * below is the child's "main program": when it finishes, daemonic
 * grandchildren are terminated, as when a Python main program ends.
 *
 * @module
 */

import { decode, errorFromData, errorToData } from "../_internal/codec.ts";
import { setCurrentProcessObject, setProcessIdentity } from "../_internal/context.ts";
import { readFrame } from "../_internal/framing.ts";
import { goodbyeAll } from "../_internal/hub_client.ts";
import {
  currentPid,
  currentPpid,
  everyUnref,
  killSelf,
  printError,
  readControl,
  setExitCode,
  writeFileText,
} from "../_internal/runtime.ts";
import { importTarget } from "../_internal/import_target.ts";
import {
  errorReportPath,
  REVIVE,
  type ReviveInit,
  START_VERSION,
  type StartMessage,
} from "./_revive.ts";
import { Process } from "./process.ts";

const LIFELINE_MS = 200;

let name = `process ${currentPid()}`;
let parentDir: string | undefined;

function fail(error: unknown): void {
  const text = error instanceof Error
    ? (error.stack ?? `${error.name}: ${error.message}`)
    : `Uncaught ${String(error)}`;
  printError(`Process ${name}:\n${text}`);
  if (parentDir) {
    try {
      writeFileText(errorReportPath(parentDir, currentPid()), JSON.stringify(errorToData(error)));
    } catch {
      // The parent is gone or its folder is not writable: the printed report is all there is.
    }
  }
  setExitCode(1);
}

async function main(): Promise<void> {
  const message = await readFrame(readControl) as StartMessage | undefined;
  if (!message) return; // The parent went away before sending anything.
  if (message.version !== START_VERSION) {
    throw new Error(
      `Cannot start child: start message version ${message.version} is not ${START_VERSION}`,
    );
  }
  const { identity } = message;
  name = identity.name;
  parentDir = identity.parentDir;
  setProcessIdentity(identity);
  everyUnref(LIFELINE_MS, () => {
    // Python leaves orphans running; a daemonic child here dies with its parent.
    if (identity.daemon && currentPpid() !== identity.parentPid) killSelf("SIGTERM");
  });
  if (message.fail) throw errorFromData(message.fail);
  const describe = `Cannot run process "${name}"`;
  const Cls = message.cls
    ? await importTarget(message.cls, describe, "class") as unknown as typeof Process
    : Process;
  if (Cls !== Process && !(Cls.prototype instanceof Process)) {
    throw new TypeError(
      `Cannot run process "${name}" as ${message.cls!.export} does not extend Process`,
    );
  }
  const target = message.fn ? await importTarget(message.fn, describe, "function") : undefined;
  const args = await decode(message.payload.args) as unknown[];
  const fields = await decode(message.payload.fields) as Record<string, unknown>;
  const init: ReviveInit = {
    [REVIVE]: true,
    identity,
    pid: currentPid(),
    role: "self",
    target: target as ReviveInit["target"],
    args,
  };
  const process = Reflect.construct(Process, [init], Cls) as Process;
  Object.assign(process, fields);
  setCurrentProcessObject(process);
  await process.run();
  // A normal return: tell the hubs this process leaves cleanly, so they keep what it holds
  // (only a process that dies has its permits released and its queue items redelivered).
  await goodbyeAll();
}

try {
  await main();
} catch (error) {
  fail(error);
}
