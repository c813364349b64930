/** Frames: what BatchWriter writes when messages pile up behind a slow reader. */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { BatchWriter, decodeFrameBody, frameLength } from "./framing.ts";

/** Splits the written bytes back into frames and decodes each. */
function framesOf(writes: Uint8Array[]): unknown[][] {
  return writes.map((bytes) => {
    equal(frameLength(bytes), bytes.length - 4, "one whole frame per write");
    return decodeFrameBody(bytes.subarray(4)) as unknown[];
  });
}

Deno.test("BatchWriter coalesces messages queued behind a write, and splits a big backlog into frames of a few MiB", async () => {
  const writes: Uint8Array[] = [];
  let release!: () => void;
  const firstWrite = new Promise<void>((resolve) => (release = resolve));
  const writer = new BatchWriter<{ n: number; text: string }>(
    (bytes) => {
      writes.push(bytes);
      return writes.length === 1 ? firstWrite : Promise.resolve();
    },
    (error) => {
      throw error;
    },
  );
  const text = "y".repeat(512 * 1024);
  writer.send([{ n: 0, text: "" }]); // written at once; the rest waits behind it
  for (let n = 1; n <= 40; n++) writer.send([{ n, text }]); // 20 MiB in all
  release();
  await writer.flushed();
  const frames = framesOf(writes);
  deepStrictEqual(
    frames.flat().map((m) => (m as { n: number }).n),
    Array.from({ length: 41 }, (_, n) => n),
  );
  ok(frames.length >= 6, `${frames.length} frames`);
  ok(
    writes.every((w) => w.length <= 4 * 1024 * 1024 + 4),
    "a frame of several messages stays under 4 MiB",
  );
});
