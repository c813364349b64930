// Copyright the multiproc authors. MIT license.
/**
 * The binary form (`encodeBytes`, `decodeBytesSync`, written and read in one walk by
 * `bytes_codec.ts`): the same bytes as the "json" codec's tree in the wire format, read back
 * the same, with the same refusals.
 */
import assert from "node:assert/strict";
import {
  decode,
  decodeBytesSync,
  encode,
  encodeBytes,
  type Encoded,
  encodeItem,
  unpackEncoded,
} from "./codec.ts";
import { JsonDecoder } from "./json_codec.ts";
import { pack, unpack } from "./wire.ts";
import { FakeLock, OPTIONS, RevivedLock } from "../tests/_codec.ts";

/** Round trip through the binary form. */
function bytesTrip<T>(value: T): T {
  return decodeBytesSync(encodeBytes(value, OPTIONS)) as T;
}

/** The bytes of the "json" codec's tree of `value` (the form before `bytes_codec.ts`). */
function treeBytes(value: unknown): Uint8Array {
  return pack(encode(value, { ...OPTIONS, mode: "wire" }));
}

const shared = { s: 1 };
const cyclic: Record<string, unknown> = { name: "cyclic" };
cyclic.self = cyclic;
const cyclicMap = new Map<unknown, unknown>();
cyclicMap.set("me", cyclicMap);
const ownTag = { $t: "u", v: 1, nested: { $t: "ref", i: 0 } };
const holes = [1, , 3];
const nullProto = Object.assign(Object.create(null), { a: 1 });
const errorWithCause = new Error("outer", { cause: new RangeError("inner") });

/** Values of every kind the codec carries. */
const VALUES: unknown[] = [
  "a",
  0,
  -0,
  NaN,
  Infinity,
  -Infinity,
  1.5,
  2 ** 40,
  -(2 ** 40),
  true,
  null,
  undefined,
  10n,
  -(2n ** 70n),
  [],
  {},
  holes,
  { a: undefined, b: [undefined, null] },
  { id: 42, name: "item-00042", tags: ["red", "green", "blue"] },
  { "a b": 1, __proto__x: 2, "é": "ü😀", long: "x".repeat(100) },
  JSON.parse('{"__proto__": {"polluted": true}}'),
  nullProto,
  ownTag,
  [ownTag, { v: ownTag }],
  new Date(1_700_000_000_000),
  new Date(NaN),
  /a+b/giu,
  new Map<unknown, unknown>([["a", 1], [{ k: 1 }, [2]], [3n, new Set([4])]]),
  new Set(["x", { y: 1 }, [2]]),
  new Uint8Array([1, 2, 3]),
  new Uint8Array(70_000).map((_, i) => i & 0xff),
  new Uint8Array(100_000).subarray(10, 50_010).fill(9),
  new Float64Array([1.5, -0, NaN]),
  new BigInt64Array([-1n, 2n]),
  new DataView(new ArrayBuffer(8)),
  new Int16Array(5000).fill(-7),
  new ArrayBuffer(16),
  new ArrayBuffer(8192, { maxByteLength: 20_000 }),
  Object(1),
  Object("s"),
  Object(5n),
  errorWithCause,
  new AggregateError([new TypeError("a"), "b"], "all"),
  [shared, shared, { again: shared }],
  cyclic,
  cyclicMap,
  { when: new Date(0), counts: new Map([["a", 1]]), big: 2n ** 70n, seen: new Set([1]) },
  Array.from({ length: 20 }, (_, i) => ({ [`k${i}`]: i })),
  Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`key${i}`, [i, `${i}`]])),
];

Deno.test("encodeBytes() writes the same bytes as the json codec's tree in the wire format", () => {
  for (const value of VALUES) {
    assert.deepEqual(encodeBytes(value, OPTIONS), treeBytes(value), `for ${Deno.inspect(value)}`);
  }
});

