/**
 * `Process`: Python's `multiprocessing.Process` for Deno.
 *
 * @module
 */

import { nextChildIdentity, processIdentity } from "../_internal/context.ts";
import { checkTimeout, type WaitOptions } from "../_internal/wait.ts";
import { execArgvOption } from "../_internal/exec_argv.ts";
import { checkRunOptions } from "../_internal/start.ts";
import { callerModule, type TargetSpec } from "../_internal/target.ts";
import { ChildRole } from "./_child.ts";
import { REVIVE, type ReviveInit } from "./_revive.ts";
import { CurrentRole, ParentRole, type ProcessRole } from "./_role.ts";

/**
 * Options for {@linkcode Process}.
 *
 * @example
 * ```ts
 * import { Process, type ProcessOptions } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const options: ProcessOptions = {
 *   target: { module: import.meta.resolve("../examples/workers.ts"), export: "square" },
 *   name: "squarer",
 *   daemon: true,
 * };
 * await using p = new Process(options); // nothing runs before start()
 * equal(p.name, "squarer");
 * equal(p.daemon, true);
 * ```
 */
export interface ProcessOptions {
  /**
   * What the child runs: an **exported** function of the calling module (or
   * of any module it imports), sync or async; or an explicit
   * `{ module: import.meta.url, export: "task" }`. Omit it in a subclass
   * that overrides {@linkcode Process.run}.
   */
  target?: TargetSpec;
  /**
   * Arguments for the target. They cross to the child by structured clone
   * (Map, Set, Date, BigInt, typed arrays, Error…); shared primitives (Lock,
   * Queue, Event…) arrive as live objects.
   *
   * @default {[]}
   */
  args?: readonly unknown[];
  /**
   * The process name, shown in error reports and by `currentProcess().name`.
   *
   * @default {"Process-N"}
   */
  name?: string;
  /**
   * A daemonic process is terminated when the main program ends, may not
   * start children, and dies with its parent.
   *
   * @default {false}
   */
  daemon?: boolean;
  /**
   * Extra runtime flags for the child (named after Node's
   * `process.execArgv`). On Deno, `deno run` flags such as
   * `["--unstable-net"]`; the child gets this process's permissions anyway.
   * On Node, Node flags such as `["--max-old-space-size=512"]`; the child
   * gets this process's own Node flags anyway (`--import tsx`…), and Deno
   * flags given here are dropped (`--v8-flags=a,b` becomes `a b`).
   *
   * @default {[]}
   */
  execArgv?: readonly string[];
  /**
   * The older name of {@linkcode ProcessOptions.execArgv}, still accepted.
   * Give one or the other: both at once is a `TypeError`.
   *
   * @deprecated Use `execArgv`, which means the same on Deno and Node.
   * @default {[]}
   */
  denoArgs?: readonly string[];
}

/**
 * Options for {@linkcode Process.join}: the {@linkcode WaitOptions} of every
 * blocking call. When `timeout` passes, `join()` resolves and the process may
 * still be running (check {@linkcode Process.exitCode}); when `signal`
 * aborts, it rejects with the signal's reason.
 *
 * @example Stop waiting, not the child
 * ```ts
 * import { Event, type JoinOptions, Process } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export async function waitFor(event) { await event.wait(); }
 * const waitFor = { module: import.meta.resolve("../examples/workers.ts"), export: "waitFor" };
 *
 * const done = new Event();
 * await using p = new Process({ target: waitFor, args: [done] });
 * p.start();
 * const options: JoinOptions = { timeout: 10 };
 * await p.join(options); // resolves after 10 ms while the child still waits
 * equal(p.exitCode, null);
 * done.set();
 * await p.join();
 * equal(p.exitCode, 0);
 * ```
 */
export type JoinOptions = WaitOptions;

