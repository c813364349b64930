/**
 * The role of a `Process` that this process starts: the parent-side handle
 * of a child, from spawning it to reading its exit code and error report.
 *
 * @module
 */

import { errorFromData, errorToData } from "../_internal/codec.ts";
import {
  addChild,
  type ChildRecord,
  isMainDone,
  processIdentity,
  removeChild,
  tryRuntimeDir,
} from "../_internal/context.ts";
import { encodeFrames } from "../_internal/framing.ts";
import { childExited } from "../_internal/hub_client.ts";
import { lapseLoans, sendingLoans } from "../_internal/loans.ts";
import { waitAtMost, type WaitOptions } from "../_internal/wait.ts";
import {
  type ChildHandle,
  type ChildStatus,
  currentPid,
  mainModuleUrl,
  spawnRuntime,
  takeFileText,
} from "../_internal/runtime.ts";
import { prepareStart } from "../_internal/start.ts";
import { remoteModulesSeen, type TargetSpec } from "../_internal/target.ts";
import { errorReportPath, START_VERSION, type StartMessage } from "./_revive.ts";
import type { ProcessRole } from "./_role.ts";

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/** Python's exit code: the code, or minus the signal number. */
function exitCodeOf(status: ChildStatus): number {
  if (status.signal) {
    return -(SIGNALS[status.signal] ?? (status.code > 128 ? status.code - 128 : 1));
  }
  return status.code;
}

const BOOTSTRAP = new URL("./_bootstrap.ts", import.meta.url).href;

/** What a child is started from: the `Process` object and what it was created with. */
export interface ChildSpec {
  /** The `Process` object (its own fields travel to the child; its `terminate()` runs at exit). */
  process: { terminate(): void };
  /** The `Process` class, to tell a subclass. */
  base: abstract new (...args: never[]) => unknown;
  /** The process's name, which may change until it starts. */
  name: () => string;
  /** Whether it is daemonic, which may change until it starts. */
  daemon: () => boolean;
  identity: number[];
  target: TargetSpec | undefined;
  args: readonly unknown[];
  execArgv: readonly string[];
  /** The module that created the `Process`, where its target is looked for. */
  caller: string | undefined;
}

/** A child of this process: its lifecycle, `initial` → `started` → `closed`. */
export class ChildRole implements ProcessRole {
  #spec: ChildSpec;
  #state: "initial" | "started" | "closed" = "initial";
  #pid: number | null = null;
  #handle: ChildHandle | undefined;
  #exitCode: number | null = null;
  #error: Error | null = null;
  #exited: Promise<void> | undefined;
  #joiners = 0;

  /** @param spec The `Process` object and what it was created with. */
  constructor(spec: ChildSpec) {
    this.#spec = spec;
  }

  get pid(): number | null {
    return this.#pid;
  }

  get exitCode(): number | null {
    return this.#exitCode;
  }

  get error(): Error | null {
    return this.#error;
  }

  get initial(): boolean {
    return this.#state === "initial";
  }

  get spawned(): boolean {
    return this.#exited !== undefined;
  }

  start(): void {
    const spec = this.#spec;
    const name = spec.name();
    if (this.#state === "closed") {
      throw new Error(`Cannot start process "${name}" as it is closed`);
    }
    if (this.#state !== "initial") {
      throw new Error(
        `Cannot start process "${name}" twice: a process object can only be started once`,
      );
    }
    const me = processIdentity();
    if (me?.daemon) {
      throw new Error(
        `Cannot start process "${name}" from daemon process "${me.name}": ` +
          `daemonic processes are not allowed to have children`,
      );
    }
    // Resolved and encoded before spawning, so that a missing export or a value that cannot
    // cross throws here, synchronously.
    const { cls, fn, payload, loans } = prepareStart(
      spec.process,
      spec.base,
      "process",
      name,
      spec.target,
      spec.args,
      spec.caller,
      "process",
    );
    const main = mainModuleUrl();
    const importUrls = [spec.caller, main, ...remoteModulesSeen()];
    for (const ref of [cls, fn]) if (ref && !(ref instanceof Promise)) importUrls.push(ref.module);
    // No child (say, no --allow-run): the copies of pipe ends its arguments lent go back.
    const handle = sendingLoans(
      loans,
      () => spawnRuntime(BOOTSTRAP, { runtimeArgs: [...spec.execArgv], importUrls }),
    );
    this.#handle = handle;
    this.#pid = handle.pid;
    this.#state = "started";
    const daemon = spec.daemon();
    const dir = tryRuntimeDir();
    const record: ChildRecord = {
      daemon,
      beforeMainDone: !isMainDone(),
      // Python terminates daemonic children at exit and then joins them: the program (and its
      // hub, which they may be using) stays up until they are gone.
      terminate: () => {
        spec.process.terminate();
        handle.ref();
      },
      process: spec.process,
    };
    addChild(record);
    if (daemon) handle.unref();

    const identity = {
      name,
      daemon,
      identity: spec.identity,
      parentPid: currentPid(),
      parentName: processIdentity()?.name ?? "MainProcess",
      parentDir: dir,
    };
    const send = (message: StartMessage) => {
      // In order: each write is queued behind the previous one.
      for (const frame of encodeFrames(message)) handle.write(frame);
    };
    if (!(cls instanceof Promise) && !(fn instanceof Promise)) {
      send({ version: START_VERSION, identity, cls, fn, payload });
    } else {
      // A remote (http) module had to be fetched to find the target.
      Promise.all([cls, fn]).then(
        ([cls, fn]) => send({ version: START_VERSION, identity, cls, fn, payload }),
        (error) => send({ version: START_VERSION, identity, payload, fail: errorToData(error) }),
      );
    }
    this.#exited = handle.status.then(async (status) => {
      // Copies of pipe ends it never adopted (it died first) lapse, after what it sent.
      lapseLoans(loans, handle.pid);
      await childExited(handle.pid);
      this.#exitCode = exitCodeOf(status);
      removeChild(record);
      if (dir && this.#exitCode !== 0) {
        const report = takeFileText(errorReportPath(dir, handle.pid));
        if (report) {
          try {
            this.#error = errorFromData(JSON.parse(report));
          } catch {
            // A truncated report (the child was killed while writing it): keep exitCode only.
          }
        }
      }
    });
  }

  async join({ timeout, signal }: WaitOptions): Promise<void> {
    if (this.#state === "initial" || !this.#exited) {
      throw new Error(`Cannot join process "${this.#spec.name()}" as it has not been started`);
    }
    signal?.throwIfAborted();
    if (this.#exitCode !== null) return;
    // A daemon child does not keep the program alive, except while someone waits for it.
    if (this.#joiners++ === 0) this.#handle?.ref();
    try {
      if (timeout === undefined && !signal) await this.#exited;
      else await waitAtMost(this.#exited, timeout, signal);
    } finally {
      if (--this.#joiners === 0 && this.#spec.daemon()) this.#handle?.unref();
    }
  }

  isAlive(): boolean {
    return this.#state === "started" && this.#exitCode === null;
  }

  signal(signal: "SIGTERM" | "SIGKILL"): void {
    if (this.#state === "initial") {
      throw new Error(
        `Cannot send ${signal} to process "${this.#spec.name()}" as it has not been started`,
      );
    }
    this.#handle?.kill(signal);
  }

  close(): void {
    if (this.#state === "started" && this.#exitCode === null) {
      throw new Error(
        `Cannot close process "${this.#spec.name()}" while it is still running: call join() or terminate() first`,
      );
    }
    this.#state = "closed";
    this.#handle = undefined;
  }
}
