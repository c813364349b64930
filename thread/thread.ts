/**
 * `Thread`: Python's `threading.Thread`, on Web Workers.
 *
 * @module
 */

import { errorFromData } from "../_internal/codec.ts";
import { processIdentity, processShared } from "../_internal/context.ts";
import { ownHub } from "../_internal/hub_client.ts";
import { startThread, type ThreadHandle } from "../_internal/runtime.ts";
import { checkRunOptions, prepareStart } from "../_internal/start.ts";
import { callerModule, type TargetRef, type TargetSpec } from "../_internal/target.ts";
import { checkTimeout, waitAtMost, type WaitOptions } from "../_internal/wait.ts";
import { callExcepthook } from "./excepthook.ts";
import {
  REVIVE,
  type ReviveInit,
  type ThreadIdentity,
  type ThreadReport,
  type ThreadStart,
} from "./_revive.ts";

/**
 * Options for {@linkcode Thread}.
 *
 * @example
 * ```ts
 * import { Thread, type ThreadOptions } from "@multiproc/multiproc/thread";
 * import { equal } from "node:assert/strict";
 *
 * const options: ThreadOptions = {
 *   target: { module: import.meta.resolve("../examples/workers.ts"), export: "square" },
 *   name: "squarer",
 *   daemon: true,
 * };
 * await using t = new Thread(options); // nothing runs before start()
 * equal(t.name, "squarer");
 * equal(t.daemon, true);
 * ```
 */
export interface ThreadOptions {
  /**
   * What the thread runs: an **exported** function of the calling module (or
   * of any module it imports), sync or async; or an explicit
   * `{ module: import.meta.url, export: "task" }`. Omit it in a subclass
   * that overrides {@linkcode Thread.run}.
   */
  target?: TargetSpec;
  /**
   * Arguments for the target, passed by structured clone; shared primitives
   * (Lock, Queue, Value…) and SharedArrayBuffers arrive live.
   *
   * @default {[]}
   */
  args?: readonly unknown[];
  /**
   * The thread name.
   *
   * @default {"Thread-N"}
   */
  name?: string;
  /**
   * A daemon thread does not keep the program alive: it is stopped when the
   * main module and every non-daemon thread and process have finished.
   *
   * @default {the creating thread's daemon flag}
   */
  daemon?: boolean;
}

/**
 * Options for {@linkcode Thread.join}: the {@linkcode WaitOptions} of every
 * blocking call. When `timeout` passes, `join()` resolves and the thread may
 * still be running (check {@linkcode Thread.isAlive}); when `signal` aborts,
 * it rejects with the signal's reason.
 *
 * @example Stop waiting, not the thread
 * ```ts
 * import { Event, Thread, type ThreadJoinOptions } from "@multiproc/multiproc/thread";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export async function waitFor(event) { await event.wait(); }
 * const waitFor = { module: import.meta.resolve("../examples/workers.ts"), export: "waitFor" };
 *
 * const done = new Event();
 * await using t = new Thread({ target: waitFor, args: [done] });
 * t.start();
 * const options: ThreadJoinOptions = { timeout: 10 };
 * await t.join(options); // resolves after 10 ms while the thread still waits
 * equal(t.isAlive(), true);
 * done.set();
 * await t.join();
 * equal(t.isAlive(), false);
 * ```
 */
export type ThreadJoinOptions = WaitOptions;

const BOOTSTRAP = new URL("./_bootstrap.ts", import.meta.url).href;

/** Threads started from this thread and not finished. */
const live = new Set<Thread>();
let counter = 0;
let currentObject: Thread | undefined;
let mainObject: Thread | undefined;
let selfIdentity: ThreadIdentity | undefined;

/** Sets the running thread's identity and object (thread bootstrap only). */
export function setCurrentThread(identity: ThreadIdentity, thread: Thread): void {
  selfIdentity = identity;
  currentObject = thread;
}

/** The identity of the running thread; `undefined` on the main thread. */
export function currentThreadIdentity(): ThreadIdentity | undefined {
  return selfIdentity;
}

/** Threads this thread started that are still running. */
export function liveThreads(): Thread[] {
  return [...live];
}

/** The Thread object of the running thread. */
export function currentThreadObject(): Thread {
  if (currentObject) return currentObject;
  return mainThreadObject();
}

