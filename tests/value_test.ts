/** Value and SharedArray across real child processes (and within one process where relevant). */
import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { Barrier, RLock, SharedArray, Value } from "../mod.ts";
import { openLifelongResources } from "./_helpers.ts";
import {
  addMany,
  arrayAddMany,
  casIncrement,
  incrementWithGetLock,
  reportGetLockThrows,
  writeShared,
} from "./fixtures/sync_targets.ts";
import { child, children, joinOk } from "./_sync.ts";

openLifelongResources();

// ---------------------------------------------------------------------------
// Value and SharedArray

Deno.test(
  "Value and SharedArray written in a child are read synchronously by the parent",
  async () => {
    using i = new Value("i", 0);
    using d = new Value("d", 0);
    using q = new Value("q", 0n);
    using arr = new SharedArray("d", 4);
    await using p = child(writeShared, i, d, q, arr);
    await joinOk(p);
    equal(i.value, -123_456);
    equal(d.value, Math.PI);
    equal(q.value, 2n ** 62n + 1n);
    deepStrictEqual(arr.toArray(), [0.5, 42, 0, -1.25]);
    equal(arr[0], 0.5);
    equal(arr[3], -1.25);
  },
);

Deno.test("Value typecodes: i wraps as int32, d keeps doubles, q and Q hold 64-bit bigints", () => {
  using i = new Value("i");
  equal(i.typecode, "i");
  equal(i.value, 0);
  i.value = 2 ** 31;
  equal(i.value, -(2 ** 31));
  using d = new Value("d", 0.1);
  equal(d.value, 0.1);
  using q = new Value("q", 2n ** 63n - 1n);
  equal(q.value, 2n ** 63n - 1n);
  equal(q.add(1n), 2n ** 63n - 1n);
  equal(q.value, -(2n ** 63n));
  using big = new Value("Q", 2n ** 64n - 1n);
  equal(big.value, 2n ** 64n - 1n);
  equal(new Value("q").value, 0n);
  equal(new Value("q", 5 as unknown as bigint).value, 5n, "an integer number fits a q");
  throws(() => new Value("i", 1n as unknown as number), TypeError);
  throws(() => new Value("q", 1.5 as unknown as bigint), TypeError);
  throws(() => (d.value = "1" as unknown as number), TypeError);
});

Deno.test("Value.add(1) 500 times in each of 4 processes ends at exactly 2000", async () => {
  using value = new Value("i", 0, { lock: false });
  await using kids = children(4, () => [addMany, value, 500]);
  await joinOk(...kids);
  equal(value.value, 2000);
});

Deno.test(
  "SharedArray.add() from 4 processes on one element ends exact and leaves the others alone",
  async () => {
    using arr = new SharedArray("i", [7, 0, 9]);
    await using kids = children(4, () => [arrayAddMany, arr, 1, 250]);
    await joinOk(...kids);
    deepStrictEqual(arr.toArray(), [7, 1000, 9]);
  },
);

Deno.test(
  "Value.compareExchange() swaps only on a match, and 4 processes' CAS loops end exact",
  async () => {
    using local = new Value("i", 5);
    equal(local.compareExchange(5, 7), 5);
    equal(local.value, 7);
    equal(local.compareExchange(5, 9), 7);
    equal(local.value, 7);
    using arr = new SharedArray("q", [1n, 2n]);
    equal(arr.compareExchange(1, 2n, 3n), 2n);
    deepStrictEqual(arr.toArray(), [1n, 3n]);

    using value = new Value("i", 0);
    await using kids = children(4, () => [casIncrement, value, 250]);
    await joinOk(...kids);
    equal(value.value, 1000);
  },
);

Deno.test(
  "Value.getLock() guards a read-modify-write from 4 processes so it ends exact",
  async () => {
    using value = new Value("i", 0);
    ok(value.getLock() instanceof RLock);
    const start = new Barrier(4);
    await using kids = children(4, () => [incrementWithGetLock, value, 200, start]);
    await joinOk(...kids);
    equal(value.value, 800);
    equal(value.getLock().locked(), false);
  },
);

Deno.test(
  "Value and SharedArray created with { lock: false } have no getLock(), also in a child",
  async () => {
    using raw = new Value("i", 1, { lock: false });
    throws(() => raw.getLock(), {
      message: "Cannot get the lock of a value created with { lock: false }",
    });
    using rawArray = new SharedArray("i", 2, { lock: false });
    throws(() => rawArray.getLock(), {
      message: "Cannot get the lock of a shared array created with { lock: false }",
    });
    using out = new Value("i", -1);
    await using p = child(reportGetLockThrows, raw, out);
    await joinOk(p);
    equal(out.value, 1);
    using locked = new Value("i", 1);
    await using q = child(reportGetLockThrows, locked, out);
    await joinOk(q);
    equal(out.value, 0);
  },
);

Deno.test(
  "SharedArray supports arr[i], length and iteration, and throws RangeError out of range",
  () => {
    using arr = new SharedArray("i", 3);
    equal(arr.length, 3);
    deepStrictEqual([...arr], [0, 0, 0]);
    arr[1] = 5;
    arr.set(2, -1);
    equal(arr[1], 5);
    equal(arr.get(2), -1);
    deepStrictEqual(arr.toArray(), [0, 5, -1]);
    equal(arr.typecode, "i");
    for (const bad of [3, -1, 1.5, NaN]) {
      throws(() => arr.get(bad), RangeError, `get(${bad})`);
      throws(() => arr.set(bad, 1), RangeError, `set(${bad})`);
      throws(() => arr.add(bad, 1), RangeError, `add(${bad})`);
    }
    throws(() => arr.get(3), {
      message: "Cannot access shared array index 3: valid indexes are 0 to 2",
    });
    deepStrictEqual(new SharedArray("d", [1.5, 2.5]).toArray(), [1.5, 2.5]);
    equal(new SharedArray("i", 0).length, 0);
  },
);

Deno.test(
  "Value and SharedArray reject an unknown typecode with TypeError and a bad length with RangeError",
  () => {
    throws(() => new Value("x" as "i", 1), {
      name: "TypeError",
      message:
        /^Cannot create value as typecode "x" is not one of b, B, h, H, i, I, l, L, q, Q, f, d$/,
    });
    throws(() => new SharedArray("z" as "i", 3), { name: "TypeError", message: /typecode "z"/ });
    throws(() => new SharedArray("i", -1), RangeError);
    throws(() => new SharedArray("i", 1.5), RangeError);
    throws(() => new SharedArray("i", [1, 2n as unknown as number]), TypeError);
  },
);
