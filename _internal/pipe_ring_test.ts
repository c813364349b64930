// Copyright the multiproc authors. MIT license.
/**
 * The ring of a Pipe's direct connection (`pipe_ring.ts`), its reader and
 * its writer mapping the same file in one process: records read back exactly
 * and in order through many wrap-arounds, refusals when it is full or a
 * message too long, numbers that must match, the sleep/wake handshake, and
 * its file's removal. Across processes: `tests/pipe_direct_test.ts`.
 *
 * Needs `--allow-ffi` on Linux (as `deno task test` grants): the ring is
 * mapped memory.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { createRing, openRing, RING_DATA, RING_MAX_MESSAGE } from "./pipe_ring.ts";
import { canMapShared } from "./runtime.ts";

// libc, loaded once for the process, is opened outside any test (the sanitizer would count it).
const CAN_MAP = canMapShared();

/** A fresh folder for a ring's file, removed afterwards. */
function withDir(fn: (dir: string) => void): void {
  const dir = Deno.makeTempDirSync({ prefix: "multiproc-pipe-ring-" });
  try {
    fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** A ring made in `dir` and opened by its writer, as a receiving and a sending end do. */
function pair(dir: string) {
  const reader = createRing(dir);
  ok(reader !== undefined, "no ring was made");
  const writer = openRing(reader.path);
  ok(writer !== undefined, "the ring could not be opened");
  return { reader, writer };
}

/** `n` bytes that differ from one `seed` to the next and along the array. */
function pattern(n: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let j = 0; j < n; j++) bytes[j] = (j * 31 + seed * 7) & 255;
  return bytes;
}

Deno.test("pipe ring: this test run can map shared memory (else every other test here is void)", () => {
  ok(CAN_MAP, "run with --allow-ffi on Linux, without MULTIPROC_SHARED_MEMORY=0");
});

Deno.test("pipe ring: the writer removes the file once mapped; records read back exactly, in order, through many wrap-arounds", () => {
  withDir((dir) => {
    const { reader, writer } = pair(dir);
    deepStrictEqual([...Deno.readDirSync(dir)], [], "the ring's file is still there");
    // Sizes that do not divide the ring: records land at every offset and wrap often.
    const sizes = [1, 7, 8, 9, 100, 1000, 4093, RING_MAX_MESSAGE];
    let written = 0;
    let read = 0;
    let bytes = 0;
    while (bytes < 8 * RING_DATA) {
      const message = pattern(sizes[written % sizes.length], written);
      ok(writer.write(message, written), `message ${written} was refused with the ring drained`);
      bytes += message.length;
      written++;
      // The reader lags by up to three messages, so the ring wraps with records in it.
      while (written - read > 3) {
        deepStrictEqual(reader.take(read), pattern(sizes[read % sizes.length], read));
        read++;
      }
    }
    while (read < written) {
      deepStrictEqual(reader.take(read), pattern(sizes[read % sizes.length], read));
      read++;
    }
    equal(reader.ready(), false);
    equal(reader.take(read), undefined);
    ok(reader.used);
    writer.close();
    reader.close();
  });
});

Deno.test("pipe ring: a full ring and a too long message are refused, and room freed by the reader is used again", () => {
  withDir((dir) => {
    const { reader, writer } = pair(dir);
    equal(writer.write(new Uint8Array(RING_MAX_MESSAGE + 1), 0), false, "a too long message");
    const message = pattern(1000, 1);
    let n = 0;
    while (writer.write(message, n)) n++;
    // 1000 bytes and an 8-byte header, padded to 8: 1008 bytes a record.
    equal(n, Math.floor(RING_DATA / 1008));
    // 64 bytes are left: a 1-byte message fits there, a 100-byte one does not.
    equal(writer.write(new Uint8Array(100), n), false, "the full ring took one more");
    deepStrictEqual(reader.take(0), message);
    ok(writer.write(message, n), "room freed by the reader was not used");
    for (let i = 1; i <= n; i++) deepStrictEqual(reader.take(i), message);
    equal(reader.ready(), false);
    writer.close();
    reader.close();
  });
});

Deno.test("pipe ring: a record is taken only under the number expected, unless any will do", () => {
  withDir((dir) => {
    const { reader, writer } = pair(dir);
    ok(writer.write(Uint8Array.of(5), 5));
    ok(reader.ready());
    equal(reader.take(4), undefined, "message 5 was taken as message 4");
    ok(reader.ready(), "a refused take consumed the record");
    deepStrictEqual(reader.take(4, true), Uint8Array.of(5));
    // Numbers run modulo 2³², as the counters do.
    ok(writer.write(Uint8Array.of(9), 2 ** 32 + 3));
    deepStrictEqual(reader.take(3), Uint8Array.of(9));
    writer.close();
    reader.close();
  });
});

Deno.test("pipe ring: a sleeping reader is reported once to the writer; one that finds the message it expects does not sleep", () => {
  withDir((dir) => {
    const { reader, writer } = pair(dir);
    equal(writer.takeSleeper(), false, "nobody sleeps yet");
    ok(reader.sleep(0), "an empty ring did not let the reader sleep");
    ok(writer.write(Uint8Array.of(1), 0));
    equal(writer.takeSleeper(), true, "the writer was not told to wake the reader");
    equal(writer.takeSleeper(), false, "the reader was reported twice");
    // The message expected already there: the reader stays awake and the writer wakes nobody.
    ok(writer.write(Uint8Array.of(2), 1));
    equal(reader.sleep(0), false);
    equal(writer.takeSleeper(), false);
    ok(reader.ready(0));
    deepStrictEqual(reader.take(0), Uint8Array.of(1));
    deepStrictEqual(reader.take(1), Uint8Array.of(2));
    // Awake again after a sleep that nothing woke (a timer): no wake-up is asked for.
    ok(reader.sleep(2));
    reader.awake();
    ok(writer.write(Uint8Array.of(3), 2));
    equal(writer.takeSleeper(), false);
    deepStrictEqual(reader.take(2), Uint8Array.of(3));
    // A later message in the ring (the one expected is on the socket): the reader sleeps anyway.
    ok(writer.write(Uint8Array.of(5), 5));
    equal(reader.ready(3), false);
    ok(reader.ready());
    ok(reader.sleep(3), "a later message kept the reader from sleeping");
    writer.close();
    reader.close();
  });
});

Deno.test("pipe ring: a ring its reader closed (file removed) is not made anew by a late writer, and a file not named as a ring is not opened", () => {
  withDir((dir) => {
    const reader = createRing(dir);
    ok(reader !== undefined);
    reader.close();
    equal(openRing(reader.path), undefined);
    deepStrictEqual([...Deno.readDirSync(dir)], []);
    // Closing either side twice is harmless.
    reader.close();
    // A path not named as a ring (it comes from the other end, and is removed once mapped).
    const other = `${dir}/important`;
    Deno.writeFileSync(other, new Uint8Array(16));
    equal(openRing(other), undefined);
    deepStrictEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["important"]);
  });
});
