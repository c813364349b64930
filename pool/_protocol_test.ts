import { equal } from "node:assert/strict";
import { isPlain } from "./_protocol.ts";

Deno.test("isPlain() accepts only values JSON carries exactly", () => {
  equal(isPlain([1, "a", true, null, 2.5], 1), true);
  equal(isPlain([], 1), true);
  equal(isPlain([-0], 1), false);
  equal(isPlain([NaN], 1), false);
  equal(isPlain([Infinity], 1), false);
  equal(isPlain([undefined], 1), false);
  equal(isPlain([1n], 1), false);
  equal(isPlain([{ a: 1 }], 1), false);
  equal(isPlain([[1, 2]], 1), false);
  equal(isPlain([[1, "b"], []], 2), true);
  equal(isPlain([[1, [2]]], 2), false);
  equal(isPlain([[-0]], 2), false);
});
