/**
 * Process-wide state shared by `process/`, `thread/` and the child
 * bootstraps: who this process is, its live children, its private runtime
 * folder, and the "main is done" moment at which Python terminates daemonic
 * children.
 *
 * @module
 */

import { createPrivateDir, removeAtExit, watchFatalErrors } from "./private_dir.ts";
import {
  currentPid,
  inWorker,
  mainModuleUrl,
  onRuntimeExit,
  privateFolderHint,
} from "./runtime.ts";

/** What a child process is told about itself by its parent. */
export interface ProcessIdentity {
  /** The process name (`Process-1`, or the name given). */
  name: string;
  /** Whether this process is daemonic (it may not start children). */
  daemon: boolean;
  /** Python's `_identity`: position in the process tree, e.g. `[1, 2]` for `Process-1:2`. */
  identity: number[];
  /** The parent's pid. */
  parentPid: number;
  /** The parent's name (`MainProcess` for a top-level program). */
  parentName: string;
  /** The parent's private folder, where an error report is written. */
  parentDir?: string;
}

/** A started child, as the registry sees it. */
export interface ChildRecord {
  readonly daemon: boolean;
  /** Whether it was started while the main module was still evaluating. */
  readonly beforeMainDone: boolean;
  /** Sends SIGTERM if the child is still running. */
  terminate(): void;
  /** The public object (a Process) for activeChildren(). */
  readonly process: object;
}

let self: ProcessIdentity | undefined;
let childCount = 0;
let privateDir: string | undefined;
const liveChildren = new Set<ChildRecord>();
const mainDoneHooks: (() => void)[] = [];
let mainDone = false;

/*
 * Python terminates daemonic children when the main program ends, and at
 * exit. "Main ends" is observable in JavaScript: `import()` of the main
 * module resolves once its evaluation, top-level await included, is over.
 * The watch starts when this module is evaluated, which is before the main
 * module finishes whenever the library is imported statically. In a child,
 * the main module is the bootstrap, whose top-level await runs the target.
 * Workers have no main module; threads signal their own end.
 */
{
  const main = mainModuleUrl();
  if (main) import(main).then(signalMainDone, signalMainDone);
  onRuntimeExit(() => {
    for (const child of liveChildren) if (child.daemon) child.terminate();
  });
  mainDoneHooks.push(() => {
    for (const child of liveChildren) if (child.daemon && child.beforeMainDone) child.terminate();
  });
  // Before the program adds error listeners of its own (see onFatalError in runtime.ts).
  if (!inWorker()) watchFatalErrors();
}

/** Identity of this process; `undefined` in a top-level program (MainProcess). */
export function processIdentity(): ProcessIdentity | undefined {
  return self;
}

let currentObject: object | undefined;

/** The object `currentProcess()` returns, once created. */
export function currentProcessObject(): object | undefined {
  return currentObject;
}

/** Records the object `currentProcess()` returns. */
export function setCurrentProcessObject(object: object): void {
  currentObject = object;
}

/** Called once by a child bootstrap before any user code runs. */
export function setProcessIdentity(identity: ProcessIdentity): void {
  self = identity;
}

/** The next child's identity path, e.g. `[1, 3]` for this process's third child. */
export function nextChildIdentity(): number[] {
  return [...(self?.identity ?? []), ++childCount];
}

/**
 * What the threads of one process share, handed by each thread to the
 * threads it starts: the private folder, the hub, and counters in shared
 * memory (object ids on the hub, thread idents), so that every thread of the
 * process uses the same ones.
 */
export interface ProcessShared {
  dir: string;
  hub?: import("./protocol.ts").HubRef;
  /** Int32 counters: [0] next hub object id, [1] next thread ident. */
  counters: SharedArrayBuffer;
}

let shared: ProcessShared | undefined;

/** Called by a thread bootstrap with what its parent thread shares. */
export function adoptProcessShared(value: ProcessShared): void {
  shared = value;
  privateDir = value.dir;
}

/** What this thread shares with threads it starts (creating the folder and counters if needed). */
export function processShared(): ProcessShared {
  if (!shared) {
    shared = { dir: runtimeDir(), counters: new SharedArrayBuffer(8) };
    Atomics.store(new Int32Array(shared.counters), 1, 1); // ident 1 is the main thread
  }
  return shared;
}

/** Adds 1 to shared counter `index` and returns the new value (unique across the process's threads). */
export function nextShared(index: 0 | 1): number {
  return Atomics.add(new Int32Array(processShared().counters), index, 1) + 1;
}

/**
 * This process's private (0700) runtime folder, created on first use and
 * removed at exit (see `private_dir.ts`): inside the parent's folder in a
 * child, else in the temporary folder.
 */
export function runtimeDir(): string {
  if (!privateDir) {
    try {
      privateDir = createPrivateDir(self?.parentDir);
    } catch (error) {
      throw new Error(
        "Cannot create multiproc's private folder (it holds the files of shared objects and the " +
          `socket of their hub) in the temporary folder: ${privateFolderHint()}: ` +
          (error as Error).message,
        { cause: error },
      );
    }
    // Signals: only a top-level program watches them (on Deno with a helper thread): a child's
    // folder is inside its parent's and goes with it, or is swept once the child is gone.
    removeAtExit(privateDir, self === undefined);
  }
  return privateDir;
}

/** Like {@linkcode runtimeDir}, but `undefined` instead of throwing when files cannot be written. */
export function tryRuntimeDir(): string | undefined {
  try {
    return runtimeDir();
  } catch {
    return undefined;
  }
}

/** Adds a started child; it is dropped again by {@linkcode removeChild}. */
export function addChild(child: ChildRecord): void {
  liveChildren.add(child);
}

/** Drops a child that has exited. */
export function removeChild(child: ChildRecord): void {
  liveChildren.delete(child);
}

/** The children that have been started and have not been seen to exit. */
export function children(): ChildRecord[] {
  return [...liveChildren];
}

/**
 * Runs `hook` when this process's main work is done: in a top-level program
 * when the main module has finished evaluating (top-level `await` included);
 * in a child when its target has returned or thrown.
 */
export function onMainDone(hook: () => void): void {
  if (mainDone) {
    hook();
    return;
  }
  mainDoneHooks.push(hook);
}

/** Marks the main work as done and runs the hooks. */
export function signalMainDone(): void {
  if (mainDone) return;
  mainDone = true;
  for (const hook of mainDoneHooks.splice(0)) hook();
}

/** Whether the main work is done. */
export function isMainDone(): boolean {
  return mainDone;
}

/** This process's pid, for naming. */
export function pid(): number {
  return currentPid();
}
