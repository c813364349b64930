/**
 * One contract for every place a Semaphore's state can live: the same cases
 * run against each {@linkcode SemaphoreBacking} (shared memory in this
 * process, the hub of a child process, Redis), and the bounded cases against
 * the backings that have a bound (local and hub).
 */
import { deepStrictEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { reviveHandle } from "../_internal/codec.ts";
import {
  HubSemaphore,
  LocalSemaphore,
  newSemaphoreBacking,
  type SemaphoreBacking,
  semaphoreBackingFrom,
  type SemaphoreHandle,
} from "../_internal/backing/semaphore.ts";
import { RedisSemaphore } from "../redis/_semaphore_backing.ts";
import type { SemaphoreLike } from "../redis/mod.ts";
import { childHub, LONG, redisPlace } from "./_backings.ts";
import { eventually, openLifelongResources } from "./_helpers.ts";

openLifelongResources();

const SEMAPHORE_MODULE = new URL("../sync/semaphore.ts", import.meta.url).href;
const BOUNDED_MODULE = new URL("../sync/bounded_semaphore.ts", import.meta.url).href;
const REMOTE_SEMAPHORE_MODULE = new URL("../redis/semaphore.ts", import.meta.url).href;

const TAKEN = { acquired: true, ownerDied: false };
const REFUSED = { acquired: false, ownerDied: false };

/** The cases, each on a fresh semaphore of 2 permits. */
const CASES: Record<string, (sem: SemaphoreBacking) => Promise<void>> = {
  "counts its own acquires and releases at once": async (sem) => {
    equal(sem.value(), 2);
    deepStrictEqual(await sem.acquire({}), TAKEN);
    equal(sem.value(), 1);
    deepStrictEqual(await sem.acquire({ timeout: 0 }), TAKEN);
    equal(sem.value(), 0);
    sem.release(1);
    equal(sem.value(), 1);
    sem.release(1);
    equal(sem.value(), 2);
  },
  "acquire() resolves not acquired when no permit comes free in time": async (sem) => {
    await sem.acquire({});
    await sem.acquire({});
    deepStrictEqual(await sem.acquire({ timeout: 0 }), REFUSED);
    deepStrictEqual(await sem.acquire({ timeout: 30 }), REFUSED);
    sem.release(2);
    equal(sem.value(), 2);
  },
  "a waiting acquire() is served by release()": async (sem) => {
    await sem.acquire({});
    await sem.acquire({});
    const waiting = sem.acquire({ timeout: LONG });
    sem.release(1);
    deepStrictEqual(await waiting, TAKEN);
    sem.release(2);
    equal(sem.value(), 2);
  },
  "acquire() with an already-aborted signal rejects with its reason": async (sem) => {
    const reason = new Error("stop");
    await rejects(sem.acquire({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
  },
  "its handle revives as an object that sees the same count": async (sem) => {
    const other = reviveHandle(sem.toHandle("process")) as SemaphoreLike & {
      ready?(): Promise<void>;
    };
    await other.ready?.(); // See tests/event_backing_test.ts.
    equal(other.getValue(), 2);
    await sem.acquire({});
    ok(await eventually(() => other.getValue() === 1, LONG), "the revived object missed acquire()");
    other.release();
    ok(await eventually(() => sem.value() === 2, LONG), "the backing missed the other's release()");
  },
};

/** The cases of a bounded semaphore of 2 permits. */
const BOUNDED_CASES: Record<string, (sem: SemaphoreBacking) => Promise<void>> = {
  "release() beyond the bound throws, also right after a release that refilled it": async (sem) => {
    throws(() => sem.release(1), { message: /released too many times/ });
    await sem.acquire({});
    sem.release(1);
    throws(() => sem.release(1), { message: /released too many times/ });
    equal(sem.value(), 2);
  },
};

Deno.test("Every Semaphore backing (local, hub of a child process, Redis) meets the same contract", async (t) => {
  async function runAll(
    place: string,
    cases: typeof CASES,
    make: () => Promise<SemaphoreBacking>,
  ): Promise<void> {
    for (const [name, run] of Object.entries(cases)) {
      await t.step(`${place}: ${name}`, async () => await run(await make()));
    }
  }

  const local = (bounded: boolean) => () => {
    const sem = newSemaphoreBacking(2, bounded, bounded ? BOUNDED_MODULE : SEMAPHORE_MODULE);
    ok(sem instanceof LocalSemaphore, "the main thread's semaphore is not in shared memory");
    return Promise.resolve(sem);
  };
  await runAll("local", CASES, local(false));
  await runAll("local, bounded", BOUNDED_CASES, local(true));

  {
    await using child = childHub();
    const hub = (kind: "semaphore" | "bounded") => async () => {
      const module = kind === "bounded" ? BOUNDED_MODULE : SEMAPHORE_MODULE;
      const sem = semaphoreBackingFrom(await child.create(kind, 2) as SemaphoreHandle, module);
      ok(sem instanceof HubSemaphore);
      return sem;
    };
    await runAll("hub of a child process", CASES, hub("semaphore"));
    await runAll("hub of a child process, bounded", BOUNDED_CASES, hub("bounded"));
  }

  await t.step("redis", async (t) => {
    await using redis = await redisPlace();
    for (const [name, run] of Object.entries(CASES)) {
      await t.step(name, async () => {
        const sem = new RedisSemaphore(
          redis.origin,
          `s-${crypto.randomUUID().slice(0, 8)}`,
          2,
          10_000,
          undefined,
          REMOTE_SEMAPHORE_MODULE,
        );
        await sem.ready();
        await run(sem);
      });
    }
  });
});
