/**
 * The codec alone, measured the same way on Deno and on Node: this module
 * holds the cases and the timing loop, and runs one measurement per process
 * for `bench/codec.ts`, which starts it under both runtimes:
 *
 *     deno run -A bench/node/codec.mjs _internal/codec.ts <impl> <case> <samples> [--quick]
 *     node bench/node/codec.mjs <npm build>/_internal/codec.js <impl> <case> <samples> [--quick]
 *
 * An implementation is the multiproc codec's encode+decode, `node:v8`'s
 * serialize+deserialize or, where JSON can carry the value,
 * `JSON.stringify`+`JSON.parse`; each sample is µs of CPU time per value,
 * the mean of a batch sized to take about 100 ms (20 ms with `--quick`) of
 * CPU time, long enough to take in the collections of the garbage a round
 * trip leaves (a 64 KiB array's round trips on Node took 7–10 µs between
 * them and 150–300 µs with one), after a warm-up of at least 1 s (100 ms)
 * and 4,000 round trips: the collector sizes its heap to the garbage as it
 * goes (`node:v8`'s small object took 12–15 µs a round trip over its first
 * 100,000 round trips and 5–7 after). One implementation per process (see
 * {@linkcode measureOne}); stdout gets one JSON line with its samples.
 *
 * Plain JavaScript so that Node runs it as it is (no TypeScript step).
 */
import process from "node:process";
import v8 from "node:v8";
import { pathToFileURL } from "node:url";

/**
 * THE adapter: how the bench calls multiproc's codec, given the module
 * (`_internal/codec.ts`, or `_internal/codec.js` of the npm build).
 *
 * The binary form a queue item takes: `encodeBytes` (the codec's tree in
 * the MessagePack of `wire.ts`, written in one walk by `bytes_codec.ts`)
 * and `decodeBytesSync`.
 *
 * @param {any} codec The codec module's namespace.
 * @returns {{ name: string, encode: (value: unknown) => unknown, decode: (data: any) => unknown }}
 */
export function ours(codec) {
  const OPTIONS = { context: "Cannot encode the bench value as", root: "value" };
  return {
    name: "encodeBytes + decodeBytesSync (binary)",
    encode: (value) => codec.encodeBytes(value, OPTIONS),
    decode: (bytes) => codec.decodeBytesSync(bytes),
  };
}

/** `node:v8`'s structured clone serialization: the baseline. */
const V8 = {
  encode: (value) => v8.serialize(value),
  decode: (buffer) => v8.deserialize(buffer),
};

/** JSON, where the value is JSON-native. */
const JSON_TEXT = {
  encode: (value) => JSON.stringify(value),
  decode: (text) => JSON.parse(text),
};

const KIB_STRING = Array.from({ length: 1024 }, (_, i) => "abcdefghijklmnopqrstuvwxyz"[i % 26])
  .join("");

function bytes64k() {
  const array = new Uint8Array(64 * 1024);
  for (let i = 0; i < array.length; i++) array[i] = (i * 31) & 0xff;
  return array;
}

/**
 * The cases: a value, whether JSON carries it, and a check that a decoded copy is equal (run once
 * per implementation before timing, so that no implementation is timed doing less).
 */
export const CASES = [
  {
    name: "small object",
    value: { id: 42, name: "item-00042", tags: ["red", "green", "blue"] },
    json: true,
    check: (v) => v.id === 42 && v.name === "item-00042" && v.tags.join() === "red,green,blue",
  },
  {
    name: "1 KiB string",
    value: KIB_STRING,
    json: true,
    check: (v) => v === KIB_STRING,
  },
  {
    name: "64 KiB Uint8Array",
    value: bytes64k(),
    json: false,
    check: (v) =>
      v instanceof Uint8Array && v.length === 64 * 1024 && v[1] === 31 && v[65535] === 0xe1,
  },
  {
    name: "Map/Date/BigInt mix",
    value: {
      when: new Date(1_700_000_000_000),
      counts: new Map([["a", 1], ["b", 2], ["c", 3]]),
      big: 2n ** 70n,
      seen: new Set([1, 2, 3]),
      note: "mixed",
    },
    json: false,
    check: (v) =>
      v.when instanceof Date && v.when.getTime() === 1_700_000_000_000 &&
      v.counts instanceof Map && v.counts.get("c") === 3 && v.big === 2n ** 70n &&
      v.seen instanceof Set && v.seen.has(3) && v.note === "mixed",
  },
];

/**
 * This process's CPU time (user and system), in µs: what the samples count
 * rather than the time on the clock, which, on a machine whose cores are busy
 * with other work, also counts the time this process waits for one. The
 * codec runs in this process and its thread, but the CPU time also counts
 * the runtime's helper threads (garbage collection, the freeing of buffers),
 * work that the code measured causes.
 */
