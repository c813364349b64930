// Copyright the multiproc authors. MIT license.
/**
 * The rings of large queue items (`item_store.ts`), in one process: what
 * goes into a ring and what stays inline, reading back, freeing, wrapping
 * around, reusing space freed out of order, overflowing inline when every
 * ring is full, and removing rings when their realm leaves. The same across
 * processes: `tests/queue_shared_items_test.ts`.
 *
 * Needs `--allow-ffi` on Linux (as `deno task test` grants): the rings are
 * mapped memory.
 */
import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { decodeBytesSync, encodeItem } from "./codec.ts";
import { loadStored } from "./item_reader.ts";
import {
  encodeStored,
  leaveRings,
  MAX_RINGS,
  releaseStored,
  STORE_MIN,
  storeBacklog,
  sweepRings,
} from "./item_store.ts";
import {
  IN_USE_WORD,
  isStoredRef,
  RING_BYTES,
  RING_FILE_BYTES,
  ringPath,
  storedWeight,
  u32,
} from "./stored_ref.ts";
import { canMapShared, mapShared } from "./runtime.ts";

const OPTIONS = { context: "Cannot put on the queue as", root: "item" };

// libc, loaded once for the process, is opened outside any test (the sanitizer would count it).
const CAN_MAP = canMapShared();

/**
 * Runs `fn` with a fresh folder, as a hub's: this realm's rings are kept per
 * folder in module state, so each test starts with none. Afterwards this
 * realm leaves its rings (so the next test writes none of these) and the
 * folder goes.
 */
async function withDir(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = Deno.makeTempDirSync({ prefix: "multiproc-item-store-" });
  try {
    await fn(dir);
  } finally {
    leaveRings();
    Deno.removeSync(dir, { recursive: true });
  }
}

/** The names of the files of rings (and their notes) in `dir`, sorted. */
function ringFiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith("items-")).sort();
}

/** The key of the ring a reference names (as its file is named: `items-<key>`). */
function ringOf(ref: Uint8Array): string {
  return String.fromCharCode(...ref.subarray(16, 24));
}

/** `n` bytes that differ from one `seed` to the next and along the array. */
function pattern(n: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let j = 0; j < n; j++) bytes[j] = (j * 7 + seed * 13 + (j >> 10)) & 255;
  return bytes;
}

/** Whether two byte arrays are equal (a loop: deepStrictEqual is slow on megabytes). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) return false;
  return true;
}

/** Stores raw bytes (an encoder that returns its own array: the bytes are copied into the ring). */
function store(bytes: Uint8Array, dir: string): Uint8Array {
  return encodeStored(() => bytes, dir);
}

/** Reads the block of `ref`, checks it holds `expected`, and frees it. */
function readAndFree(ref: Uint8Array, dir: string, expected: Uint8Array, what: string): void {
  const block = loadStored(ref, dir);
  ok(sameBytes(block.bytes, expected), `${what} did not read back exactly`);
  block.free();
}

Deno.test("item store: this test run can map shared memory (else every other test here is void)", () => {
  ok(CAN_MAP, "run with --allow-ffi on Linux, without MULTIPROC_SHARED_MEMORY=0");
});

