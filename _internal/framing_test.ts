/** Frames: what BatchWriter writes when messages pile up behind a slow reader, and large messages. */
import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import {
  BatchWriter,
  decodeFrameBody,
  encodeFrame,
  frameLength,
  PART_BYTES,
  readFrame,
  readFrames,
} from "./framing.ts";

/** Splits the written bytes back into frames and decodes each. */
function framesOf(writes: Uint8Array[]): unknown[][] {
  return writes.map((bytes) => {
    equal(frameLength(bytes), bytes.length - 4, "one whole frame per write");
    return decodeFrameBody(bytes.subarray(4)) as unknown[];
  });
}

Deno.test("BatchWriter coalesces messages queued behind a write, and splits a big backlog into frames of at most 256 KiB", async () => {
  const writes: Uint8Array[] = [];
  let release!: () => void;
  const firstWrite = new Promise<void>((resolve) => (release = resolve));
  const writer = new BatchWriter<{ n: number; text: string }>(
    (bytes) => {
      writes.push(bytes.slice()); // The writer reuses its buffer once a write is done.
      return writes.length === 1 ? firstWrite : Promise.resolve();
    },
    (error) => {
      throw error;
    },
  );
  const text = "y".repeat(100 * 1024);
  writer.send([{ n: 0, text: "" }]); // written at once; the rest waits behind it
  for (let n = 1; n <= 40; n++) writer.send([{ n, text }]); // 4 MiB in all
  release();
  await writer.flushed();
  const frames = framesOf(writes);
  deepStrictEqual(
    frames.flat().map((m) => (m as { n: number }).n),
    Array.from({ length: 41 }, (_, n) => n),
  );
  ok(frames.length >= 16, `${frames.length} frames`);
  ok(frames.some((f) => f.length > 1), "messages queued behind a write share a frame");
  ok(
    writes.every((w) => w.length <= 256 * 1024 + 4),
    "a frame of several messages stays under 256 KiB",
  );
});

/** A byte stream over `bytes` that returns at most `step` bytes per read. */
function streamOf(bytes: Uint8Array, step = 1 << 20) {
  let at = 0;
  return {
    read(into: Uint8Array): Promise<number | null> {
      if (at === bytes.length) return Promise.resolve(null);
      const n = Math.min(into.length, step, bytes.length - at);
      into.set(bytes.subarray(at, at + n));
      at += n;
      return Promise.resolve(n);
    },
  };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

Deno.test("A message larger than a frame goes in several frames and is read back whole, even with characters cut between frames", async () => {
  // Three-byte characters, so frame boundaries fall inside characters.
  const text = "€".repeat(Math.ceil((2.5 * PART_BYTES) / 3)) + "end";
  const writes: Uint8Array[] = [];
  const writer = new BatchWriter<{ text: string }>(
    (bytes) => {
      writes.push(bytes.slice()); // The writer reuses its buffer once a write is done.
      return Promise.resolve();
    },
    (error) => {
      throw error;
    },
  );
  writer.send([{ text: "small" }, { text }, { text: "after" }]);
  await writer.flushed();
  const bytes = concat(writes);
  // The frames: every length word but the message's last has its top bit set.
  const lengths: number[] = [];
  for (let at = 0; at < bytes.length;) {
    const word = new DataView(bytes.buffer, at, 4).getUint32(0);
    lengths.push(word);
    at += 4 + frameLength(bytes.subarray(at, at + 4));
  }
  ok(lengths.length >= 4, `${lengths.length} frames`);
  ok(lengths.every((word) => (word & 0x7fff_ffff) <= PART_BYTES), "no frame is larger than a part");
  const messages: unknown[] = [];
  await readFrames(streamOf(bytes), (m) => messages.push(m));
  const texts = (messages as { text: string }[][]).flat().map((m) => m.text);
  deepStrictEqual(texts.map((t) => t.length), ["small", text, "after"].map((t) => t.length));
  ok(texts[1] === text, "the large message is intact");
  // The same bytes through the pull reader (the control pipe's).
  let at = 0;
  const first = await readFrame((n) => {
    const out = bytes.subarray(at, Math.min(at + n, bytes.length));
    at += out.length;
    return Promise.resolve(out);
  });
  deepStrictEqual(first, [{ text: "small" }]); // The big one goes alone.
  // encodeFrame (the start message's) cuts the same way.
  const encoded = encodeFrame({ text });
  let pos = 0;
  deepStrictEqual(
    await readFrame((n) => Promise.resolve(encoded.subarray(pos, pos += n))),
    { text },
  );
});

Deno.test("A reader's message limit refuses a frame from its header, before reading its body", async () => {
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, 64 * 1024 * 1024);
  let reads = 0;
  const conn = {
    read(into: Uint8Array): Promise<number | null> {
      reads++;
      if (reads > 1) throw new Error("read past the header");
      into.set(header);
      return Promise.resolve(4);
    },
  };
  await rejects(
    readFrames(conn, () => {}, { maxMessage: () => 4096 }),
    /Cannot read frame: the message would exceed 4096 bytes/,
  );
});

Deno.test("readFrames hands out byte arrays that later reads never write over, whatever the frames' sizes and the reads' cuts", async () => {
  // Frames from a few bytes to larger than a read buffer, each carrying numbered bytes.
  const sizes = [1, 100, 40_000, 300_000, 7, 200_000, 3, 1_000_000, 60_000, 12];
  const fill = (n: number, i: number) => new Uint8Array(n).map((_, k) => (k * 7 + i) & 0xff);
  const bytes = concat(sizes.map((n, i) => encodeFrame([i, fill(n, i)])));
  for (const step of [999, 4099, 65_536, 1 << 20]) {
    const messages: [number, Uint8Array][] = [];
    await readFrames(streamOf(bytes, step), (m) => messages.push(m as [number, Uint8Array]));
    equal(messages.length, sizes.length);
    // Checked once everything is read: no later read changed an earlier message's bytes.
    for (const [i, got] of messages) deepStrictEqual(got, fill(sizes[i], i), `step ${step}`);
  }
});
