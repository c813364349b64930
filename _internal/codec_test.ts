// Copyright the multiproc authors. MIT license.
/** encode() and decode(): the values that round-trip, shared references and cycles. */
import assert from "node:assert/strict";
import { decodeSync, deserializeSync, encode, serialize } from "./codec.ts";
import { cloneTrip, jsonTrip, OPTIONS } from "../tests/_codec.ts";

Deno.test("encode() leaves JSON-native values unwrapped", () => {
  for (const value of ["a", "", 0, 1.5, -3, true, false, null]) {
    assert.deepEqual(encode(value, OPTIONS), { v: value });
  }
  const tree = { a: [1, "b", { c: null, d: [true] }], e: {} };
  assert.deepEqual(encode(tree, OPTIONS), { v: tree });
  assert.notEqual(encode(tree, OPTIONS).v, tree);
});

Deno.test("encode() round-trips undefined, NaN, infinities and -0", () => {
  const values = [undefined, NaN, Infinity, -Infinity, -0];
  const decoded = jsonTrip(values);
  assert.equal(decoded.length, 5);
  for (let i = 0; i < values.length; i++) assert.ok(Object.is(decoded[i], values[i]));
  assert.ok(Object.is(jsonTrip(-0), -0));
  assert.equal(jsonTrip(undefined), undefined);
  assert.deepEqual(encode(NaN, OPTIONS).v, { $t: "n", v: "NaN" });
  assert.deepEqual(encode(undefined, OPTIONS).v, { $t: "u" });
});

Deno.test("encode() keeps undefined object properties and turns array holes into undefined", () => {
  const decoded = jsonTrip({ a: undefined, b: [1, , 3] });
  assert.ok(Object.hasOwn(decoded, "a"));
  assert.deepEqual(decoded, { a: undefined, b: [1, undefined, 3] });
  assert.ok(Object.hasOwn(decoded.b, 1));
});

Deno.test("encode() round-trips bigints", () => {
  const values = [0n, -1n, 2n ** 100n];
  assert.deepEqual(jsonTrip(values), values);
  assert.deepEqual(encode(-1n, OPTIONS).v, { $t: "bi", v: "-1" });
});

Deno.test("encode() round-trips dates, including an invalid date", () => {
  const date = new Date(Date.UTC(2024, 1, 29, 12, 30));
  const decoded = jsonTrip(date);
  assert.ok(decoded instanceof Date);
  assert.equal(decoded.getTime(), date.getTime());
  assert.ok(Number.isNaN(jsonTrip(new Date(NaN)).getTime()));
});

Deno.test("encode() round-trips a RegExp with its flags", () => {
  const decoded = jsonTrip(/a+\/b/giu);
  assert.ok(decoded instanceof RegExp);
  assert.equal(decoded.source, "a+\\/b");
  assert.equal(decoded.flags, "giu");
});

Deno.test("encode() round-trips a Map with object keys", () => {
  const key = { id: 1 };
  const map = new Map<unknown, unknown>([[key, "object"], ["s", [1, 2]], [NaN, undefined]]);
  const decoded = jsonTrip({ map, key });
  assert.ok(decoded.map instanceof Map);
  assert.deepEqual([...decoded.map.keys()], [{ id: 1 }, "s", NaN]);
  assert.equal(decoded.map.get(decoded.key), "object");
  assert.deepEqual(decoded.map.get("s"), [1, 2]);
  assert.ok(decoded.map.has(NaN));
});

Deno.test("encode() round-trips a Set in insertion order", () => {
  const decoded = jsonTrip(new Set([3, "a", { b: 1 }, undefined]));
  assert.ok(decoded instanceof Set);
  assert.deepEqual([...decoded], [3, "a", { b: 1 }, undefined]);
});

Deno.test("encode() round-trips ArrayBuffers, including resizable ones", () => {
  const buffer = new Uint8Array([0, 1, 254, 255]).buffer;
  const decoded = jsonTrip(buffer);
  assert.ok(decoded instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(decoded)], [0, 1, 254, 255]);

  const resizable = new ArrayBuffer(2, { maxByteLength: 8 });
  new Uint8Array(resizable).set([7, 8]);
  const revived = jsonTrip(resizable);
  assert.ok(revived.resizable);
  assert.equal(revived.maxByteLength, 8);
  assert.deepEqual([...new Uint8Array(revived)], [7, 8]);
});

