/**
 * The places a primitive's state can live, for the backing contract tests:
 * this process's shared memory, the hub of a child process, and Redis (a real
 * redis-server started for the test, as tests/redis_test.ts does: when it is
 * missing, the Redis cases fail saying what to install).
 */
import { equal, ok } from "node:assert/strict";
import { type Event, Lock, Process, Queue, RLock, Thread, Value } from "../mod.ts";
import {
  connect,
  type ElementOf,
  type LockLike,
  type Remote,
  type RLockLike,
  type Typecode,
  type ValueLike,
} from "../redis/mod.ts";
import { startRedis } from "./_redis_server.ts";
import { eventually } from "./_helpers.ts";
import { createOnRequest } from "./fixtures/backing_targets.ts";
import { hold } from "./fixtures/sync_targets.ts";

/** Bound of every wait that must succeed: never reached by a passing test. */
export const LONG = 30_000;

/** A child process whose hub holds the objects it is asked to create. */
export interface ChildHub extends AsyncDisposable {
  /** Creates an object of `kind` in the child and returns its handle data. */
  create(kind: "event" | "semaphore" | "bounded", value?: number): Promise<Record<string, unknown>>;
}

/** Starts a child that creates objects on request, in its own hub; stopped by `await using`. */
export function childHub(): ChildHub {
  const requests = new Queue<string | null>();
  const replies = new Queue<string>();
  const p = new Process({ target: createOnRequest, args: [requests, replies] });
  p.start();
  return {
    async create(kind, value) {
      await requests.put(JSON.stringify([kind, value]));
      return JSON.parse(await replies.get({ timeout: LONG }));
    },
    async [Symbol.asyncDispose]() {
      await requests.put(null);
      await p.join({ timeout: LONG });
      await p[Symbol.asyncDispose]();
      if (p.exitCode !== 0) {
        throw new Error(`The child hub exited with ${p.exitCode}`, { cause: p.error });
      }
    },
  };
}

/** A redis-server and a connection to a fresh namespace on it; stopped by `await using`. */
export interface RedisPlace extends AsyncDisposable {
  readonly origin: { url: string; namespace: string };
  readonly remote: Remote;
}

/** Starts a redis-server (throws saying what to install if there is none). */
export async function redisPlace(): Promise<RedisPlace> {
  const server = await startRedis();
  const origin = { url: server.url, namespace: `t-${crypto.randomUUID().slice(0, 8)}` };
  const remote = await connect(origin.url, { namespace: origin.namespace });
  return {
    origin,
    remote,
    async [Symbol.asyncDispose]() {
      await remote.close();
      await server[Symbol.asyncDispose]();
    },
  };
}

// ---- The places of a Lock, an RLock and a Value, opened through their public classes ----

/** Opens new locks and values in one place (for the lock and value contracts). */
export interface Opener {
  /** A new lock. */
  lock(): Promise<LockLike>;
  /** A new reentrant lock. */
  rlock(): Promise<RLockLike>;
  /** A new value; what its constructor throws rejects. */
  value<T extends Typecode>(typecode: T, initial?: ElementOf<T>): Promise<ValueLike<T>>;
}

/** Lease of the Redis locks: a dead holder's lock frees this long after its death. */
const LEASE_MS = 500;

/** Set in the run that repeats a contract with files (see {@linkcode alsoWithFiles}). */
const FILES = Deno.env.get("MULTIPROC_SHARED_MEMORY") === "0";

/**
 * Runs each case as a step against every place a Lock, RLock or Value can
 * live: this process's shared memory (the other holders in child processes
 * and threads; with `MULTIPROC_SHARED_MEMORY=0`, files), and Redis.
 *
 * @param t The test's context.
 * @param cases The cases, each given an opener of the place.
 */
export async function eachPlace(
  t: Deno.TestContext,
  cases: Record<string, (open: Opener) => Promise<void>>,
): Promise<void> {
  await t.step(FILES ? "local, files" : "local", async (t) => {
    for (const [name, run] of Object.entries(cases)) {
      await t.step(name, async () => {
        const objects: { close(): void }[] = [];
        const keep = <O extends { close(): void }>(o: O): O => (objects.push(o), o);
        try {
          // Async, so that what a constructor throws rejects, as the remote opens do.
          await run({
            lock: async () => await keep(new Lock()),
            rlock: async () => await keep(new RLock()),
            value: async (typecode, initial) => await keep(new Value(typecode, initial)),
          });
        } finally {
          for (const o of objects) o.close();
        }
      });
    }
  });
  await t.step("redis", async (t) => {
    await using redis = await redisPlace();
    let n = 0;
    for (const [name, run] of Object.entries(cases)) {
      await t.step(name, async () => {
        await run({
          lock: () => redis.remote.lock(`lock-${++n}`, { leaseMs: LEASE_MS }),
          rlock: () => redis.remote.rlock(`rlock-${++n}`, { leaseMs: LEASE_MS }),
          value: (typecode, initial) => redis.remote.value(`value-${++n}`, typecode, initial),
        });
      });
    }
  });
}

/**
 * Registers a test that runs the test named `name` of the file `url` again
 * in a process where local state lives in files (`MULTIPROC_SHARED_MEMORY=0`:
 * a `flock` instead of a futex between processes, positional reads and
 * writes instead of mapped memory), the other mechanism of the local
 * backing. Not registered inside that run.
 *
 * @param url The test file's `import.meta.url`.
 * @param name The name of its contract test.
 */
export function alsoWithFiles(url: string, name: string): void {
  if (FILES) return; // That run itself: no recursion.
  Deno.test(`${name}, again with files (MULTIPROC_SHARED_MEMORY=0)`, async () => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "test",
        "-A",
        "--sanitize-ops",
        "--sanitize-resources",
        "--filter",
        name,
        new URL(url).pathname,
      ],
      env: { NO_COLOR: "1", MULTIPROC_SHARED_MEMORY: "0" },
      stdin: "null",
    }).output();
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    const summary = text.match(/ok \| 1 passed \((\d+) steps\) \| 0 failed/);
    if (output.code !== 0 || !summary || !text.includes("local, files ... ok")) {
      throw new Error(`The run with files failed:\n${text.slice(-4000)}`);
    }
  });
}

/** Starts a child process or thread running `hold(lock, acquired, release, times)` (sync_targets). */
export function holder(
  kind: "process" | "thread",
  lock: LockLike,
  acquired: Event,
  release: Event | null,
  times = 1,
): Process | Thread {
  const options = { target: hold, args: [lock, acquired, release, times] };
  const child = kind === "process" ? new Process(options) : new Thread(options);
  child.start();
  return child;
}

/** Joins a child (bounded) that must have returned normally (a thread: that must have ended). */
export async function joinOk(child: Process | Thread): Promise<void> {
  await child.join({ timeout: LONG });
  if (child instanceof Process) {
    equal(child.exitCode, 0, child.error?.stack ?? `${child} did not exit with 0`);
  } else {
    equal(child.isAlive(), false, `${child} did not end`);
  }
}

/**
 * Checks that `locked()` sees a holder elsewhere. A remote lock's `locked()`
 * is a snapshot kept current by the server's notifications, so it must come
 * true, not be true at once.
 */
export async function seesHolder(lock: LockLike): Promise<void> {
  ok(await eventually(() => lock.locked(), LONG), "locked() never saw the other holder");
}

/** Sets `release` when disposed: a failing case does not leave a child holding on for a minute. */
export function releasedAtEnd(release: Event): Disposable {
  return { [Symbol.dispose]: () => release.set() };
}
