/**
 * The worker functions and classes that the library's JSDoc examples run in
 * child processes, threads and server runners.
 *
 * A child imports its target by module URL and export name, so a target must
 * be an export of a real module; a JSDoc example is not one (`deno test --doc`
 * keeps it in memory), so the examples name these exports, e.g.
 * `{ module: import.meta.resolve("../examples/workers.ts"), export: "square" }`.
 * In your own program, export the function from your module and pass it
 * (`target: square`).
 *
 * Not a program: nothing runs when it is imported.
 *
 * @module
 */
import {
  BaseRequestHandler,
  type Condition,
  type Connection,
  type Event,
  isMain,
  type Lock,
  parentProcess,
  Process,
  type Queue,
  type RequestConn,
  StreamRequestHandler,
  taskSignal,
  type Value,
} from "../mod.ts";

/**
 * Returns `n * n`, and puts it on `results` when given one (a Process target
 * returns nothing to its parent; a pool task's result is returned).
 */
export function square(n: number, results?: Queue<number>): number | Promise<number> {
  return results ? results.put(n * n).then(() => n * n) : n * n;
}

/** A `Process` subclass whose `run()` puts `n * n` on `results`. */
export class Squarer extends Process {
  /**
   * @param n The number to square.
   * @param results Where the child puts the square.
   */
  constructor(public n: number, public results: Queue<number>) {
    super();
  }

  /** The child's code. */
  override async run(): Promise<void> {
    await this.results.put(this.n * this.n);
  }
}

/** Throws an `Error` with `message`: the target of a child that fails. */
export function fail(message: string): never {
  throw new Error(message);
}

/** Waits until `event` is set. */
export async function waitFor(event: Event): Promise<void> {
  await event.wait();
}

/** Subtracts one from `n` while holding `mutex` (a read-modify-write that needs the lock). */
export async function decrement(n: Value<"i">, mutex: Lock): Promise<void> {
  await using _ = await mutex.hold();
  n.value -= 1;
}

/** Sets `ready` to 1 and wakes every waiter of `cond`, holding its lock. */
export async function notifyReady(cond: Condition, ready: Value<"i">): Promise<void> {
  await cond.acquire();
  ready.value = 1;
  cond.notifyAll();
  cond.release();
}

/** Sends back on `conn` the first object received on it. */
export async function echo(conn: Connection): Promise<void> {
  conn.send(await conn.recv());
}

/** Puts the parent's pid, as the child sees it, on `results`. */
export async function reportParentPid(results: Queue<number>): Promise<void> {
  await results.put(parentProcess()!.pid!);
}

/** Puts what `isMain(import.meta)` says in this module on `results`. */
export async function reportIsMain(results: Queue<boolean>): Promise<void> {
  await results.put(isMain(import.meta));
}

/** A connection handler: sends back in upper case what the client sends, until it closes. */
export async function shout(conn: RequestConn): Promise<void> {
  const buf = new Uint8Array(1024);
  for (let n; (n = await conn.read(buf)) !== null;) {
    await conn.write(
      new TextEncoder().encode(new TextDecoder().decode(buf.subarray(0, n)).toUpperCase()),
    );
  }
}

/** The handler {@linkcode shout} as a `BaseRequestHandler` subclass. */
export class Shout extends BaseRequestHandler {
  /** Serves one connection. */
  override async handle(): Promise<void> {
    await shout(this.request);
  }
}

/** Answers each line in upper case: a `StreamRequestHandler`, reading `rfile` line by line. */
export class ShoutLines extends StreamRequestHandler {
  /** Serves one connection. */
  override async handle(): Promise<void> {
    const decoder = new TextDecoder();
    for await (const line of this.rfile) await this.wfile.write(decoder.decode(line).toUpperCase());
  }
}

/** A pool task that runs until its task signal aborts, then returns `"stopped"`. */
export async function untilCancelled(): Promise<string> {
  const signal = taskSignal();
  await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
  return "stopped";
}