Deno.test("encode() round-trips every typed array kind and DataView", () => {
  const views: ArrayBufferView[] = [
    new Int8Array([-1, 2]),
    new Uint8Array([1, 255]),
    new Uint8ClampedArray([0, 255]),
    new Int16Array([-300, 300]),
    new Uint16Array([65535]),
    new Int32Array([-(2 ** 31)]),
    new Uint32Array([2 ** 32 - 1]),
    new Float32Array([1.5, -0]),
    new Float64Array([Math.PI, NaN]),
    new BigInt64Array([-(2n ** 63n)]),
    new BigUint64Array([2n ** 64n - 1n]),
    new DataView(new Uint8Array([9, 8, 7]).buffer),
  ];
  if (typeof Float16Array === "function") views.push(new Float16Array([0.5]));
  const decoded = jsonTrip(views);
  for (let i = 0; i < views.length; i++) {
    assert.equal(decoded[i].constructor, views[i].constructor);
    assert.deepEqual(
      new Uint8Array(decoded[i].buffer, decoded[i].byteOffset, decoded[i].byteLength),
      new Uint8Array(views[i].buffer, views[i].byteOffset, views[i].byteLength),
    );
  }
});

Deno.test("encode() encodes exactly the bytes of a view with a byteOffset", () => {
  const buffer = new ArrayBuffer(16);
  new Uint8Array(buffer).forEach((_, i, a) => (a[i] = i));
  const view = new Uint16Array(buffer, 4, 3);
  const encoded = encode(view, OPTIONS).v as { c: string; v: string };
  assert.equal(encoded.c, "Uint16Array");
  assert.deepEqual([...atob(encoded.v)].map((c) => c.charCodeAt(0)), [4, 5, 6, 7, 8, 9]);
  const decoded = jsonTrip(view);
  assert.equal(decoded.byteOffset, 0);
  assert.equal(decoded.buffer.byteLength, 6);
  assert.deepEqual([...decoded], [...view]);

  const dataView = jsonTrip(new DataView(buffer, 10, 2));
  assert.deepEqual([dataView.getUint8(0), dataView.getUint8(1)], [10, 11]);
});

Deno.test("encode() names a typed array subclass by its built-in kind", () => {
  class Bytes extends Uint8Array {}
  assert.equal((encode(new Bytes(2), OPTIONS).v as { c: string }).c, "Uint8Array");
  assert.equal(jsonTrip(new Bytes(2)).constructor, Uint8Array);
});

Deno.test("encode() round-trips boxed primitives", () => {
  const values = [Object(1), Object("s"), Object(false), Object(5n), Object(NaN)];
  const decoded = jsonTrip(values);
  assert.ok(decoded[0] instanceof Number);
  assert.ok(decoded[1] instanceof String);
  assert.ok(decoded[2] instanceof Boolean);
  assert.equal(typeof decoded[3], "object");
  assert.deepEqual(decoded.map((v) => v.valueOf()), [1, "s", false, 5n, NaN]);
});

Deno.test("encode() round-trips an error's name, message, stack and cause", () => {
  const error = new Error("outer", { cause: new RangeError("inner") });
  const decoded = jsonTrip(error);
  assert.ok(decoded instanceof Error);
  assert.equal(decoded.name, "Error");
  assert.equal(decoded.message, "outer");
  assert.equal(decoded.stack, error.stack);
  assert.ok(decoded.cause instanceof RangeError);
  assert.equal((decoded.cause as Error).message, "inner");
  assert.equal((decoded.cause as Error).stack, (error.cause as Error).stack);
  assert.ok(!Object.hasOwn(jsonTrip(new Error("no cause")), "cause"));
  assert.ok(Object.hasOwn(jsonTrip(new Error("undefined cause", { cause: undefined })), "cause"));
});

Deno.test("encode() brings a TypeError back as a TypeError", () => {
  const decoded = jsonTrip(new TypeError("bad"));
  assert.ok(decoded instanceof TypeError);
  assert.equal(decoded.message, "bad");
});

Deno.test("encode() keeps a custom error's name and primitive properties", () => {
  class NotFound extends Error {
    override name = "NotFound";
    code = "ENOENT";
    errno = -2;
    handle = () => {};
  }
  const decoded = jsonTrip(new NotFound("missing")) as unknown as Record<string, unknown>;
  assert.ok(decoded instanceof Error);
  assert.equal(decoded.name, "NotFound");
  assert.equal(decoded.code, "ENOENT");
  assert.equal(decoded.errno, -2);
  assert.ok(!("handle" in decoded));
  assert.match(decoded.stack as string, /^NotFound: missing\n/);
});

