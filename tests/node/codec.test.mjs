/** The codec on Node.js: values as they cross, through a Queue (its items are the codec's bytes). */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { test } from "node:test";
import { Queue } from "./_pkg.mjs";
import { LONG } from "./_helpers.mjs";

test("large typed arrays and ArrayBuffers put on a Queue come back exact, each in a buffer of its own", async () => {
  // Results of up to 256 KiB are carved from blocks whose memory Node does not zero first: zeroed
  // arrays among patterned ones of several sizes show a byte left unwritten.
  const pattern = (n, k) => new Uint8Array(n).map((_, i) => (i * k + 1) & 0xff);
  const values = [
    pattern(64 * 1024, 31),
    new Uint8Array(100_000),
    new Float64Array(20_000).map((_, i) => i / 3),
    pattern(200_000, 7).buffer,
    new Uint8Array(40_000),
    new Int32Array(50_000).fill(-1),
    new Uint8Array(300_000),
  ];
  const q = new Queue();
  for (const v of values) await q.put(v);
  for (const v of values) {
    const got = await q.get({ timeout: LONG });
    equal(Object.getPrototypeOf(got), Object.getPrototypeOf(v));
    deepStrictEqual(got, v);
    if (ArrayBuffer.isView(got)) {
      equal(got.byteOffset, 0);
      equal(got.buffer.byteLength, got.byteLength);
    }
  }
  ok(q.empty());
  q.close();
});