/** The Thread object of the main thread. */
export function mainThreadObject(): Thread {
  mainObject ??= new Thread(
    {
      [REVIVE]: true,
      identity: { name: "MainThread", ident: 1, daemon: false },
      role: "main",
    } as never,
  );
  return mainObject;
}

// Daemon threads run on unref'd workers (see runtime.ts): like Python's, they do not keep the
// program alive and end with it, so no bookkeeping is needed here.

const STOP: unique symbol = Symbol("multiproc.stopThread");

/**
 * A function run in a separate thread (a Web Worker) of this process:
 * Python's `threading.Thread`.
 *
 * - Same target rules as `Process`: an exported function, or an exported
 *   subclass overriding `run()` (its own fields travel to the thread; its
 *   constructor does not run there).
 * - `start()` is synchronous; `join()` returns a Promise (with `timeout` in
 *   ms, it may resolve while the thread still runs, as in Python).
 * - An uncaught error in a thread goes to the except hook (printed as
 *   `Exception in thread <name>:` with the thread's stack; see
 *   `setExcepthook`) and never crashes the program; threads have no exit code.
 * - Differs from Python: a thread is a V8 isolate with its own module
 *   instances (about 7 MiB and 15–25 ms to start), so module-level variables
 *   are **not** shared with other threads. Share state through `Value`,
 *   `SharedArray`, `Queue`, the other primitives, or a SharedArrayBuffer.
 *
 * @example Start a thread and wait for it
 * ```ts
 * import { Queue, Thread } from "@multiproc/multiproc/thread";
 * import { equal } from "node:assert/strict";
 *
 * // In your program: export the function and pass it (`target: square`); a doc example is no
 * // module a thread can import, so this one names the same export of examples/workers.ts:
 * // `export async function square(n, results) { await results.put(n * n); }`.
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 *
 * const results = new Queue<number>();
 * await using t = new Thread({ target: square, args: [4, results], name: "squarer" });
 * t.start();
 * equal(await results.get(), 16);
 * await t.join();
 * equal(t.isAlive(), false);
 * ```
 */
export class Thread {
  #name: string;
  #daemon: boolean;
  #target: TargetSpec | undefined;
  #args: readonly unknown[];
  #caller: string | undefined;
  #role: "child" | ReviveInit["role"] = "child";
  #state: "initial" | "started" | "finished" = "initial";
  #ident: number | null = null;
  #handle: ThreadHandle | undefined;
  #finished: Promise<void> | undefined;
  #finish: (() => void) | undefined;

  /**
   * Creates a thread object; nothing runs until {@linkcode Thread.start}.
   *
   * @param options What to run and how; see {@linkcode ThreadOptions}.
   * @throws {TypeError} If `target` is neither a function nor `{ module, export }`, or `args` is not an array.
   */
  constructor(options: ThreadOptions = {}) {
    const revive = (options as Partial<ReviveInit>)[REVIVE]
      ? options as unknown as ReviveInit
      : undefined;
    if (revive) {
      this.#name = revive.identity.name;
      this.#daemon = revive.identity.daemon;
      this.#ident = revive.identity.ident;
      this.#role = revive.role;
      this.#state = "started";
      this.#target = revive.target;
      this.#args = revive.args ?? [];
      return;
    }
    const { target, args = [], name, daemon } = options;
    checkRunOptions("thread", target, args);
    this.#name = name ?? `Thread-${++counter}`;
    this.#daemon = daemon ?? currentThreadObject().daemon;
    this.#target = target;
    this.#args = args;
    this.#caller = callerModule();
  }

  /** The thread name; settable, as in Python. */
  get name(): string {
    return this.#name;
  }
  set name(value: string) {
    this.#name = String(value);
  }

  /**
   * Whether this is a daemon thread.
   *
   * @throws {Error} When set after {@linkcode Thread.start}.
   */
  get daemon(): boolean {
    return this.#daemon;
  }
  set daemon(value: boolean) {
    if (this.#state !== "initial") {
      throw new Error(
        `Cannot set daemon status of thread "${this.#name}" as it has already started`,
      );
    }
    this.#daemon = Boolean(value);
  }

  /** A number identifying the thread within this process (`null` before start), as Python's `ident`. */
  get ident(): number | null {
    return this.#ident;
  }