Deno.test("decodeBytesSync() reads every kind of value back as the json codec's tree decodes", () => {
  for (const value of VALUES) {
    const bytes = encodeBytes(value, OPTIONS);
    const fromTree = new JsonDecoder().dec((unpack(bytes) as Encoded).v);
    const decoded = decodeBytesSync(bytes);
    assert.deepStrictEqual(decoded, fromTree, `for ${Deno.inspect(value)}`);
    // (An error is compared by its parts below; a hole comes back as undefined, a null
    // prototype as Object.prototype.)
    if (!(value instanceof Error) && value !== holes && value !== nullProto) {
      assert.deepStrictEqual(decoded, value);
    }
  }
  for (const value of [-0, NaN, undefined]) assert.ok(Object.is(bytesTrip(value), value));
  assert.ok(Object.is(bytesTrip([-0])[0], -0));
});

Deno.test("decodeBytesSync() keeps shared references, cycles and array holes as undefined", () => {
  const [a, b, c] = bytesTrip([shared, shared, { again: shared }]);
  assert.equal(a, b);
  assert.equal(c.again, a);
  const self = bytesTrip(cyclic);
  assert.equal(self.self, self);
  const map = bytesTrip(cyclicMap);
  assert.equal(map.get("me"), map);
  const set = new Set<unknown>();
  set.add({ set });
  const back = bytesTrip(set);
  assert.equal(([...back][0] as { set: unknown }).set, back);
  const holes = bytesTrip([1, , 3]);
  assert.ok(Object.hasOwn(holes, 1));
  const error = new Error("own cause");
  error.cause = error;
  const again = bytesTrip({ error, list: [error] });
  assert.equal(again.error.cause, again.error);
  assert.equal(again.list[0], again.error);
});

Deno.test("decodeBytesSync() brings errors back with class, message, stack and cause", () => {
  const decoded = bytesTrip({ error: errorWithCause, after: [1] });
  assert.ok(decoded.error instanceof Error);
  assert.equal(decoded.error.message, "outer");
  assert.equal(decoded.error.stack, errorWithCause.stack);
  assert.ok(decoded.error.cause instanceof RangeError);
  assert.deepEqual(decoded.after, [1]);
});

Deno.test("decodeBytesSync() gives each typed array and ArrayBuffer a buffer of its own, exactly its size", () => {
  const source = new Uint8Array(200_000).map((_, i) => i * 7);
  const view = source.subarray(1000, 101_000);
  const bytes = encodeBytes({ view, small: source.subarray(0, 10) }, OPTIONS);
  const decoded = decodeBytesSync(bytes) as { view: Uint8Array; small: Uint8Array };
  for (const v of [decoded.view, decoded.small]) {
    assert.equal(v.byteOffset, 0);
    assert.equal(v.buffer.byteLength, v.byteLength);
  }
  assert.deepEqual(decoded.view, view);
  const buffer = bytesTrip(new ArrayBuffer(10_000, { maxByteLength: 30_000 }));
  assert.equal(buffer.byteLength, 10_000);
  assert.equal(buffer.maxByteLength, 30_000);
});

Deno.test("encodeBytes() copies long bytes at the call, into a result that holds only them and its header", () => {
  const array = new Uint8Array(64 * 1024).fill(1);
  const bytes = encodeBytes(array, OPTIONS);
  // { v: { $t: "ta", c: "Uint8Array", v: <bin32> } }: 30 bytes around the array's.
  assert.equal(bytes.byteLength, array.byteLength + 30);
  const large = encodeBytes(new Uint8Array(300_000), OPTIONS);
  assert.equal(large.byteLength, large.buffer.byteLength);
  array.fill(2);
  const decoded = decodeBytesSync(bytes) as Uint8Array;
  assert.ok(decoded.every((b) => b === 1));
  // Long bytes among other values, twice, and after a failed encoding.
  assert.throws(() => encodeBytes([array, () => {}], OPTIONS), TypeError);
  const two = decodeBytesSync(encodeBytes(["a", array, { b: array.subarray(5) }], OPTIONS));
  assert.deepEqual(two, ["a", array, { b: array.subarray(5) }]);
});

