/**
 * `Thread`: Python's `threading.Thread`, on Web Workers.
 *
 * @module
 */

import { checkRunOptions } from "../_internal/start.ts";
import { callerModule, type TargetSpec } from "../_internal/target.ts";
import { checkTimeout, type WaitOptions } from "../_internal/wait.ts";
import { ChildRole } from "./_child.ts";
import { REVIVE, type ReviveInit, type ThreadIdentity } from "./_revive.ts";
import { DescribedRole, type ThreadRole } from "./_role.ts";

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
  /** What this object stands for, chosen once in the constructor: a thread started, or one described. */
  #role: ThreadRole;

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
      this.#role = new DescribedRole(() => this.#name, revive.identity.ident);
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
    this.#role = new ChildRole({
      thread: this,
      base: Thread,
      running: live,
      name: () => this.#name,
      daemon: () => this.#daemon,
      target,
      args,
      caller: callerModule(),
    });
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
    if (!this.#role.initial) {
      throw new Error(
        `Cannot set daemon status of thread "${this.#name}" as it has already started`,
      );
    }
    this.#daemon = Boolean(value);
  }

  /** A number identifying the thread within this process (`null` before start), as Python's `ident`. */
  get ident(): number | null {
    return this.#role.ident;
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
    this.#role.start();
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
    await this.#role.join(options);
  }

  /** Whether the thread has started and not finished. */
  isAlive(): boolean {
    return this.#role.isAlive();
  }

  /** For `await using`: waits for the thread to finish (threads cannot be killed in Python either). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#role.spawned) await this.#role.join({}); // not started here, or not started at all
  }

  /** A Python-like description, e.g. `<Thread(Thread-1, started daemon 3)>`. */
  toString(): string {
    const state = this.#role.initial ? "initial" : this.#role.isAlive() ? "started" : "stopped";
    return `<${this.constructor.name}(${this.#name}, ${state}${
      this.#daemon ? " daemon" : ""
    } ${this.#role.ident})>`;
  }
}
