// Copyright the multiproc authors. MIT license.
/** encode() in clone mode (for structured clone between threads). */
import assert from "node:assert/strict";
import { decodeSync, encode } from "./codec.ts";
import { assertNotSerializable, CLONE, cloneTrip, FakeLock, RevivedLock } from "../tests/_codec.ts";

Deno.test("encode() in clone mode keeps natively cloneable values as they are", () => {
  const date = new Date(0);
  const bytes = new Float64Array([1, 2]);
  const sab = new SharedArrayBuffer(4);
  const map = new Map([["d", date]]);
  const value = [date, bytes, sab, map, 1n, undefined, NaN, /x/g];
  const encoded = encode(value, CLONE);
  assert.equal(encoded.c, true);
  const v = encoded.v as unknown[];
  assert.equal(v[0], date);
  assert.equal(v[1], bytes);
  assert.equal(v[2], sab);
  assert.ok(v[3] instanceof Map);
  assert.equal((v[3] as Map<string, Date>).get("d"), date);
  assert.deepEqual(v.slice(4, 7), [1n, undefined, NaN]);
  assert.equal(v[7], value[7]);

  const decoded = cloneTrip(value);
  assert.ok(decoded[2] instanceof SharedArrayBuffer);
  assert.deepEqual(decoded, structuredClone(value));
});

Deno.test("encode() in clone mode replaces handles and passes dest", () => {
  const lock = new FakeLock("t1");
  const encoded = encode({ locks: [lock, lock] }, CLONE);
  assert.deepEqual(encoded.m, ["file:///fake/lock.ts"]);
  assert.deepEqual(lock.dests, ["thread"]);
  const decoded = decodeSync(structuredClone(encoded)) as { locks: RevivedLock[] };
  assert.ok(decoded.locks[0] instanceof RevivedLock);
  assert.equal(decoded.locks[0], decoded.locks[1]);
});

Deno.test("encode() in clone mode preserves shared references and cycles", () => {
  const shared = { n: 1 };
  const node: Record<string, unknown> = { shared, again: shared, map: new Map() };
  node.self = node;
  (node.map as Map<unknown, unknown>).set(node, [shared]);
  const decoded = cloneTrip(node);
  assert.equal(decoded.self, decoded);
  assert.equal(decoded.shared, decoded.again);
  assert.equal((decoded.map as Map<unknown, unknown[]>).get(decoded)![0], decoded.shared);
});

Deno.test("encode() in clone mode keeps custom error names and causes", () => {
  class Custom extends Error {
    override name = "Custom";
  }
  const decoded = cloneTrip(new Custom("c", { cause: new TypeError("t") }));
  assert.equal(decoded.name, "Custom");
  assert.ok(decoded.cause instanceof TypeError);
});

Deno.test("encode() in clone mode rejects what cannot be cloned with its path", () => {
  const prefix = 'Cannot start process "worker-1" as';
  assertNotSerializable(
    [{ a: [() => {}] }],
    `${prefix} args[0].a[0] is not serializable: received function`,
    CLONE,
  );
  assertNotSerializable(
    new Map([["p", Promise.resolve()]]),
    `${prefix} args.get("p") is not serializable: received Promise`,
    CLONE,
  );
  assertNotSerializable(
    [new WeakMap()],
    `${prefix} args[0] is not serializable: received WeakMap`,
    CLONE,
  );
  assertNotSerializable(
    [Symbol()],
    `${prefix} args[0] is not serializable: received symbol`,
    CLONE,
  );
});
