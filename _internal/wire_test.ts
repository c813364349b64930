/** The wire format: what it writes reads back exactly, and what a peer sends is checked. */
import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { MAX_WIRE_DEPTH, pack, unpack } from "./wire.ts";

Deno.test("wire: every value it carries reads back as it was written", () => {
  const values: unknown[] = [
    null,
    true,
    false,
    0,
    127,
    128,
    255,
    256,
    65535,
    65536,
    2 ** 32 - 1,
    2 ** 32,
    -1,
    -32,
    -33,
    -(2 ** 31),
    -(2 ** 31) - 1,
    1.5,
    Number.MAX_SAFE_INTEGER,
    Infinity,
    -Infinity,
    "",
    "a",
    "x".repeat(31),
    "x".repeat(32),
    "é€😀 and ascii",
    "y".repeat(70_000),
    [],
    [1, [2, [3]]],
    Array.from({ length: 70_000 }, (_, i) => i),
    {},
    { a: 1, b: "two", c: [3], d: { e: null } },
    Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])),
    new Uint8Array([]),
    new Uint8Array([0, 1, 2, 255]),
    new Uint8Array(70_000).fill(7),
  ];
  for (const value of values) deepStrictEqual(unpack(pack(value)), value);
  ok(Number.isNaN(unpack(pack(NaN))));
});

Deno.test("wire: a string with a lone surrogate, which UTF-8 cannot carry, arrives exactly", () => {
  for (const s of ["\ud800", "a\udc00b", "x".repeat(40) + "\ud83d", "😀\ud800😀"]) {
    equal(unpack(pack(s)), s);
  }
});

Deno.test("wire: a string built by concatenation (a rope) is written as the same bytes as a flat one", () => {
  const ropes = (tail: string) => [
    "head-" + "x".repeat(1_000) + tail,
    ["a", "b", "c"].map((c) => c.repeat(20)).join("") + tail,
  ];
  for (const tail of ["", "é", "€", "\u{1F600}", "\ud800"]) {
    for (const rope of ropes(tail)) {
      // A flat copy: made from its code units one at a time.
      const flat = Array.from({ length: rope.length }, (_, i) => rope[i]).join("");
      deepStrictEqual(pack(rope), pack(flat));
      equal(unpack(pack(rope)), flat);
    }
  }
});

Deno.test("wire: undefined properties are left out and undefined in an array is null, as in JSON", () => {
  deepStrictEqual(unpack(pack({ a: undefined, b: 1 })), { b: 1 });
  deepStrictEqual(unpack(pack([undefined, 1])), [null, 1]);
});

Deno.test("wire: a __proto__ key is an own property, not the prototype", () => {
  const bytes = pack(JSON.parse('{"__proto__": {"polluted": true}}'));
  const value = unpack(bytes) as Record<string, unknown>;
  equal(Object.getPrototypeOf(value), Object.prototype);
  deepStrictEqual(Object.keys(value), ["__proto__"]);
  equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("wire: bytes read as views share the source; read as copies they do not", () => {
  const bytes = pack([new Uint8Array([1, 2, 3])]);
  const [view] = unpack(bytes, true) as [Uint8Array];
  equal(view.buffer, bytes.buffer);
  const [copy] = unpack(bytes) as [Uint8Array];
  ok(copy.buffer !== bytes.buffer);
  deepStrictEqual([...copy], [1, 2, 3]);
});

Deno.test("wire: what it does not write is refused", () => {
  throws(() => pack(new Map()), TypeError);
  throws(() => pack(new Date()), TypeError);
  throws(() => pack(1n), TypeError);
  throws(() => pack(() => {}), TypeError);
  throws(() => pack(new Uint16Array(2)), TypeError);
});

Deno.test("wire: malformed bytes from a peer are refused, never read past their end", () => {
  const good = pack({ a: "text", b: [1, 2, 3], c: new Uint8Array(10) });
  for (let cut = 0; cut < good.length; cut++) {
    throws(() => unpack(good.subarray(0, cut)), /Cannot read message/);
  }
  throws(() => unpack(new Uint8Array([0xc1])), /unknown type byte 0xc1/);
  throws(() => unpack(new Uint8Array([0xd4, 0, 0])), /unknown type byte/);
  throws(() => unpack(new Uint8Array([1, 2])), /1 bytes follow its value/);
  // An array that claims more elements than there are bytes.
  throws(() => unpack(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff])), /longer than the message/);
  // A map key that is not a string.
  throws(() => unpack(new Uint8Array([0x81, 0x01, 0x02])), /key is not a string/);
  // Nesting deeper than the limit.
  const deep = new Uint8Array(MAX_WIRE_DEPTH + 2).fill(0x91);
  deep[deep.length - 1] = 0xc0;
  throws(() => unpack(deep), /nested too deep/);
});

Deno.test("wire: map keys read again (found in the reader's key cache) are the keys written", () => {
  const keys = Array.from(
    { length: 3000 },
    (_, i) => `k${i.toString(36)}`.padEnd(1 + (i % 16), "x"),
  );
  keys.push("é", "ключ", "x".repeat(16), "x".repeat(17), "__proto__", "a", "b", "ab", "ba");
  const value = Object.fromEntries(keys.map((k, i) => [k, i]));
  for (let round = 0; round < 3; round++) {
    const back = unpack(pack(value)) as Record<string, unknown>;
    deepStrictEqual(Object.keys(back), Object.keys(value));
    for (const k of keys) equal(back[k], value[k]);
  }
  // Objects of one shape, as queue items are, and a key whose bytes end the message early.
  deepStrictEqual(unpack(pack([{ id: 1, name: "a" }, { id: 2, name: "b" }])), [
    { id: 1, name: "a" },
    { id: 2, name: "b" },
  ]);
  const cut = pack({ name: 1 });
  throws(() => unpack(cut.subarray(0, 4)), /Cannot read message/);
});
