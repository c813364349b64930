/**
 * `Process.join()`, `terminate()` and `kill()` in the moment Deno leaves
 * between reaping a child and telling so: its wait op has freed the child's
 * resource, but the reaction that marks `ChildProcess.status` settled has not
 * run yet, so `ChildProcess.ref()`/`unref()` throw `BadResource` (seen under
 * load when a timer or another op's reaction runs in that moment). The tests
 * hold that moment open around real children.
 */
import { equal } from "node:assert/strict";
import { Process } from "../mod.ts";
import { noop } from "./fixtures/targets.ts";
import { LONG } from "./_process.ts";

/** A real child as Deno shows it between reaping it and settling its `status`, until `report()`. */
class Unreported {
  #child: Deno.ChildProcess;
  #gone = false;
  #report = Promise.withResolvers<void>();
  /** Resolves once the child has exited and been reaped. */
  readonly reaped: Promise<void>;
  readonly status: Promise<Deno.CommandStatus>;

  constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.reaped = child.status.then(() => {
      this.#gone = true;
    });
    this.status = this.reaped.then(() => this.#report.promise).then(() => child.status);
  }

  /** Ends the moment: `status` settles, and the resource is no longer looked up. */
  report(): void {
    this.#report.resolve();
    this.#gone = false;
  }

  get pid(): number {
    return this.#child.pid;
  }

  get stdin(): WritableStream<Uint8Array> {
    return this.#child.stdin;
  }

  #lookUp(): void {
    if (this.#gone) throw new Deno.errors.BadResource("Bad resource ID");
  }

  kill(signal?: Deno.Signal): void {
    this.#lookUp();
    this.#child.kill(signal);
  }

  ref(): void {
    this.#child.ref();
    this.#lookUp();
  }

  unref(): void {
    this.#child.unref();
    this.#lookUp();
  }
}

/** Runs `fn` with the children spawned meanwhile wrapped as {@linkcode Unreported}. */
async function withUnreported(
  fn: (spawned: Unreported[]) => Promise<void>,
): Promise<void> {
  const spawn = Deno.Command.prototype.spawn;
  const spawned: Unreported[] = [];
  Deno.Command.prototype.spawn = function (this: Deno.Command) {
    const child = new Unreported(spawn.call(this));
    spawned.push(child);
    return child as unknown as Deno.ChildProcess;
  };
  // A daemon child does not keep this program alive while the test waits for its exit.
  const alive = setInterval(() => {}, 1_000);
  try {
    await fn(spawned);
  } finally {
    clearInterval(alive);
    Deno.Command.prototype.spawn = spawn;
    for (const c of spawned) c.report();
  }
}

Deno.test("join() of a child reaped but not yet reported waits for it instead of throwing BadResource, alone or concurrently", async () => {
  await withUnreported(async (spawned) => {
    const p = new Process({ target: noop });
    p.start();
    await spawned[0].reaped;
    const joins = [p.join(), p.join({ timeout: LONG }), p.join()];
    spawned[0].report();
    await Promise.all(joins);
    equal(p.exitCode, 0);
    await p.join();
    p.close();
  });
});

Deno.test("A daemon's join() whose timeout ends while its child is reaped but not yet reported resolves", async () => {
  await withUnreported(async (spawned) => {
    const p = new Process({ target: noop, daemon: true });
    p.start();
    await spawned[0].reaped;
    // Holds the child (ref) and lets it go again (unref) when the timeout ends, both in that moment.
    await p.join({ timeout: 0 });
    equal(p.exitCode, null);
    spawned[0].report();
    await p.join({ timeout: LONG });
    equal(p.exitCode, 0);
  });
});

Deno.test("terminate() and kill() of a child reaped but not yet reported do nothing", async () => {
  await withUnreported(async (spawned) => {
    const p = new Process({ target: noop });
    p.start();
    await spawned[0].reaped;
    p.terminate();
    p.kill();
    spawned[0].report();
    await p.join({ timeout: LONG });
    equal(p.exitCode, 0);
  });
});