  /** The code run in the thread. The default calls the target with the arguments. */
  run(): unknown {
    const target = this.#target;
    if (typeof target === "function") return target(...this.#args);
    return undefined;
  }

  /**
   * Starts the thread. Synchronous, like Python's.
   *
   * @throws {Error} If already started, or if this thread is still importing
   *   its target's module (a start at the top level of a module without a
   *   main guard).
   * @throws {TypeError} If the target is not exported, or an argument (or a
   *   field of a subclass) cannot be passed to a thread; the message names it.
   */
  start(): void {
    if (this.#role !== "child") {
      throw new Error(`Cannot start thread "${this.#name}" as it is already running`);
    }
    if (this.#state !== "initial") {
      throw new Error(`Cannot start thread "${this.#name}": threads can only be started once`);
    }
    const { cls: clsRef, fn: fnRef, payload } = prepareStart(
      this,
      Thread,
      "thread",
      this.#name,
      this.#target,
      this.#args,
      this.#caller,
      "thread",
    );
    // Threads reach the process's hub through its socket, if the process has one; a thread that
    // creates shared objects without one starts its own.
    if (processShared().hub) ownHub().ensureListening();
    const shared = processShared();
    const identity: ThreadIdentity = {
      name: this.#name,
      ident: nextIdent(),
      daemon: this.#daemon,
    };
    const handle = startThread(BOOTSTRAP, this.#name, this.#daemon);
    this.#handle = handle;
    this.#ident = identity.ident;
    this.#state = "started";
    live.add(this);
    this.#finished = new Promise((resolve) => (this.#finish = resolve));
    handle.onMessage((message) => this.#report(message as ThreadReport));
    handle.onError((error) => {
      callExcepthook({ excType: "Error", excValue: new Error(error.message), thread: this });
      this.#done();
    });
    const send = (cls: TargetRef | undefined, fn: TargetRef | undefined) => {
      const start: ThreadStart = { identity, process: processIdentity(), shared, cls, fn, payload };
      handle.postMessage(start);
    };
    if (!(clsRef instanceof Promise) && !(fnRef instanceof Promise)) {
      send(clsRef, fnRef);
    } else {
      Promise.all([clsRef, fnRef]).then(([c, f]) => send(c, f), (error) => {
        callExcepthook({ excType: error.name, excValue: error, thread: this });
        this[STOP]();
      });
    }
  }

  #report(message: ThreadReport): void {
    if (message.t === "error") {
      const error = errorFromData(message.error);
      callExcepthook({ excType: error.name, excValue: error, thread: this });
    } else if (message.t === "done") {
      this.#done();
    }
  }

  #done(): void {
    if (this.#state === "finished") return;
    this.#state = "finished";
    this.#handle?.terminate();
    live.delete(this);
    this.#finish?.();
  }

  /** Stops the worker at once (daemon threads at exit). */
  [STOP](): void {
    this.#done();
  }

  /**
   * Waits for the thread to finish. Resolves at once if it has. With a
   * `timeout`, resolves when it expires even if the thread still runs.
   *
   * @throws {Error} If the thread was not started, or it is the current thread.
   * @throws {TypeError} If `timeout` is not a number, or is NaN.
   * @throws {RangeError} If `timeout` is negative.
   */
  async join(options: ThreadJoinOptions = {}): Promise<void> {
    checkTimeout(options.timeout, `join thread "${this.#name}"`);
    if (this.#role !== "child") throw new Error("Cannot join current thread");
    if (this.#state === "initial" || !this.#finished) {
      throw new Error(`Cannot join thread "${this.#name}" before it is started`);
    }
    options.signal?.throwIfAborted();
    if (this.#state === "finished") return;
    await waitAtMost(this.#finished, options.timeout, options.signal);
  }

  /** Whether the thread has started and not finished. */
  isAlive(): boolean {
    if (this.#role !== "child") return true;
    return this.#state === "started";
  }

  /** For `await using`: waits for the thread to finish (threads cannot be killed in Python either). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#role === "child" && this.#state === "started") await this.#finished;
  }

  /** A Python-like description, e.g. `<Thread(Thread-1, started daemon 3)>`. */
  toString(): string {
    const state = this.#state === "initial"
      ? "initial"
      : this.#state === "started"
      ? "started"
      : "stopped";
    return `<${this.constructor.name}(${this.#name}, ${state}${
      this.#daemon ? " daemon" : ""
    } ${this.#ident})>`;
  }
}

function nextIdent(): number {
  return Atomics.add(new Int32Array(processShared().counters), 1, 1) + 1;
}
