// Copyright the multiproc authors. MIT license.
import assert, { equal } from "node:assert/strict";
import { compareKeys, MAX_KEY_BYTES, priorityKey, withKey, withoutKey } from "./priority_key.ts";

/** Sorts entries as a priority queue orders them (stable: ties keep their order). */
function byKey(entries: unknown[]): unknown[] {
  const items = entries.map((entry, i) => ({
    entry,
    item: withKey(priorityKey(entry), Uint8Array.of(i)),
  }));
  return items.sort((a, b) => compareKeys(a.item, b.item)).map((x) => x.entry);
}

Deno.test("priorityKey(): numbers sort by value, as Python's do", () => {
  const numbers = [
    3,
    -1.5,
    0,
    -0,
    Infinity,
    -Infinity,
    2 ** 53,
    1e-300,
    -1e-300,
    42,
    true,
    false,
    7n,
  ];
  assert.deepEqual(byKey(numbers), [
    -Infinity,
    -1.5,
    -1e-300,
    0,
    -0,
    false,
    1e-300,
    true,
    3,
    7n,
    42,
    2 ** 53,
    Infinity,
  ]);
  // -0 is 0 (Python: -0.0 == 0), and true is 1.
  assert.equal(
    compareKeys(
      withKey(priorityKey(-0), new Uint8Array()),
      withKey(priorityKey(0), new Uint8Array()),
    ),
    0,
  );
  assert.equal(
    compareKeys(
      withKey(priorityKey(true), new Uint8Array()),
      withKey(priorityKey(1), new Uint8Array()),
    ),
    0,
  );
});

Deno.test("priorityKey(): strings sort by code point, a prefix first, and \\0 inside a string is not its end", () => {
  const strings = ["b", "a", "", "ab", "a\0", "a\0b", "\u00e9", "z", "\u{1F600}", "\uFFFF"];
  // By code point: U+1F600 after U+FFFF (JavaScript's < compares UTF-16 units and puts it before).
  assert.deepEqual(byKey(strings), [
    "",
    "a",
    "a\0",
    "a\0b",
    "ab",
    "b",
    "z",
    "\u00e9",
    "\uFFFF",
    "\u{1F600}",
  ]);
});

Deno.test("priorityKey(): arrays sort as Python's tuples, by their leading comparable elements; ties keep their order", () => {
  const job = (name: string) => ({ name });
  const entries = [
    [2, job("b")],
    [1, "z", job("c")],
    [1, job("a")],
    [2, job("d")],
    [1, "a"],
    [[0, 1], job("e")],
    [0],
  ];
  assert.deepEqual(byKey(entries), [
    [0],
    [1, job("a")], // [1] is a prefix of [1, "a"] and [1, "z"]
    [1, "a"],
    [1, "z", job("c")],
    [2, job("b")], // a tie with [2, job("d")]: the order put
    [2, job("d")],
    [[0, 1], job("e")], // arrays after numbers and strings
  ]);
  // Only the leading comparable elements count: the payload after an object is not looked at.
  assert.deepEqual(priorityKey([5, { x: 1 }, 3]), priorityKey([5]));
  // Across kinds: numbers, then strings, then arrays; an entry that is not an array orders as an
  // array of one.
  assert.deepEqual(byKey(["a", [0], 9, [[0]], ["a", 1]]), [[0], 9, "a", ["a", 1], [[0]]]);
});

Deno.test("priorityKey(): an entry with nothing to order it by is refused, saying what to put", () => {
  for (const entry of [{ a: 1 }, null, undefined, NaN, [{ a: 1 }, 2], [], 2n ** 2000n]) {
    assert.throws(() => priorityKey(entry), (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.match(
        error.message,
        /^Cannot put to the priority queue as the entry cannot be ordered: received /,
      );
      assert.match(error.message, /\[priority, item\]/);
      return true;
    }, String(entry));
  }
});

Deno.test("priorityKey(): a long key is cut, and entries that agree that far tie, in the order put", () => {
  const numbers = Array.from({ length: 1000 }, (_, i) => i);
  equal(priorityKey([1, numbers]).length, MAX_KEY_BYTES);
  const long = "x".repeat(2 * MAX_KEY_BYTES);
  assert.deepEqual(
    byKey([[1, [...numbers, 2]], [1, [...numbers, 1]], [0, numbers], long + "b", long + "a"]),
    [
      [0, numbers],
      [1, [...numbers, 2]], // a tie past the cut: the order put (Python would compare the last number)
      [1, [...numbers, 1]],
      long + "b",
      long + "a",
    ],
  );
});

Deno.test("withKey() and withoutKey(): the item's bytes come back as they were; a cut item is refused", () => {
  const bytes = Uint8Array.of(1, 2, 3);
  assert.deepEqual(withoutKey(withKey(priorityKey([7, "x"]), bytes)), bytes);
  assert.throws(() => withoutKey(Uint8Array.of(0)), /no key/);
  assert.throws(() => withoutKey(Uint8Array.of(0, 9, 1)), /key is cut/);
  // The hub compares what it is sent without ever throwing: no well-formed key orders as an empty one.
  assert.ok(compareKeys(Uint8Array.of(0, 9, 1), withKey(priorityKey(0), bytes)) < 0);
  assert.equal(compareKeys("not bytes", Uint8Array.of()), 0);
});
