// Copyright the multiproc authors. MIT license.
import assert from "node:assert/strict";
import {
  decode,
  decodeSync,
  deserializeSync,
  encode,
  type Encoded,
  type EncodeOptions,
  errorFromData,
  errorToData,
  type HandleData,
  MAX_DEPTH,
  registerReviver,
  serialize,
  type Shareable,
  toHandle,
} from "./codec.ts";

const OPTIONS: EncodeOptions = { context: 'Cannot start process "worker-1" as', root: "args" };
const CLONE: EncodeOptions = { ...OPTIONS, mode: "clone", dest: "thread" };

/** Encodes, goes through JSON text, and decodes. */
function jsonTrip<T>(value: T): T {
  return deserializeSync(serialize(value, OPTIONS)) as T;
}

/** Encodes in "clone" mode, goes through structured clone, and decodes. */
function cloneTrip<T>(value: T): T {
  return decodeSync(structuredClone(encode(value, CLONE))) as T;
}

/** Asserts that encoding `value` throws a TypeError with `message`. */
function assertNotSerializable(value: unknown, message: string, options = OPTIONS): void {
  assert.throws(() => encode(value, options), { name: "TypeError", message });
}

/** A stand-in for a shared primitive, revived from its id. */
class FakeLock implements Shareable {
  static instances = new Map<string, FakeLock>();
  dests: string[] = [];
  constructor(readonly id: string, readonly module = "file:///fake/lock.ts") {}
  [toHandle](dest: "process" | "thread"): HandleData {
    this.dests.push(dest);
    return { kind: "test.fake-lock", module: this.module, id: this.id };
  }
}

class RevivedLock {
  constructor(readonly id: string) {}
}

registerReviver("test.fake-lock", (data) => new RevivedLock(data.id as string));

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

/** An exported class: its instances cross as instances (constructor calls counted). */
export class ExportedPoint {
  static constructed = 0;
  z = 0;
  constructor(public x: number, public y: number) {
    ExportedPoint.constructed++;
  }
  get length(): number {
    return Math.hypot(this.x, this.y);
  }
  set length(_: number) {
    throw new Error("the setter must not run when an instance is revived");
  }
}

/** Encodes, goes through JSON text, and decodes with decode() (which imports the class's module). */
async function jsonTripAsync<T>(value: T): Promise<T> {
  return await decode(JSON.parse(JSON.stringify(encode(value, OPTIONS)))) as T;
}

Deno.test("encode() revives an instance of an exported class as one of the same class, without its constructor", async () => {
  const p = new ExportedPoint(3, 4);
  Object.defineProperty(p, "length", { value: 7, enumerable: true, writable: true });
  const before = ExportedPoint.constructed;
  const [decoded, again] = await jsonTripAsync([p, p]);
  assert.ok(decoded instanceof ExportedPoint);
  assert.equal(again, decoded);
  assert.deepEqual({ ...decoded }, { z: 0, x: 3, y: 4, length: 7 });
  const cloned = await decode(structuredClone(encode({ p }, CLONE))) as { p: ExportedPoint };
  assert.ok(cloned.p instanceof ExportedPoint);
  assert.equal(new ExportedPoint(6, 8).length, 10);
  assert.equal(ExportedPoint.constructed, before + 1);
  assert.deepEqual(encode(p, OPTIONS).m, [import.meta.url]);
});

Deno.test("decodeSync() refuses an instance whose class module decode() has not imported", () => {
  const enc = encode(new ExportedPoint(1, 2), OPTIONS);
  const tree = {
    ...enc,
    v: { ...(enc.v as object), r: { module: "file:///elsewhere.ts", export: "P", hash: 0 } },
  };
  assert.throws(() => decodeSync(tree), {
    message:
      'Cannot decode an instance of class "P" as its module file:///elsewhere.ts is not imported: use decode()',
  });
});