Deno.test("encodeBytes() refuses what encode() refuses, with the same message", () => {
  const deep: unknown[] = [];
  let at = deep;
  for (let i = 0; i < 1100; i++) at = (at[0] = []) as unknown[];
  const refused: unknown[] = [
    () => {},
    [0, { f: Symbol("s") }],
    new Map([["k", () => {}]]),
    new Map([[{}, () => {}]]),
    new Map([[() => {}, 1]]),
    new Set([1, () => {}]),
    { error: new Error("x", { cause: () => {} }) },
    new Uint8Array(new SharedArrayBuffer(4)),
    new SharedArrayBuffer(4),
    new WeakMap(),
    { p: Promise.resolve() },
    deep,
  ];
  for (const value of refused) {
    let expected: unknown;
    try {
      encode(value, OPTIONS);
    } catch (e) {
      expected = e;
    }
    assert.ok(expected instanceof TypeError);
    assert.throws(() => encodeBytes(value, OPTIONS), {
      name: "TypeError",
      message: expected.message,
    });
  }
});

Deno.test("encodeBytes() refuses a Map or Set that shrinks while it is encoded", () => {
  const map = new Map<string, unknown>();
  map.set("a", {
    get x() {
      map.delete("b");
      return 1;
    },
  });
  map.set("b", 2);
  assert.throws(
    () => encodeBytes(map, OPTIONS),
    /args is not serializable: received a Map that shrank/,
  );
});

Deno.test("unpackEncoded() leaves a value with handles to decode() once their modules are imported", async () => {
  const lock = new FakeLock("l1");
  const bytes = encodeItem({ lock, again: [lock] }, OPTIONS);
  assert.deepEqual(bytes, treeBytes({ lock, again: [lock] }));
  const enc = unpackEncoded(bytes);
  assert.deepEqual(enc.m, ["file:///fake/lock.ts"]);
  assert.equal(enc.d, undefined);
  const decoded = await decode({ ...enc, m: undefined }) as { lock: RevivedLock; again: unknown[] };
  assert.ok(decoded.lock instanceof RevivedLock);
  assert.equal(decoded.again[0], decoded.lock);
});

Deno.test("unpackEncoded() refuses bytes that are cut or are not an encoded value", () => {
  const good = encodeBytes(
    { a: "text", b: [1, new Map([[1, 2]])], c: new Uint8Array(10) },
    OPTIONS,
  );
  for (let cut = 0; cut < good.length; cut++) {
    assert.throws(() => unpackEncoded(good.subarray(0, cut)));
  }
  for (const value of [1, [1], { x: 1 }, { v: 1, m: "file:///a.ts" }]) {
    assert.throws(() => unpackEncoded(pack(value)));
  }
  assert.throws(() => unpackEncoded(pack({ v: { $t: "map", v: [[1]] } })), /not a pair/);
});

Deno.test("a short ASCII string is written and read by hand as the same bytes as the general path", () => {
  const strings = [
    "",
    "a",
    "item-00042",
    "x".repeat(31),
    "x".repeat(32),
    "é",
    "ab\u0080",
    "日本",
    "\u007f",
  ];
  for (const s of strings) {
    const fast = encodeBytes(s, OPTIONS);
    assert.deepStrictEqual([...fast], [...pack({ v: s })], `bytes of ${JSON.stringify(s)}`);
    assert.equal(decodeBytesSync(fast), s);
    // A copy in a buffer of its own decodes the same (the fast reader looks only at the bytes).
    assert.equal(decodeBytesSync(fast.slice()), s);
  }
  // Bytes that only look like a short string's are read by the general reader (and refused).
  assert.throws(() => decodeBytesSync(Uint8Array.of(0x81, 0xa1, 0x76, 0xa3, 0x61)), Error);
});
