/**
 * The role of a `Thread` that this thread starts: its worker, from starting
 * it to its goodbye, with the errors it reports sent to the except hook.
 *
 * @module
 */

import { errorFromData } from "../_internal/codec.ts";
import { processIdentity, processShared } from "../_internal/context.ts";
import { ownHub } from "../_internal/hub_client.ts";
import { lapseLoans, type Loan, sendingLoans } from "../_internal/loans.ts";
import { startThread, type ThreadHandle } from "../_internal/runtime.ts";
import { prepareStart } from "../_internal/start.ts";
import type { TargetRef, TargetSpec } from "../_internal/target.ts";
import { waitAtMost, type WaitOptions } from "../_internal/wait.ts";
import { callExcepthook, type ExceptHookArgs } from "./excepthook.ts";
import type { ThreadIdentity, ThreadReport, ThreadStart } from "./_revive.ts";
import type { ThreadRole } from "./_role.ts";

const BOOTSTRAP = new URL("./_bootstrap.ts", import.meta.url).href;

/** A `Thread` object, as the except hook sees it. */
type ThreadObject = NonNullable<ExceptHookArgs["thread"]>;

/** What a thread is started from: the `Thread` object and what it was created with. */
export interface ChildSpec<T extends ThreadObject> {
  /** The `Thread` object (its own fields travel to the thread; the except hook gets it). */
  thread: T;
  /** The `Thread` class, to tell a subclass. */
  base: abstract new (...args: never[]) => unknown;
  /** The threads started from this thread and not finished: this one is in it while it runs. */
  running: Set<T>;
  /** The thread's name, which may change until it starts. */
  name: () => string;
  /** Whether it is a daemon thread, which may change until it starts. */
  daemon: () => boolean;
  target: TargetSpec | undefined;
  args: readonly unknown[];
  /** The module that created the `Thread`, where its target is looked for. */
  caller: string | undefined;
}

/** A thread started from this one: its lifecycle, `initial` → `started` → `finished`. */
export class ChildRole<T extends ThreadObject> implements ThreadRole {
  #spec: ChildSpec<T>;
  #state: "initial" | "started" | "finished" = "initial";
  #ident: number | null = null;
  #handle: ThreadHandle | undefined;
  #finished: Promise<void> | undefined;
  #finish: (() => void) | undefined;
  /** The copies of pipe ends its start message lent it (see `_internal/loans.ts`). */
  #loans: Loan[] = [];

  /** @param spec The `Thread` object and what it was created with. */
  constructor(spec: ChildSpec<T>) {
    this.#spec = spec;
  }

  get ident(): number | null {
    return this.#ident;
  }

  get initial(): boolean {
    return this.#state === "initial";
  }

  get spawned(): boolean {
    return this.#finished !== undefined;
  }

  start(): void {
    const spec = this.#spec;
    const name = spec.name();
    if (this.#state !== "initial") {
      throw new Error(`Cannot start thread "${name}": threads can only be started once`);
    }
    const { cls: clsRef, fn: fnRef, payload, loans } = prepareStart(
      spec.thread,
      spec.base,
      "thread",
      name,
      spec.target,
      spec.args,
      spec.caller,
      "thread",
    );
    // Threads reach the process's hub through its socket, if the process has one; a thread that
    // creates shared objects without one starts its own.
    if (processShared().hub) ownHub().ensureListening();
    const shared = processShared();
    const daemon = spec.daemon();
    const identity: ThreadIdentity = { name, ident: nextIdent(), daemon };
    // Daemon threads run on unref'd workers (see runtime.ts): like Python's, they do not keep the
    // program alive and end with it, so no bookkeeping is needed here.
    // No thread: the copies of pipe ends its arguments lent go back, as if never lent.
    const handle = sendingLoans(loans, () => startThread(BOOTSTRAP, name, daemon));
    this.#handle = handle;
    this.#ident = identity.ident;
    this.#state = "started";
    spec.running.add(spec.thread);
    this.#finished = new Promise((resolve) => (this.#finish = resolve));
    // Copies of pipe ends it never adopted (it failed to start) lapse once it is done.
    this.#loans = loans;
    handle.onMessage((message) => this.#report(message as ThreadReport));
    handle.onError((error) => {
      callExcepthook({ excType: "Error", excValue: new Error(error.message), thread: spec.thread });
      this.#done();
    });
    const send = (cls: TargetRef | undefined, fn: TargetRef | undefined) => {
      const start: ThreadStart = { identity, process: processIdentity(), shared, cls, fn, payload };
      handle.postMessage(start);
    };
    if (!(clsRef instanceof Promise) && !(fnRef instanceof Promise)) {
      send(clsRef, fnRef);
    } else {
      // A remote (http) module had to be fetched to find the target.
      Promise.all([clsRef, fnRef]).then(([c, f]) => send(c, f), (error) => {
        callExcepthook({ excType: error.name, excValue: error, thread: spec.thread });
        this.#done();
      });
    }
  }

  async join({ timeout, signal }: WaitOptions): Promise<void> {
    if (this.#state === "initial" || !this.#finished) {
      throw new Error(`Cannot join thread "${this.#spec.name()}" before it is started`);
    }
    signal?.throwIfAborted();
    if (this.#state === "finished") return;
    await waitAtMost(this.#finished, timeout, signal);
  }

  isAlive(): boolean {
    return this.#state === "started";
  }

  #report(message: ThreadReport): void {
    if (message.t === "error") {
      const error = errorFromData(message.error);
      callExcepthook({ excType: error.name, excValue: error, thread: this.#spec.thread });
    } else if (message.t === "done") {
      this.#done();
    }
  }

  /** The thread has said goodbye (or failed to start): its worker is stopped. */
  #done(): void {
    if (this.#state === "finished") return;
    this.#state = "finished";
    this.#handle?.terminate();
    // After its goodbye, its hubs have handled what it sent: an adopted copy is not touched.
    lapseLoans(this.#loans);
    this.#spec.running.delete(this.#spec.thread);
    this.#finish?.();
  }
}

/** A new thread number, unique within this process (counted in memory all its threads share). */
function nextIdent(): number {
  return Atomics.add(new Int32Array(processShared().counters), 1, 1) + 1;
}
