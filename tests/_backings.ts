/**
 * The backings a contract test runs its cases against: the local one (state
 * in memory shared by processes and threads) and the Redis one (a real
 * `redis-server` started per case, see `_redis_server.ts`; without one on
 * PATH every Redis case fails saying what to install, as the Redis tests do).
 */
import { Lock, RLock, Value } from "../mod.ts";
import {
  connect,
  type ElementOf,
  type LockLike,
  type RLockLike,
  type Typecode,
  type ValueLike,
} from "../redis/mod.ts";
import { startRedis } from "./_redis_server.ts";

/** The primitives of one backing, opened for one case; `await using` frees them. */
export interface Opened extends AsyncDisposable {
  /** A new lock. */
  lock(): Promise<LockLike>;
  /** A new reentrant lock. */
  rlock(): Promise<RLockLike>;
  /** A new value. */
  value<T extends Typecode>(typecode: T, initial?: ElementOf<T>): Promise<ValueLike<T>>;
}

/** A backing: its name in test names, and how to open primitives kept in it. */
export interface Backing {
  readonly name: string;
  open(): Promise<Opened>;
}

/** Lease of the Redis locks: a dead holder's lock frees this long after its death. */
const LEASE_MS = 500;

/** Set in the run that repeats the local cases with files (see {@linkcode alsoWithFiles}). */
const FILES = Deno.env.get("MULTIPROC_SHARED_MEMORY") === "0";

const local: Backing = {
  name: FILES ? "local, files" : "local",
  open() {
    const objects: { close(): void }[] = [];
    const keep = <O extends { close(): void }>(o: O): O => (objects.push(o), o);
    return Promise.resolve({
      // Async, so that what a constructor throws rejects, as the remote opens do.
      lock: async () => await keep(new Lock()),
      rlock: async () => await keep(new RLock()),
      value: async <T extends Typecode>(typecode: T, initial?: ElementOf<T>) =>
        await keep(new Value(typecode, initial)),
      [Symbol.asyncDispose]() {
        for (const o of objects) o.close();
        return Promise.resolve();
      },
    });
  },
};

const redis: Backing = {
  name: "Redis",
  async open() {
    const server = await startRedis();
    const remote = await connect(server.url, { namespace: `c-${crypto.randomUUID().slice(0, 8)}` });
    let n = 0;
    return {
      lock: () => remote.lock(`lock-${++n}`, { leaseMs: LEASE_MS }),
      rlock: () => remote.rlock(`rlock-${++n}`, { leaseMs: LEASE_MS }),
      value: <T extends Typecode>(typecode: T, initial?: ElementOf<T>) =>
        remote.value(`value-${++n}`, typecode, initial),
      async [Symbol.asyncDispose]() {
        await remote.close();
        await server[Symbol.asyncDispose]();
      },
    };
  },
};

/** Every backing, in the order their cases run. */
export const BACKINGS: readonly Backing[] = [local, redis];

/**
 * Registers `fn` once per backing, as `<primitive> contract (<backing>): <name>`.
 *
 * @param primitive E.g. `Lock`.
 * @param name What the case checks, as a sentence.
 * @param fn The case, given the backing's primitives.
 */
export function contract(
  primitive: string,
  name: string,
  fn: (opened: Opened) => Promise<void>,
): void {
  for (const backing of BACKINGS) {
    Deno.test(`${primitive} contract (${backing.name}): ${name}`, async () => {
      await using opened = await backing.open();
      await fn(opened);
    });
  }
}

/**
 * Registers a test that runs the local cases of the test file `url` again
 * in a process where the local backing keeps its state in files
 * (`MULTIPROC_SHARED_MEMORY=0`: a `flock` instead of a futex between
 * processes, positional reads and writes instead of mapped memory), the
 * other mechanism of the same backing. Not registered inside that run.
 *
 * @param url The test file's `import.meta.url`.
 */
export function alsoWithFiles(url: string): void {
  if (FILES) return; // That run itself: no recursion.
  const path = new URL(url).pathname;
  Deno.test(`${path.split("/").pop()}: the local cases pass again with files`, async () => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "test",
        "-A",
        "--sanitize-ops",
        "--sanitize-resources",
        "--filter",
        "(local, files)",
        path,
      ],
      env: { NO_COLOR: "1", MULTIPROC_SHARED_MEMORY: "0" },
      stdin: "null",
    }).output();
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    const summary = text.match(/ok \| (\d+) passed \| 0 failed/);
    if (output.code !== 0 || !summary || Number(summary[1]) < 5) {
      throw new Error(`The run with files failed or ran too few cases:\n${text.slice(-4000)}`);
    }
  });
}
