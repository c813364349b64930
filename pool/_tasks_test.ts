import { deepStrictEqual, equal, throws } from "node:assert/strict";
import { checkChunksize, collect, defaultChunksize, END, sourceOf } from "./_tasks.ts";

Deno.test("defaultChunksize() follows Python's map formula", () => {
  // divmod(len, workers * 4), plus one if there is a remainder.
  equal(defaultChunksize(200_000, 2), 25_000);
  equal(defaultChunksize(10, 2), 2);
  equal(defaultChunksize(8, 2), 1);
  equal(defaultChunksize(1, 4), 1);
  equal(defaultChunksize(0, 4), 1);
});

Deno.test("checkChunksize() refuses what is not a positive integer", () => {
  checkChunksize(undefined, "Cannot map");
  checkChunksize(3, "Cannot map");
  throws(() => checkChunksize(0, "Cannot map"), RangeError);
  throws(
    () => checkChunksize(1.5, "Cannot map"),
    /chunksize is not a positive integer: received 1.5/,
  );
});

Deno.test("sourceOf() reads sync iterables without promises and async ones with", async () => {
  const sync = sourceOf([1, 2], "Cannot map");
  equal(sync.next(), 1);
  equal(sync.next(), 2);
  equal(sync.next(), END);
  const asyncSource = sourceOf(
    (async function* () {
      yield 1;
    })(),
    "Cannot map",
  );
  equal(await asyncSource.next(), 1);
  equal(await asyncSource.next(), END);
  throws(() => sourceOf(5 as unknown as number[], "Cannot map"), /input is not iterable/);
  deepStrictEqual(await collect(new Set([3, 4]), "Cannot map"), [3, 4]);
});

Deno.test("sourceOf().close() closes a generator that is not finished", () => {
  let closed = false;
  function* numbers() {
    try {
      yield 1;
      yield 2;
    } finally {
      closed = true;
    }
  }
  const source = sourceOf(numbers(), "Cannot map");
  source.next();
  source.close();
  equal(closed, true);
});