/**
 * A function run in a separate Deno process: Python's
 * `multiprocessing.Process`.
 *
 * - The child imports the target's module by URL and calls the export; the
 *   module's `if (import.meta.main)` block does not run again (Python's
 *   `if __name__ == "__main__":`).
 * - {@linkcode Process.start} is synchronous and sets {@linkcode Process.pid}
 *   at once. {@linkcode Process.join} returns a Promise.
 * - `exitCode` is `null` while running, `0` after a normal return, `1` after
 *   an uncaught error (printed to the child's stderr under `Process <name>:`,
 *   and available as {@linkcode Process.error}), the code given to
 *   `Deno.exit(n)`, or `-15`/`-9` after {@linkcode Process.terminate} /
 *   {@linkcode Process.kill}.
 * - Subclassing works as in Python: an exported `class MyProcess extends
 *   Process` that overrides `run()`; its own fields travel to the child (the
 *   child does not call its constructor, as unpickling does not call
 *   `__init__`).
 * - Lifecycle: non-daemon children keep the program alive until they exit;
 *   daemon children are terminated when the main module finishes (and at
 *   exit), and exit by themselves within about 200 ms if the parent is
 *   killed, which Python does not do.
 * - Differs from Python: the child's stdin is the library's control pipe
 *   (Python gives `/dev/null`); timeouts are in milliseconds.
 *
 * Targets: the child imports the target's module by URL and reads one export,
 * so in a program you export the function and pass it (`target: square`) or
 * name it (`{ module: import.meta.url, export: "square" }`). The examples
 * below are not modules a child can import, so they name the exports of the
 * repository's `examples/workers.ts`.
 *
 * @example Start a process and wait for it
 * ```ts
 * import { Process, Queue } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export async function square(n, results) { await results.put(n * n); }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 *
 * const results = new Queue<number>();
 * await using p = new Process({ target: square, args: [7, results] });
 * p.start();
 * equal(await results.get(), 49);
 * await p.join();
 * equal(p.exitCode, 0);
 * ```
 *
 * @example A subclass, as in Python
 * ```ts
 * import { Queue } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 * // examples/workers.ts: export class Squarer extends Process { … override async run() {…} }
 * import { Squarer } from "../examples/workers.ts";
 *
 * const results = new Queue<number>();
 * await using p = new Squarer(8, results);
 * p.start();
 * equal(await results.get(), 64);
 * await p.join();
 * equal(p.exitCode, 0);
 * ```
 *
 * @example An error in the child
 * ```ts
 * import { Process } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export function fail(message) { throw new Error(message); }
 * const fail = { module: import.meta.resolve("../examples/workers.ts"), export: "fail" };
 *
 * await using p = new Process({ target: fail, args: ["out of bread"] });
 * p.start();
 * await p.join(); // the child printed "Process Process-1:" and the stack to its stderr
 * equal(p.exitCode, 1);
 * equal(p.error?.message, "out of bread");
 * ```
 *
 * @example Terminate a process
 * ```ts
 * import { Event, Process } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export async function waitFor(event) { await event.wait(); }
 * const waitFor = { module: import.meta.resolve("../examples/workers.ts"), export: "waitFor" };
 *
 * await using p = new Process({ target: waitFor, args: [new Event()] });
 * p.start();
 * equal(p.isAlive(), true);
 * p.terminate();
 * await p.join();
 * equal(p.exitCode, -15); // minus SIGTERM, as in Python
 * ```
 */
export class Process {
  #name: string;
  #daemon: boolean;
  #target: TargetSpec | undefined;
  #args: readonly unknown[];
  /** What this object stands for, chosen once in the constructor: a child, or a process described. */
  #role: ProcessRole;

