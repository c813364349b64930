/**
 * The codec alone, measured the same way on Deno and on Node: this module
 * holds the cases and the timing loop, and is imported by `bench/codec.ts`
 * (Deno, with `_internal/codec.ts`) and run by it under Node:
 *
 *     node bench/node/codec.mjs <npm build>/_internal/codec.js [--quick]
 *
 * For each case, the multiproc codec's encode+decode, `node:v8`'s
 * serialize+deserialize and, where JSON can carry the value,
 * `JSON.stringify`+`JSON.parse`, in µs of CPU time per value. Each sample is
 * the mean of a batch sized to take about 20 ms (5 ms with `--quick`) of CPU
 * time, after a warm-up of 200 ms (50);
 * the implementations' batches take turns, case by case.
 * Under Node, stdout gets one JSON line with each measurement's raw samples,
 * which `bench/codec.ts` summarises; progress goes to stderr.
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

/**
 * The batch size that makes `roundTrip` take about `batchMs`: found by doubling it (which also
 * warms the code up) until a batch takes at least a quarter of that, then measured again over
 * `warmMs` of running it. The first batches are slower than the rest by far (code not yet
 * optimised, a heap and allocator that have not settled: a 64 KiB array's first few hundred
 * round trips took 3–10 times as long as later ones), so a batch sized by them alone was small
 * and its samples measured the warm-up.
 */
function calibrate(roundTrip, batchMs, warmMs) {
  let batch = 1;
  for (;; batch *= 2) {
    const t0 = cpuMicros();
    for (let i = 0; i < batch; i++) roundTrip();
    const ms = (cpuMicros() - t0) / 1000;
    if (ms >= batchMs / 4 || batch >= MAX_BATCH) break;
  }
  let runs = 0;
  const t0 = cpuMicros();
  do {
    for (let i = 0; i < batch; i++) roundTrip();
    runs += batch;
  } while (cpuMicros() - t0 < warmMs * 1000 && runs < MAX_BATCH);
  const ms = (cpuMicros() - t0) / 1000;
  return Math.min(MAX_BATCH, Math.max(1, Math.round((runs * batchMs) / Math.max(ms, 1e-3))));
}

/**
 * Measures every case with multiproc's codec (through {@linkcode ours}), `node:v8` and JSON: per
 * case, the implementations' batches take turns (ours, node:v8, JSON, ours, …), so that all meet
 * the machine's changing load alike; each sample is µs of CPU time per encode+decode, the mean
 * of a batch.
 *
 * @param {any} codec The codec module's namespace.
 * @param {{ quick: boolean, log: (...parts: unknown[]) => void }} options
 * @returns {{ case: string, impl: "ours" | "node:v8" | "JSON", samples: number[], detail: Record<string, unknown> }[]}
 */
export function measure(codec, { quick, log }) {
  const impls = [["ours", ours(codec)], ["node:v8", V8], ["JSON", JSON_TEXT]];
  const samples = quick ? 5 : 15;
  const batchMs = quick ? 5 : 20;
  const warmMs = quick ? 50 : 200;
  const out = [];
  for (const c of CASES) {
    log(`  ${c.name}`);
    const runs = [];
    for (const [impl, codecImpl] of impls) {
      if (impl === "JSON" && !c.json) continue;
      const encoded = codecImpl.encode(c.value);
      if (!c.check(codecImpl.decode(encoded))) {
        throw new Error(`${impl} did not give back an equal ${c.name}`);
      }
      const size = typeof encoded === "string"
        ? new TextEncoder().encode(encoded).length
        : encoded.byteLength;
      const roundTrip = () => codecImpl.decode(codecImpl.encode(c.value));
      const batch = calibrate(roundTrip, batchMs, warmMs);
      const result = {
        case: c.name,
        impl,
        samples: [],
        detail: { batch, encoded_bytes: size },
      };
      runs.push({ roundTrip, batch, samples: result.samples });
      out.push(result);
    }
    for (let s = 0; s < samples; s++) {
      for (const { roundTrip, batch, samples } of runs) {
        const t0 = cpuMicros();
        for (let i = 0; i < batch; i++) roundTrip();
        samples.push((cpuMicros() - t0) / batch);
      }
    }
  }
  return out;
}

// Under Node (not when bench/codec.ts imports this module): measure the npm build's codec.
if (typeof Deno === "undefined" && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [codecPath, ...flags] = process.argv.slice(2);
  const codec = await import(pathToFileURL(codecPath).href);
  const log = (...parts) => console.error(...parts);
  log(`Node ${process.version}, ${ours(codec).name}:`);
  const results = measure(codec, { quick: flags.includes("--quick"), log });
  console.log(JSON.stringify({ node: process.version, results }));
}