Deno.test("encode() refuses an instance of a class it cannot locate, naming its path", () => {
  class LocalPoint {
    constructor(public x: number) {}
  }
  // (Built from parts: the words "export", "class" and the name in a row in this file's source
  // would make the source search find the class here.)
  const message = new RegExp(
    String.raw`^Cannot start process "worker-1" as args\[0\]\.pos is not serializable: ` +
      String.raw`received an instance of class LocalPoint, which the other side cannot import as ` +
      String.raw`no module it can find exports it: export the class \(export ` +
      String.raw`class LocalPoint \.\.\.\), or pass a plain object`,
  );
  assert.throws(() => encode([{ pos: new LocalPoint(1) }], OPTIONS), {
    name: "TypeError",
    message,
  });
  assert.throws(() => encode([{ pos: new LocalPoint(1) }], CLONE), { name: "TypeError", message });
  assert.throws(() => encode([new (class {})()], OPTIONS), {
    name: "TypeError",
    message: /args\[0\] is not serializable: received an instance of an anonymous class/,
  });
  assert.throws(() => encode([new Intl.NumberFormat()], OPTIONS), {
    name: "TypeError",
    message:
      /args\[0\] is not serializable: received an instance of NumberFormat, which is built in/,
  });
  assert.throws(() => encode([Object.create({ a: 1 })], OPTIONS), {
    name: "TypeError",
    message: /args\[0\] is not serializable: received an object whose prototype is not a class's/,
  });
});

/** `{ a: { a: ... 1 } }`, `levels` objects deep. */
function nested(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = i % 2 ? { a: v } : [v];
  return v;
}