  /**
   * Creates a process object; nothing runs until {@linkcode Process.start}.
   *
   * @param options What to run and how; see {@linkcode ProcessOptions}.
   * @throws {TypeError} If `target` is neither a function nor `{ module, export }`, or both
   *   `execArgv` and `denoArgs` are given.
   */
  constructor(options: ProcessOptions = {}) {
    const revive = (options as Partial<ReviveInit>)[REVIVE]
      ? options as unknown as ReviveInit
      : undefined;
    if (revive) {
      this.#name = revive.identity.name;
      this.#daemon = revive.identity.daemon;
      const Role = revive.role === "parent" ? ParentRole : CurrentRole;
      this.#role = new Role(() => this.#name, revive.pid);
      this.#target = revive.target;
      this.#args = revive.args ?? [];
      return;
    }
    const { target, args = [], name, daemon } = options;
    checkRunOptions("process", target, args);
    const execArgv = execArgvOption(options, "Cannot create process");
    const identity = nextChildIdentity();
    this.#name = name ?? `Process-${identity.join(":")}`;
    this.#daemon = daemon ?? processIdentity()?.daemon ?? false;
    this.#target = target;
    this.#args = args;
    this.#role = new ChildRole({
      process: this,
      base: Process,
      name: () => this.#name,
      daemon: () => this.#daemon,
      identity,
      target,
      args,
      execArgv,
      caller: callerModule(),
    });
  }

  /** The process name; settable, as in Python. */
  get name(): string {
    return this.#name;
  }
  set name(value: string) {
    this.#name = String(value);
  }

  /**
   * Whether the process is daemonic.
   *
   * @throws {Error} When set after {@linkcode Process.start}.
   */
  get daemon(): boolean {
    return this.#daemon;
  }
  set daemon(value: boolean) {
    if (!this.#role.initial) {
      throw new Error(`Cannot set daemon of process "${this.#name}" as it has already started`);
    }
    this.#daemon = Boolean(value);
  }

  /** The child's OS process id: `null` before {@linkcode Process.start}. */
  get pid(): number | null {
    return this.#role.pid;
  }

  /** Alias of {@linkcode Process.pid}, as in Python. */
  get ident(): number | null {
    return this.#role.pid;
  }

  /**
   * `null` while running (or not started); then the exit code: `0` success,
   * `1` uncaught error, `n` from `Deno.exit(n)`, `-N` when ended by signal N.
   */
  get exitCode(): number | null {
    return this.#role.exitCode;
  }

  /**
   * The uncaught error that ended the child (name, message and the child's
   * stack), once it has been joined; otherwise `null`.
   */
  get error(): Error | null {
    return this.#role.error;
  }

  /**
   * The code run in the child. The default calls the target with the
   * arguments; override it in a subclass instead of passing a target.
   */
  run(): unknown {
    const target = this.#target;
    if (typeof target === "function") return target(...this.#args);
    return undefined;
  }

  /**
   * Starts the child process. Synchronous like Python's: it returns at once
   * with {@linkcode Process.pid} set, while the child starts.
   *
   * @throws {Error} If already started, if the calling process is daemonic,
   *   if the process was closed, or if this child is still importing its
   *   target's module (a start at the top level of a module without a main
   *   guard, which would start a child from every child).
   * @throws {TypeError} If an argument (or a field of a subclass) cannot
   *   cross to another process; the message names it, e.g. `args[0]`.
   * @throws {RangeError} If the arguments are too large to cross (their
   *   encoding would be a string longer than JavaScript allows, about 512 Mi
   *   characters; binary data takes 4/3 of its size). Any smaller size
   *   crosses.
   */
  start(): void {
    this.#role.start();
  }

  /**
   * Waits for the process to exit. Resolves at once if it already has. With
   * a `timeout`, resolves when it expires even if the process is still
   * running (as in Python, check {@linkcode Process.exitCode} or
   * {@linkcode Process.isAlive} afterwards).
   *
   * Once it resolves for a process that died (killed, or crashed), this
   * process's shared objects have already recovered what the child held:
   * its Semaphore permits are returned and JoinableQueue items it took
   * without `taskDone()` are back at the front of their queue.
   *
   * @throws {Error} If the process was never started.
   * @throws {TypeError} If `timeout` is not a number, or is NaN.
   * @throws {RangeError} If `timeout` is negative.
   */
  async join(options: JoinOptions = {}): Promise<void> {
    checkTimeout(options.timeout, `join process "${this.#name}"`);
    await this.#role.join(options);
  }

  /**
   * Whether the process has started and not yet exited. For the object
   * returned by `parentProcess()`, whether the parent is still running.
   */
  isAlive(): boolean {
    return this.#role.isAlive();
  }

  /**
   * Asks the process to stop with SIGTERM (`exitCode` becomes `-15`).
   * Harmless if it has already exited. Its own children are not terminated
   * (as in Python), but daemonic ones notice and exit.
   */
  terminate(): void {
    this.#role.signal("SIGTERM");
  }

  /** Stops the process with SIGKILL (`exitCode` becomes `-9`). Harmless if it has already exited. */
  kill(): void {
    this.#role.signal("SIGKILL");
  }

  /**
   * Releases the process object. Most methods throw afterwards.
   *
   * @throws {Error} If the process is still running: join or terminate it first.
   */
  close(): void {
    this.#role.close();
  }

  /** For `await using`: terminates the process if it is running and waits for it to exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#role.spawned) return; // not a child of this process, or not started
    if (this.#role.exitCode === null) this.terminate();
    await this.join(); // join() keeps the program alive while waiting, even for a daemon.
  }

  /** A Python-like description, e.g. `<Process name='Process-1' pid=123 stopped exitcode=0>`. */
  toString(): string {
    const { initial, exitCode } = this.#role;
    const state = initial
      ? "initial"
      : exitCode === null
      ? "started"
      : `stopped exitcode=${exitCode}`;
    const daemon = this.#daemon ? " daemon" : "";
    return `<${this.constructor.name} name='${this.#name}' pid=${this.#role.pid} ${state}${daemon}>`;
  }
}