function cpuMicros() {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** Largest batch: keeps every loop bounded even if a clock misbehaves. */
const MAX_BATCH = 1_000_000;

/** Fewest round trips of warm-up, however long they take. */
const WARM_RUNS = 4000;

/**
 * The batch size that makes `roundTrip` take about `batchMs`: found by doubling it (which also
 * warms the code up) until a batch takes at least a quarter of that, then running such batches
 * for at least `warmMs` and {@linkcode WARM_RUNS} round trips, and sizing it by the last quarter
 * of them. A process's first round trips are slower than the rest by far (code not yet optimised,
 * a heap and allocator that have not settled): measured on Node, a 64 KiB array's first ~2,000
 * took 230–430 µs each with `node:v8` and 25–690 with ours, and 8–60 later on; samples of a batch
 * sized and taken sooner measured the warm-up.
 */
function calibrate(roundTrip, batchMs, warmMs) {
  let batch = 1;
  for (;; batch *= 2) {
    const t0 = cpuMicros();
    for (let i = 0; i < batch; i++) roundTrip();
    const ms = (cpuMicros() - t0) / 1000;
    if (ms >= batchMs / 4 || batch >= MAX_BATCH) break;
  }
  const times = [];
  let runs = 0;
  const t0 = cpuMicros();
  do {
    const t1 = cpuMicros();
    for (let i = 0; i < batch; i++) roundTrip();
    times.push(cpuMicros() - t1);
    runs += batch;
  } while ((cpuMicros() - t0 < warmMs * 1000 || runs < WARM_RUNS) && runs < MAX_BATCH);
  const last = times.slice(-Math.max(1, times.length >> 2));
  const micros = last.reduce((sum, t) => sum + t, 0);
  const perRun = Math.max(micros, 1) / (last.length * batch);
  return Math.min(MAX_BATCH, Math.max(1, Math.round((batchMs * 1000) / perRun)));
}

/** The implementations by name: multiproc's codec (through {@linkcode ours}), `node:v8`, JSON. */
export const IMPLS = ["ours", "node:v8", "JSON"];

/**
 * Measures one implementation on one case, in this process: the implementation's decoded copy is
 * checked once, its batch sized by {@linkcode calibrate}, then `samples` batches timed, each
 * sample µs of this process's CPU time per encode+decode, the mean of a batch.
 *
 * One implementation per process, because each must pay for its own garbage: the buffers a
 * round trip leaves (64 KiB ones, for the array) are freed by the collector later, in whatever
 * code runs then. With implementations taking turns in one process, `node:v8`'s buffers were
 * freed during multiproc's batches and the reverse (a 64 KiB round trip measured 8 µs for
 * `node:v8` and 24 for ours taking turns, 40 and 10 each in a process of its own).
 *
 * @param {any} codec The codec module's namespace.
 * @param {string} impl One of {@linkcode IMPLS}.
 * @param {number} index The case's index in {@linkcode CASES}.
 * @param {{ quick: boolean, samples: number }} options
 * @returns {{ samples: number[], detail: Record<string, unknown> }}
 */
export function measureOne(codec, impl, index, { quick, samples }) {
  const c = CASES[index];
  const codecImpl = impl === "ours" ? ours(codec) : impl === "node:v8" ? V8 : JSON_TEXT;
  if (c === undefined || !IMPLS.includes(impl) || (impl === "JSON" && !c.json)) {
    throw new RangeError(`Cannot measure ${impl} on case ${index}: no such pair`);
  }
  const encoded = codecImpl.encode(c.value);
  if (!c.check(codecImpl.decode(encoded))) {
    throw new Error(`${impl} did not give back an equal ${c.name}`);
  }
  const size = typeof encoded === "string"
    ? new TextEncoder().encode(encoded).length
    : encoded.byteLength;
  const roundTrip = () => codecImpl.decode(codecImpl.encode(c.value));
  const batch = calibrate(roundTrip, quick ? 20 : 100, quick ? 100 : 1000);
  const out = [];
  for (let s = 0; s < samples; s++) {
    const t0 = cpuMicros();
    for (let i = 0; i < batch; i++) roundTrip();
    out.push((cpuMicros() - t0) / batch);
  }
  return { samples: out, detail: { batch, encoded_bytes: size } };
}

/**
 * Run as a script (by `bench/codec.ts`, under Deno or Node), measures one implementation on one
 * case and prints one JSON line, `{ runtime, samples, detail }`:
 *
 *     <deno run -A | node> bench/node/codec.mjs <codec module> <impl> <case index> <samples> [--quick]
 */
const isMain = typeof Deno !== "undefined"
  ? import.meta.main
  : import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const [codecPath, impl, index, samples, ...flags] = process.argv.slice(2);
  const codec = await import(pathToFileURL(codecPath).href);
  const measured = measureOne(codec, impl, Number(index), {
    quick: flags.includes("--quick"),
    samples: Number(samples),
  });
  const runtime = typeof Deno !== "undefined" ? `Deno ${Deno.version.deno}` : `Node ${process.version}`;
  console.log(JSON.stringify({ runtime, ...measured }));
}
