/**
 * Starting the processes and threads that serve connections ("runners"),
 * with one interface for both: how it ended, and how to stop it.
 *
 * A process runner is a library `Process` whose target is an export of a
 * `net/` module (so it gets the parent's permissions, `exitCode` and error
 * reports like any child). A thread runner is a Web Worker running
 * `net/_worker.ts`; unlike `Thread` it can be terminated, which a server
 * needs when a handler ignores shutdown.
 *
 * @module
 */

import { type ErrorData, errorFromData } from "../_internal/codec.ts";
import { checkNotBootstrapping } from "../_internal/import_target.ts";
import { startThread } from "../_internal/runtime.ts";
import { Process } from "../process/process.ts";

/** How a runner ended. */
export interface RunnerExit {
  /** Python's exit code for a process (`-9` for SIGKILL); `null` for a thread. */
  code: number | null;
  /** The error that ended it, if one was reported. */
  error: Error | null;
  /** Human-readable, e.g. `exited with code 1`, `was killed by signal 9`. */
  description: string;
}

/** A started runner. */
export interface Runner {
  /** `process "TcpServer-1 runner 3" (pid 123)` or `thread "…"`. */
  readonly label: string;
  /** Settles (never rejects) when the runner has ended. */
  readonly exited: Promise<RunnerExit>;
  /** Whether it has ended. */
  readonly ended: boolean;
  /** Ends it at once (SIGKILL, or worker termination). */
  kill(): void;
  /** For threads: the runner's control connection ended, so it is gone (`Deno.exit` in a worker ends the worker silently). */
  lost(): void;
}

/** Messages a thread runner posts (see `_worker.ts`). */
export type WorkerReport =
  | { t: "exit" }
  | { t: "fatal"; error: ErrorData }
  | { t: "uncaught"; error: ErrorData };

/** What a worker is told to run (see `_worker.ts`). */
export interface WorkerStart {
  export: "runRelayed" | "servePrefork";
  config: unknown;
}

const WORKER = new URL("./_worker.ts", import.meta.url).href;

/** Starts a runner running export `target` of `module` with `config`. */
export function spawnRunner(
  kind: "process" | "thread",
  name: string,
  module: string,
  target: WorkerStart["export"],
  config: unknown,
  options: { denoArgs?: readonly string[]; onUncaught?: (error: Error, label: string) => void },
): Runner {
  checkNotBootstrapping(`Cannot start ${kind} runner "${name}"`, `a ${kind}`);
  return kind === "process"
    ? spawnProcess(name, module, target, config, options.denoArgs ?? [])
    : spawnThread(name, target, config, options.onUncaught);
}

function spawnProcess(
  name: string,
  module: string,
  target: string,
  config: unknown,
  denoArgs: readonly string[],
): Runner {
  const process = new Process({
    target: { module, export: target },
    args: [config],
    name,
    denoArgs,
  });
  process.start();
  const label = `process "${name}" (pid ${process.pid})`;
  let ended = false;
  const exited = process.join().then(() => {
    ended = true;
    const code = process.exitCode;
    const description = code !== null && code < 0
      ? `was killed by signal ${-code}`
      : `exited with code ${code}`;
    return { code, error: process.error, description };
  });
  return {
    label,
    exited,
    get ended() {
      return ended;
    },
    kill: () => {
      if (!ended) process.kill();
    },
    lost: () => {},
  };
}

function spawnThread(
  name: string,
  target: WorkerStart["export"],
  config: unknown,
  onUncaught: ((error: Error, label: string) => void) | undefined,
): Runner {
  const handle = startThread(WORKER, name, false);
  const label = `thread "${name}"`;
  let ended = false;
  let settle!: (exit: RunnerExit) => void;
  const exited = new Promise<RunnerExit>((resolve) => (settle = resolve));
  const end = (error: Error | null, description: string) => {
    if (ended) return;
    ended = true;
    handle.terminate();
    settle({ code: null, error, description });
  };
  handle.onMessage((message) => {
    const report = message as WorkerReport;
    if (report.t === "exit") end(null, "ended");
    else if (report.t === "fatal") {
      const error = errorFromData(report.error);
      end(error, `failed: ${error.message}`);
    } else if (report.t === "uncaught") onUncaught?.(errorFromData(report.error), label);
  });
  handle.onError((error) => end(new Error(error.message), `failed: ${error.message}`));
  handle.postMessage({ export: target, config } satisfies WorkerStart);
  return {
    label,
    exited,
    get ended() {
      return ended;
    },
    kill: () => end(null, "was terminated"),
    lost: () => end(null, "ended (its channel to the server closed)"),
  };
}
