import { deepEqual, equal, ok } from "node:assert/strict";
import type { FromWorker, ToWorker } from "./_protocol.ts";
import { packBatch, unpackBatch } from "./_thread_batch.ts";

/** Posts a packed batch through a MessagePort (as to and from a pool thread) and unpacks it. */
async function post<T>(batch: T[]): Promise<T[]> {
  const { data, transfer } = packBatch(batch as ToWorker[]);
  const channel = new MessageChannel();
  const got = new Promise<unknown>((resolve) => {
    channel.port2.onmessage = (e) => resolve(e.data);
  });
  channel.port1.postMessage(data, transfer);
  // Handed over, not copied.
  if (data instanceof ArrayBuffer) equal(data.byteLength, 0);
  const out = unpackBatch<T>(await got);
  channel.port1.close();
  channel.port2.close();
  return out;
}

Deno.test("packBatch() packs a batch of many plain items into a buffer of its own", () => {
  const items = Array.from({ length: 1000 }, (_, i) => i * 1.5 - 100);
  const batch: ToWorker[] = [
    { t: "fn", f: 1, ref: { module: "file:///m.ts", export: "square", hash: 7 } },
    { t: "run", i: 3, f: 1, s: 0, a: items, p: 1 },
    { t: "cancel", i: 2 },
  ];
  const { data, transfer } = packBatch(batch);
  ok(data instanceof ArrayBuffer);
  deepEqual(transfer, [data]);
  deepEqual(unpackBatch(data), batch);
});

Deno.test("packBatch() keeps every plain value exactly through a MessagePort", async () => {
  const strings = ["", "a", "é€😀", "\ud800 lone", "x".repeat(100_000)];
  const items = [
    ...strings,
    0,
    -1,
    2 ** 31,
    2 ** 32,
    -(2 ** 31) - 1,
    Number.MAX_SAFE_INTEGER,
    Number.MIN_VALUE,
    0.1,
    true,
    false,
    null,
    ...Array.from({ length: 100 }, (_, i) => [i, String(i), null]),
  ];
  const batch: FromWorker[] = [
    { t: "ok", i: 1, r: items, p: 1 },
    {
      t: "err",
      i: 2,
      e: { name: "TypeError", message: "no", stack: "TypeError: no", props: { code: "E" } },
    },
    { t: "dropped", i: 3 },
  ];
  deepEqual(await post(batch), batch);
});

Deno.test("packBatch() leaves small batches and codec values to structured clone", () => {
  const small: ToWorker[] = [{ t: "run", i: 1, f: 1, s: 0, a: [1, 2, 3], p: 1 }, { t: "stop" }];
  equal(packBatch(small).data, small);
  const encoded: FromWorker[] = [
    { t: "ok", i: 1, r: { v: [new Float64Array(100)], c: true } },
    { t: "ok", i: 2, r: Array(100).fill(1), p: 1 },
  ];
  const packed = packBatch(encoded);
  equal(packed.data, encoded);
  deepEqual(packed.transfer, []);
});