Deno.test("item store: a large item becomes a 24-byte reference to its bytes in a ring; a small one stays itself", async () => {
  await withDir((dir) => {
    const small = { text: "small", n: 1 };
    const smallBytes = encodeItem(small, OPTIONS);
    ok(smallBytes.length < STORE_MIN);
    const kept = encodeStored(() => encodeItem(small, OPTIONS), dir);
    ok(!isStoredRef(kept), "a small item was stored");
    deepStrictEqual(kept, smallBytes);
    deepStrictEqual(ringFiles(dir), [], "a ring was made for a small item");

    // Written in place by the encoder (its result asks for room of its size).
    const large = { data: pattern(64 << 10, 1), more: [1, "two", { three: 3 }] };
    const ref = encodeStored(() => encodeItem(large, OPTIONS), dir);
    ok(isStoredRef(ref), "a 64 KiB item was not stored");
    equal(ref.length, 24);
    const encoded = encodeItem(large, OPTIONS);
    equal(storedWeight(ref), encoded.length, "a reference weighs its item's bytes");
    deepStrictEqual(ringFiles(dir), [`items-${ringOf(ref)}`]);
    const block = loadStored(ref, dir);
    ok(sameBytes(block.bytes, encoded), "the block does not hold the item's encoding");
    deepStrictEqual(decodeBytesSync(block.bytes), large);
    block.free();

    // A long string: the encoder grows a buffer of its own, whose bytes are copied in.
    const text = "déjà vu ".repeat(20_000);
    const textRef = encodeStored(() => encodeItem(text, OPTIONS), dir);
    ok(isStoredRef(textRef), "a long string was not stored");
    const textBlock = loadStored(textRef, dir);
    equal(decodeBytesSync(textBlock.bytes), text);
    textBlock.free();

    // Exactly at the threshold, and just below it.
    for (const n of [STORE_MIN - 1, STORE_MIN]) {
      const bytes = pattern(n, n);
      const item = store(bytes, dir);
      equal(isStoredRef(item), n >= STORE_MIN, `${n} bytes`);
      if (isStoredRef(item)) readAndFree(item, dir, bytes, `${n} bytes`);
      else deepStrictEqual(item, bytes);
    }
  });
});

Deno.test("item store: a reference whose block was freed (or released) throws a clear error instead of reading", async () => {
  await withDir((dir) => {
    const ref = store(pattern(10_000, 1), dir);
    loadStored(ref, dir).free();
    throws(() => loadStored(ref, dir), /Cannot read a queue item kept in shared memory .*freed/);

    const refused = store(pattern(10_000, 2), dir);
    releaseStored(refused);
    throws(() => loadStored(refused, dir), /freed/);

    // Its space written over by a newer block: still refused, not read as the newer one.
    const newer = store(pattern(10_000, 3), dir);
    equal(u32(newer, 4), 0, "the ring did not reuse its space");
    throws(() => loadStored(ref, dir), /freed/);
    readAndFree(newer, dir, pattern(10_000, 3), "the newer block");
  });
});