Deno.test("encode() refuses a value nested more than MAX_DEPTH levels, naming its path, and round-trips one that is not", async () => {
  for (const options of [OPTIONS, CLONE]) {
    assert.throws(() => encode([nested(10_000)], options), {
      name: "TypeError",
      message:
        /^Cannot start process "worker-1" as args\[0\]\.a\[0\][.a[\]0]*… is not serializable: received a value nested more than 1000 levels deep: flatten it, or send it in parts$/,
    });
  }
  assert.deepEqual(jsonTrip(nested(MAX_DEPTH)), nested(MAX_DEPTH));
  assert.deepEqual(
    await decode(structuredClone(encode(nested(MAX_DEPTH), CLONE))),
    nested(MAX_DEPTH),
  );
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

Deno.test("encode() rejects a nested function with its path", () => {
  assertNotSerializable(
    [1, { cb: () => {} }],
    'Cannot start process "worker-1" as args[1].cb is not serializable: received function',
  );
  assertNotSerializable(
    () => {},
    'Cannot start process "worker-1" as args is not serializable: received function',
  );
});

Deno.test("encode() rejects a symbol, a Promise and a WeakMap with their paths", () => {
  const prefix = 'Cannot start process "worker-1" as';
  assertNotSerializable(
    [{ user: { tags: ["a", Symbol("b")] } }],
    `${prefix} args[0].user.tags[1] is not serializable: received symbol`,
  );
  assertNotSerializable(
    [{ "a b": Promise.resolve() }],
    `${prefix} args[0]["a b"] is not serializable: received Promise`,
  );
  assertNotSerializable(
    [0, 1, { weak: new WeakMap() }],
    `${prefix} args[2].weak is not serializable: received WeakMap`,
  );
  assertNotSerializable(
    [new Error("e", { cause: { f: Symbol.iterator } })],
    `${prefix} args[0].cause.f is not serializable: received symbol`,
  );
  assertNotSerializable(
    [new URL("https://example.com")],
    `${prefix} args[0] is not serializable: received URL`,
  );
});

Deno.test("encode() names Map keys, Map values and Set items in paths", () => {
  const prefix = 'Cannot start process "worker-1" as';
  const fn = () => {};
  assertNotSerializable(
    [new Map<string, unknown>([["ok", 1], ["cb", fn]])],
    `${prefix} args[0].get("cb") is not serializable: received function`,
  );
  assertNotSerializable(
    [new Map<unknown, unknown>([[1, 1], [{ a: 1 }, { b: fn }]])],
    `${prefix} [...args[0].values()][1].b is not serializable: received function`,
  );
  assertNotSerializable(
    [new Map<unknown, unknown>([[1, 1], [{ a: fn }, 2]])],
    `${prefix} [...args[0].keys()][1].a is not serializable: received function`,
  );
  assertNotSerializable(
    { s: new Set([1, 2, fn]) },
    `${prefix} [...args.s][2] is not serializable: received function`,
  );
});

Deno.test("encode() uses the context and root it is given", () => {
  assertNotSerializable(
    { task: Symbol() },
    "Cannot put an item on the queue as item.task is not serializable: received symbol",
    { context: "Cannot put an item on the queue as", root: "item" },
  );
});

Deno.test("encode() rejects SharedArrayBuffers in json mode", () => {
  const sab = new SharedArrayBuffer(8);
  assertNotSerializable(
    [sab],
    'Cannot start process "worker-1" as args[0] is not serializable: ' +
      "received SharedArrayBuffer, which cannot be shared with another process",
  );
  assertNotSerializable(
    [new Int32Array(sab)],
    'Cannot start process "worker-1" as args[0] is not serializable: ' +
      "received Int32Array over a SharedArrayBuffer, which cannot be shared with another process",
  );
});

Deno.test("encode() turns a Shareable into a handle revived by its reviver", () => {
  const lock = new FakeLock("l1");
  const other = new FakeLock("l2", "file:///fake/another.ts");
  const encoded = encode({ lock, again: lock, other }, OPTIONS);
  assert.deepEqual(encoded.m, ["file:///fake/another.ts", "file:///fake/lock.ts"]);
  assert.deepEqual((encoded.v as Record<string, unknown>).lock, {
    $t: "h",
    v: { kind: "test.fake-lock", module: "file:///fake/lock.ts", id: "l1" },
  });
  assert.deepEqual(lock.dests, ["process"]);

  const decoded = decodeSync(JSON.parse(JSON.stringify(encoded))) as Record<string, RevivedLock>;
  assert.ok(decoded.lock instanceof RevivedLock);
  assert.equal(decoded.lock.id, "l1");
  assert.equal(decoded.again, decoded.lock);
  assert.equal(decoded.other.id, "l2");
  assert.equal(encode([1], OPTIONS).m, undefined);
});

Deno.test("encode() checks [toHandle] before anything else", () => {
  class SharedList extends Array implements Shareable {
    [toHandle](): HandleData {
      return { kind: "test.fake-lock", module: "file:///fake/lock.ts", id: "list" };
    }
  }
  const decoded = jsonTrip(new SharedList()) as unknown as RevivedLock;
  assert.ok(decoded instanceof RevivedLock);
});

Deno.test("encode() reports a Shareable that refuses its destination with its path", () => {
  const cause = new Error("a Lock for threads cannot be shared with another process");
  const refusing = {
    [toHandle](): HandleData {
      throw cause;
    },
  };
  assert.throws(() => encode([0, { lock: refusing }], OPTIONS), (e: unknown) => {
    assert.ok(e instanceof TypeError);
    assert.equal(
      e.message,
      'Cannot start process "worker-1" as args[1].lock is not serializable: ' +
        "a Lock for threads cannot be shared with another process",
    );
    assert.equal(e.cause, cause);
    return true;
  });
});

Deno.test("decodeSync() throws a clear error for a handle kind without reviver", () => {
  const enc: Encoded = { v: { $t: "h", v: { kind: "test.unknown", module: "file:///x.ts" } } };
  assert.throws(() => decodeSync(enc), {
    message:
      'Cannot decode a "test.unknown" handle as no reviver is registered for it: import "file:///x.ts" first or use decode()',
  });
});

Deno.test("decodeSync() rejects an unknown tag", () => {
  assert.throws(() => decodeSync({ v: { $t: "nope" } }), {
    name: "TypeError",
    message: 'Cannot decode value as its tag "nope" is unknown',
  });
});

Deno.test("decode() imports each handle module once before decoding", async () => {
  const g = globalThis as { codecTestImports?: number };
  const url = "data:text/javascript,globalThis.codecTestImports=(globalThis.codecTestImports??0)+1";
  const encoded = encode([new FakeLock("l3", url)], OPTIONS);
  assert.deepEqual(encoded.m, [url]);
  const first = (await decode(encoded)) as RevivedLock[];
  const second = (await decode(JSON.parse(JSON.stringify(encoded)))) as RevivedLock[];
  assert.equal(g.codecTestImports, 1);
  assert.equal(first[0].id, "l3");
  assert.equal(second[0].id, "l3");
  assert.equal(await decode({ v: "plain" }), "plain");
});

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

Deno.test("errorToData() describes an error as JSON-compatible data", () => {
  const error = new TypeError("bad", { cause: { code: 7 } });
  const data = errorToData(error);
  assert.equal(data.name, "TypeError");
  assert.equal(data.message, "bad");
  assert.equal(data.stack, error.stack);
  assert.deepEqual(JSON.parse(JSON.stringify(data)), data);

  const revived = errorFromData(JSON.parse(JSON.stringify(data)));
  assert.ok(revived instanceof TypeError);
  assert.equal(revived.message, "bad");
  assert.equal(revived.stack, error.stack);
  assert.deepEqual(revived.cause, { code: 7 });
});

Deno.test("errorFromData() sets the name of an error that is not built in", () => {
  const revived = errorFromData({
    name: "QueueFull",
    message: "full",
    stack: "QueueFull: full\n at x",
  });
  assert.equal(Object.getPrototypeOf(revived), Error.prototype);
  assert.equal(revived.name, "QueueFull");
  assert.equal(revived.stack, "QueueFull: full\n at x");
  assert.equal(errorFromData({ name: "RangeError", message: "r" }).stack, "RangeError: r");
  assert.ok(errorFromData({ name: "RangeError", message: "r" }) instanceof RangeError);
});

Deno.test("errorToData() describes thrown values that are not errors", () => {
  assert.deepEqual(errorToData("boom"), { name: "Error", message: "boom" });
  assert.deepEqual(errorToData(42), { name: "Error", message: "42" });
  assert.deepEqual(errorToData(Object.create(null)), {
    name: "Error",
    message: "[object Object]",
  });
});

Deno.test("errorToData() replaces a cause that cannot be serialized by its description", () => {
  const data = errorToData(new Error("outer", { cause: Symbol("why") }));
  assert.equal(data.cause, "Symbol(why)");
  assert.equal(errorFromData(data).cause, "Symbol(why)");
});

Deno.test("errorFromData() drops a cause it cannot decode", () => {
  const data = errorToData(new Error("outer", { cause: new FakeLock("gone") }));
  (data.cause as { v: HandleData }).v.kind = "test.unregistered";
  const revived = errorFromData(data);
  assert.equal(revived.message, "outer");
  assert.ok(!("cause" in revived));
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

Deno.test("decode() refuses an instance whose exported class is not the sender's (its source differs)", async () => {
  const enc = encode(new ExportedPoint(1, 2), OPTIONS);
  const node = enc.v as { r: { hash: number } };
  node.r.hash = (node.r.hash + 1) >>> 0;
  await assert.rejects(decode(enc), {
    name: "TypeError",
    message:
      `Cannot decode an instance of class "ExportedPoint" as export "ExportedPoint" of ${import.meta.url} is not the class the sender named (its source differs): give it a unique name, or pass { module, export } explicitly`,
  });
});