Deno.test("encode() round-trips an AggregateError with its errors", () => {
  const decoded = jsonTrip(new AggregateError([new TypeError("a"), "b"], "all"));
  assert.ok(decoded instanceof AggregateError);
  assert.equal(decoded.message, "all");
  assert.ok(decoded.errors[0] instanceof TypeError);
  assert.equal(decoded.errors[1], "b");
});

Deno.test("encode() turns null-prototype objects into plain objects", () => {
  const value = Object.assign(Object.create(null), { a: 1 });
  assert.deepEqual(jsonTrip(value), { a: 1 });
});

Deno.test("encode() escapes plain objects with a $t key", () => {
  const value = { $t: "u", v: 1, nested: { $t: "ref", i: 0 } };
  const encoded = encode(value, OPTIONS).v as { $t: string; v: Record<string, unknown> };
  assert.equal(encoded.$t, "o");
  assert.deepEqual(encoded.v.nested, { $t: "o", v: { $t: "ref", i: 0 } });
  assert.deepEqual(jsonTrip(value), value);
  assert.deepEqual(cloneTrip(value), value);
});

Deno.test("encode() keeps a __proto__ key as an own property", () => {
  const value = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}');
  for (const decoded of [jsonTrip(value), cloneTrip(value)]) {
    assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
    assert.ok(Object.hasOwn(decoded, "__proto__"));
    assert.deepEqual(decoded.__proto__, { polluted: true });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  }
});

Deno.test("encode() preserves shared references", () => {
  const shared = { n: 1 };
  const date = new Date(0);
  const decoded = jsonTrip({ a: shared, b: [shared, date], c: new Map([[shared, date]]) });
  assert.equal(decoded.a, decoded.b[0]);
  assert.equal(decoded.b[1], decoded.c.get(decoded.a));
  assert.deepEqual(encode([shared, shared], OPTIONS).v, [{ n: 1 }, { $t: "ref", i: 1 }]);
});

Deno.test("encode() preserves a cyclic object", () => {
  const node: Record<string, unknown> = { name: "root" };
  node.self = node;
  node.child = { parent: node };
  const decoded = jsonTrip(node);
  assert.equal(decoded.self, decoded);
  assert.equal((decoded.child as Record<string, unknown>).parent, decoded);
});

Deno.test("encode() preserves a cyclic array", () => {
  const array: unknown[] = [1];
  array.push(array, [array]);
  const decoded = jsonTrip(array);
  assert.equal(decoded[1], decoded);
  assert.equal((decoded[2] as unknown[])[0], decoded);
});

Deno.test("encode() preserves a cyclic Map and Set", () => {
  const map = new Map<unknown, unknown>();
  map.set(map, map);
  const set = new Set<unknown>();
  set.add(set);
  const decoded = jsonTrip({ map, set });
  assert.equal(decoded.map.get(decoded.map), decoded.map);
  assert.ok(decoded.set.has(decoded.set));
});

Deno.test("encode() preserves an error that is its own cause", () => {
  const error = new Error("loop");
  error.cause = error;
  const decoded = jsonTrip(error);
  assert.equal(decoded.cause, decoded);
});

Deno.test("serialize() and deserializeSync() round-trip through JSON text", () => {
  const value = { s: "x", n: [1, -0, NaN], d: new Date(5), m: new Map([[1, new Set([2])]]) };
  const text = serialize(value, { ...OPTIONS, mode: "clone" });
  assert.equal(typeof text, "string");
  const decoded = deserializeSync(text) as typeof value;
  assert.deepEqual(decoded, value);
  assert.ok(Object.is(decoded.n[1], -0));
  assert.equal(deserializeSync(serialize("hot", OPTIONS)), "hot");
});

Deno.test("encode() round-trips 100k small strings and 10k small objects", () => {
  for (let i = 0; i < 100_000; i++) {
    const s = `item-${i}`;
    assert.equal(deserializeSync(serialize(s, OPTIONS)), s);
  }
  for (let i = 0; i < 10_000; i++) {
    const o = { id: i, name: `n${i}`, tags: ["a", "b"], ok: i % 2 === 0 };
    const decoded = decodeSync(JSON.parse(JSON.stringify(encode(o, OPTIONS))));
    assert.deepEqual(decoded, o);
  }
});