Deno.test("item store: a reference whose ring name is not hex is refused before any file is opened", async () => {
  await withDir((dir) => {
    const ref = store(pattern(10_000, 1), dir);
    for (const name of ["../../x/", "ITEMS-AB", "0123456\u0000"]) {
      const forged = ref.slice();
      forged.set(new TextEncoder().encode(name), 16);
      throws(
        () => loadStored(forged, dir),
        /its reference is malformed \(its ring's name is not hex\)/,
      );
    }
    readAndFree(ref, dir, pattern(10_000, 1), "the real one");
  });
});

Deno.test("item store: a ring wraps around, reusing the space its consumers freed in order, every read exact", async () => {
  await withDir((dir) => {
    // Not a multiple of 8 (blocks are aligned), about 1 MB: 100 of them are 6 rings' worth.
    const size = 1_000_003;
    const live: { ref: Uint8Array; i: number }[] = [];
    let wrapped = false;
    let lastAt = -1;
    for (let i = 0; i < 100; i++) {
      const ref = store(pattern(size, i), dir);
      ok(isStoredRef(ref), `item ${i} went inline`);
      const at = u32(ref, 4);
      if (at < lastAt) wrapped = true;
      lastAt = at;
      live.push({ ref, i });
      // Four items at a time in use (read in order): the rest of the ring is free.
      if (live.length > 4) {
        const oldest = live.shift()!;
        readAndFree(oldest.ref, dir, pattern(size, oldest.i), `item ${oldest.i}`);
      }
    }
    for (const { ref, i } of live) readAndFree(ref, dir, pattern(size, i), `item ${i}`);
    ok(wrapped, "the ring never wrapped around");
    equal(ringFiles(dir).length, 1, `${ringFiles(dir).length} rings for 6 rings' worth of items`);
    ok(100 * size > RING_BYTES * 5);
  });
});

Deno.test("item store: with every ring full an item goes inline, intact; space freed out of order is reused once the oldest block is freed", async () => {
  await withDir((dir) => {
    // 3 blocks fill a ring: a 4th does not fit (4 MiB and a header each).
    const size = (4 << 20) + 1;
    const refs: Uint8Array[] = [];
    for (let i = 0; i < 3 * MAX_RINGS; i++) {
      const ref = store(pattern(size, i), dir);
      ok(isStoredRef(ref), `item ${i} went inline`);
      refs.push(ref);
    }
    equal(new Set(refs.map(ringOf)).size, MAX_RINGS);
    equal(ringFiles(dir).length, MAX_RINGS);

    // Every ring full: inline, the bytes themselves, and no new ring.
    const overflow = pattern(size, 100);
    const inline = store(overflow, dir);
    ok(!isStoredRef(inline), "an item was stored with every ring full");
    ok(sameBytes(inline, overflow), "an inline item is not its bytes");
    equal(ringFiles(dir).length, MAX_RINGS, "a ring beyond MAX_RINGS was made");

    // The first ring's newer blocks freed, its oldest not: still no room (blocks are reused from
    // the oldest on).
    const first = ringOf(refs[0]);
    readAndFree(refs[2], dir, pattern(size, 2), "item 2");
    readAndFree(refs[1], dir, pattern(size, 1), "item 1");
    ok(!isStoredRef(store(pattern(size, 101), dir)), "stored over a block still in use");

    // The oldest released (a refused put's): its ring takes items again, from its start.
    releaseStored(refs[0]);
    const reused = [store(pattern(size, 102), dir), store(pattern(size, 103), dir)];
    for (const ref of reused) {
      ok(isStoredRef(ref), "the space freed was not reused");
      equal(ringOf(ref), first, "not stored in the ring that has room");
    }
    equal(u32(reused[0], 4), 0);

    // Nothing else was written over: every block still in use reads exactly.
    for (let i = 3; i < refs.length; i++) readAndFree(refs[i], dir, pattern(size, i), `item ${i}`);
    readAndFree(reused[0], dir, pattern(size, 102), "item 102");
    readAndFree(reused[1], dir, pattern(size, 103), "item 103");
  });
});

Deno.test("item store: an item larger than a ring goes inline", async () => {
  await withDir((dir) => {
    const huge = new Uint8Array(RING_BYTES + 1).fill(7);
    const item = store(huge, dir);
    ok(!isStoredRef(item));
    equal(item.length, RING_BYTES + 1);
    deepStrictEqual(ringFiles(dir), []);
  });
});

Deno.test("item store: a producer over half a ring ahead waits until its consumers free blocks; when they do not keep up, it goes on until they catch up", async () => {
  await withDir(async (dir) => {
    equal(storeBacklog(dir), undefined, "no ring, no wait");
    const size = 1 << 20;
    const refs: Uint8Array[] = [];
    // 7 blocks of 1 MiB and a header are less than half a ring, 8 are more.
    for (let i = 0; i < 7; i++) refs.push(store(pattern(size, i), dir));
    equal(storeBacklog(dir), undefined, "under half a ring: no wait");
    refs.push(store(pattern(size, 7), dir));
    const waiting = storeBacklog(dir);
    ok(waiting instanceof Promise, "over half a ring ahead, and no wait");
    equal(storeBacklog(dir), waiting, "producers wait on one Promise");
    // The consumers free what they read: the wait ends, and the ring is back under half.
    for (const ref of refs.splice(0, 5)) loadStored(ref, dir).free();
    await waiting;
    equal(storeBacklog(dir), undefined);

    // Over half again, and nobody frees: the wait ends anyway (the consumers do not keep up), and
    // puts do not wait again, even after a free, until the ring is down to a quarter.
    for (let i = 0; i < 6; i++) refs.push(store(pattern(size, 10 + i), dir));
    const stalled = storeBacklog(dir);
    ok(stalled instanceof Promise);
    await stalled;
    equal(storeBacklog(dir), undefined, "waited again for consumers that do not keep up");
    loadStored(refs.shift()!, dir).free();
    equal(storeBacklog(dir), undefined, "waited again before the ring was down to a quarter");
    // Down to a quarter (3 blocks of 1 MiB), then over half again: waited for again.
    while (refs.length > 3) loadStored(refs.shift()!, dir).free();
    equal(storeBacklog(dir), undefined);
    for (let i = 0; i < 6; i++) refs.push(store(pattern(size, 20 + i), dir));
    const again = storeBacklog(dir);
    ok(again instanceof Promise, "consumers that caught up are waited for again");
    for (const ref of refs.splice(0)) loadStored(ref, dir).free();
    await again;
  });
});

Deno.test("item store: leaving removes a ring whose blocks are all freed and leaves one in use, which the sweep removes once freed", () => {
  const done = Deno.makeTempDirSync({ prefix: "multiproc-item-store-" });
  const busy = Deno.makeTempDirSync({ prefix: "multiproc-item-store-" });
  try {
    const read = store(pattern(20_000, 1), done);
    readAndFree(read, done, pattern(20_000, 1), "the read item");
    const first = store(pattern(20_000, 2), busy);
    const second = store(pattern(30_000, 3), busy);
    readAndFree(first, busy, pattern(20_000, 2), "the first item");
    const ring = `items-${ringOf(second)}`;
    // A ring of a realm still here: not the sweep's to remove.
    equal(ringFiles(busy).length, 1);
    equal(ringFiles(done).length, 1);

    leaveRings();
    deepStrictEqual(ringFiles(done), [], "a ring whose items were all read stayed");
    deepStrictEqual(ringFiles(busy), [ring]);
    // The sweep (the hub's, when a client leaves) leaves a ring with a block in use alone.
    equal(sweepRings(busy), true);
    deepStrictEqual(ringFiles(busy), [ring]);
    // That block still reads: the item left behind is there for its consumer.
    readAndFree(second, busy, pattern(30_000, 3), "the item left behind");
    equal(sweepRings(busy), false);
    deepStrictEqual(ringFiles(busy), [], "the sweep left a ring whose items were all read");
  } finally {
    leaveRings();
    Deno.removeSync(done, { recursive: true });
    Deno.removeSync(busy, { recursive: true });
  }
});

Deno.test("item store: a ring counts its blocks in use: up when reserved, down once when freed or released", async () => {
  await withDir((dir) => {
    const a = store(pattern(20_000, 1), dir);
    const b = store(pattern(20_000, 2), dir);
    const c = store(pattern(20_000, 3), dir);
    // Seen as the hub's sweep sees it: through a mapping of the file of its own.
    const map = mapShared(ringPath(dir, ringOf(a)), RING_FILE_BYTES, { existing: true });
    try {
      const inUse = () => Atomics.load(map.words, IN_USE_WORD);
      equal(inUse(), 3);
      const block = loadStored(a, dir);
      block.free();
      equal(inUse(), 2);
      // Freed twice (a bug elsewhere): counted once, and the block is not freed again.
      block.free();
      equal(inUse(), 2);
      releaseStored(b);
      releaseStored(b);
      equal(inUse(), 1);
      readAndFree(c, dir, pattern(20_000, 3), "the third item");
      equal(inUse(), 0);
    } finally {
      map.unmap();
    }
  });
});

Deno.test("item store: the sweep leaves the rings of realms still here alone", async () => {
  await withDir((dir) => {
    const ref = store(pattern(20_000, 1), dir);
    readAndFree(ref, dir, pattern(20_000, 1), "the item");
    // All freed, but its realm has not left (it may write more): it holds the ring's lock.
    equal(sweepRings(dir), false);
    equal(ringFiles(dir).length, 1);
    // What the sweep ignores: a ring being made (not yet locked), and other files.
    Deno.writeFileSync(`${dir}/items-abcdefgh.making`, new Uint8Array(8));
    Deno.writeFileSync(`${dir}/items-other`, new Uint8Array(8));
    equal(sweepRings(dir), false);
    equal(ringFiles(dir).length, 3);
    Deno.removeSync(`${dir}/items-abcdefgh.making`);
    Deno.removeSync(`${dir}/items-other`);
  });
});
