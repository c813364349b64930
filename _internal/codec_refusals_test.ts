// Copyright the multiproc authors. MIT license.
/** What encode() refuses, naming its path. */
import assert from "node:assert/strict";
import { decode, encode, MAX_DEPTH } from "./codec.ts";
import { assertNotSerializable, CLONE, jsonTrip, OPTIONS } from "../tests/_codec.ts";

/** `{ a: { a: ... 1 } }`, `levels` objects deep. */
function nested(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = i % 2 ? { a: v } : [v];
  return v;
}

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
