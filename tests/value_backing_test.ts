/**
 * One contract for every place a Value's state can live (each `ValueBacking`
 * of `_internal/backing/value.ts`): the same cases, through the public
 * classes, against this process's shared memory written by real child
 * processes and threads (again with files: `MULTIPROC_SHARED_MEMORY=0`), and
 * against Redis written by the same children.
 */
import { equal, ok, rejects, throws } from "node:assert/strict";
import { Process, SharedArray, Thread } from "../mod.ts";
import { alsoWithFiles, eachPlace, LONG, type Opener } from "./_backings.ts";
import { eventually, openLifelongResources } from "./_helpers.ts";
import { addEach, casEach, store, tryValueLock } from "./fixtures/value_targets.ts";

openLifelongResources();

/** Runs `target(...args)` in a child process, which must return normally. */
async function inProcess(target: (...args: never[]) => unknown, ...args: unknown[]): Promise<void> {
  await using p = new Process({ target, args });
  p.start();
  await p.join({ timeout: LONG });
  equal(p.exitCode, 0, p.error?.stack ?? `${p} did not exit with 0`);
}

/** The cases, each on new values of the place. */
const CASES: Record<string, (open: Opener) => Promise<void>> = {
  "typecodes: integers wrap around, 64-bit codes hold bigints, floats stay": async (open) => {
    const i = await open.value("i", 5);
    equal(i.typecode, "i");
    equal(i.value, 5);
    i.value = 2 ** 31;
    equal(i.value, -(2 ** 31));
    const q = await open.value("q", 2n ** 63n - 1n);
    equal(q.value, 2n ** 63n - 1n);
    equal(await q.add(1n), 2n ** 63n - 1n);
    equal(q.value, -(2n ** 63n));
    q.value = 7 as unknown as bigint; // an integer number fits a bigint code
    equal(q.value, 7n);
    const d = await open.value("d", 0.1);
    equal(d.value, 0.1);
    const zero = await open.value("B");
    equal(zero.value, 0);
  },
  "wrong numbers throw TypeError, an unknown typecode too": async (open) => {
    const i = await open.value("i", 1);
    throws(() => (i.value = 1.5), {
      name: "TypeError",
      message: /^Cannot store 1\.5 in .* of typecode "i" as it holds integers/,
    });
    throws(() => (i.value = "2" as unknown as number), {
      name: "TypeError",
      message: /^Cannot store string in .* of typecode "i": expected a number$/,
    });
    equal(i.value, 1, "a refused number was stored");
    await rejects(open.value("i", 0.5), TypeError);
    await rejects(open.value("x" as "i", 1), {
      name: "TypeError",
      message: /as typecode "x" is not one of b, B, h, H, i, I, l, L, q, Q, f, d$/,
    });
  },
  "add() and compareExchange() answer the number before": async (open) => {
    const v = await open.value("i", 5);
    equal(await v.add(2), 5);
    equal(v.value, 7);
    equal(await v.compareExchange(7, 1), 7);
    equal(v.value, 1);
    equal(await v.compareExchange(7, 3), 1, "swapped without a match");
    equal(v.value, 1);
  },
  "add() from 3 processes and a thread at once ends exact": async (open) => {
    const v = await open.value("i", 0);
    await using t = new Thread({ target: addEach, args: [v, 50] });
    t.start();
    await Promise.all([1, 2, 3].map(() => inProcess(addEach, v, 50)));
    await t.join({ timeout: LONG });
    equal(t.isAlive(), false);
    ok(await eventually(() => v.value === 200, LONG), `ended at ${v.value}, not 200`);
    equal(await v.add(0), 200);
  },
  "compareExchange() loops from 3 processes at once end exact": async (open) => {
    const v = await open.value("i", 0);
    await Promise.all([1, 2, 3].map(() => inProcess(casEach, v, 40)));
    equal(await v.add(0), 120);
  },
  "a number written in a child process is read here": async (open) => {
    const v = await open.value("d", 0);
    await inProcess(store, v, Math.PI);
    ok(await eventually(() => v.value === Math.PI, LONG), `read ${v.value}`);
  },
  "getLock() is a reentrant lock that excludes another process": async (open) => {
    const v = await open.value("i", 0);
    const lock = v.getLock();
    equal(await lock.acquire(), true);
    equal(await lock.acquire({ timeout: 0 }), true, "reentrant");
    ok(lock.isOwned());
    using out = new SharedArray("i", [-1]);
    await inProcess(tryValueLock, v, 0, out);
    equal(out[0], 0, "another process took the lock this one holds");
    lock.release();
    lock.release();
    await inProcess(tryValueLock, v, LONG, out);
    equal(out[0], 1);
  },
};

const NAME = "Every Value backing (local, Redis) meets the same contract";

Deno.test(NAME, async (t) => await eachPlace(t, CASES));

alsoWithFiles(import.meta.url, NAME);
