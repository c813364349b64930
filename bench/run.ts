#!/usr/bin/env -S deno run -A
/**
 * `deno task bench`: each benchmark's Python baseline and its Deno
 * counterpart, run one after the other in the same run, compared case by
 * case.
 *
 * ```sh
 * deno task bench                                  # all benchmarks, table on stdout
 * deno task bench --quick --only process_start     # smaller sizes, one benchmark
 * deno task bench --write                          # also regenerate BENCHMARKS.md
 * deno task bench --json bench/results/run.json    # everything, raw samples included
 * ```
 *
 * To add a benchmark, write `bench/<name>.ts` (one JSON line, see
 * `_bench.ts`) next to `bench/python/<name>.py` and append an entry to
 * {@linkcode BENCHMARKS}: which cases compare, and what limits the numbers.
 *
 * The scripts never run concurrently (the machine has few, noisy cores), a
 * failing or missing script is reported in its table instead of ending the
 * run, and the run exits with code 1 if anything failed.
 *
 * @module
 */

import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { type BenchLine, median, type Result, round4 } from "./_bench.ts";

/** One row of a comparison table. */
interface Comparison {
  /** Case name in the Deno script's results. */
  deno: string;
  /** Case name in the Python script's results; omitted for a Deno-only case (a floor). */
  python?: string;
}

/** A Python baseline and its Deno counterpart. */
interface Benchmark {
  /** The `bench` name both scripts print; also their file name (`<name>.py`, `<name>.ts`). */
  name: string;
  /** Section title in BENCHMARKS.md. */
  title: string;
  /** What the cases measure (markdown). */
  about: string;
  /** The table's rows, in order; cases not listed are appended at the end. */
  compare: Comparison[];
  /**
   * Runs of the Python script and the Deno script, alternating (Python, Deno, Python, …), whose
   * samples are pooled per case: on a shared machine whose load drifts, both sides then meet it
   * alike. `--quick` runs one round.
   *
   * @default {1}
   */
  rounds?: number;
  /** "What limits it" (markdown), hand-written here so that it survives `--write`. */
  limits: string;
  /**
   * What multiproc is compared with when it is not CPython (e.g. `"piscina"`): then no Python
   * script runs, and the Deno script measures the baseline itself and reports it in its JSON
   * line's `baseline_results`, each baseline case run right before or after its multiproc case.
   *
   * @default {"Python"}
   */
  baseline?: string;
}

/** "What limits it" for redis (measured while it was written: \`INFO commandstats\` of a run). */
const REDIS_LIMITS = `
- **"100 in flight" is batched, and meets the 2× goal.** Each process sends the puts, the gets
  and the \`taskDone()\` acknowledgements it makes while one of their kind is in flight as one Lua
  script call (\`XADD\` of each item with one bound check, \`XREADGROUP COUNT n\` for n waiting
  gets, one \`XACK\` + \`XDEL\` per id), and the waiting gets of one consumer share one blocking
  \`XREADGROUP\` (it was one connection each, about 400 in a 1,000-item run). A profile of 1,000
  items through one producer and one consumer object (\`INFO commandstats\`): 0.09 script calls
  and 23 µs of Redis time per item, against 3.01 calls and 83 µs one item at a time. There is no
  prefetch: a get script takes one entry per \`get()\` waiting, so every item is in the pending
  list of a consumer that asked for it (delivery counts and redelivery after a SIGKILL stay exact).
  What is left is client work: encoding and decoding each item and a promise chain per call, about
  160 µs per item in that one-process profile, on 2 cores shared by 5 processes.
- **One item at a time is latency, which batching cannot remove.** Each \`await put()\` waits for
  Redis's acknowledgement before the next one starts, and each consumer's loop waits for its get:
  per item a put script, a get script (plus a blocking \`XREADGROUP\` and a state-publishing
  script when the consumer found the queue empty) and an acknowledgement script, each alone in its
  batch. Redis spends about 83 µs per item; the rest of the ~640 µs per item (one-process profile)
  is the round trips through busy event loops. BullMQ's producers send \`addBulk\` of 100 here, so
  this row compares a latency-bound loop with a bulk one: it stays below BullMQ.
- **Every change is still published to every process** (so that \`qsize()\`, \`empty()\` and
  \`unfinishedTasks()\` stay synchronous snapshots), but now once per batch rather than once per
  item. A run with publishing switched off moved "one item at a time" by less than the run-to-run
  noise (1,368–2,215 against 812–1,556 items/s in neighbouring runs): it is not the main cost.
- **The lock** is one Lua script per acquire (\`SET NX PX\` + \`INCR\` of the fencing counter +
  \`PUBLISH\`) and one per release (sent without waiting); a contender that fails waits for the
  published release (or re-asks every 200 ms), so under contention each hand-over costs a
  publish, a wake-up and a new round trip.
- **The machine was busy.** Other jobs shared its 2 cores (the run above says its load): both
  columns are below what the same code does on an idle machine, and the medians of 3 repetitions
  move by tens of percent from run to run (\`detail.samples\` in the JSON; "100 in flight" ranged
  from 6,900 to 20,400 items/s and BullMQ \`addBulk\` from 2,000 to 4,400 in the runs made while
  this was written; the medians of the two runs of the final code were 3.7× and 4.1× BullMQ
  \`addBulk\`).
`;

/** "What limits it" for codec (from two \`--quick\` runs while it was written, on a busy machine). */
const CODEC_LIMITS = `
- **Binary data crosses as it is.** The codec walks the value straight into MessagePack
  (\`_internal/bytes_codec.ts\`, with the writer and reader of \`_internal/wire.ts\`), a typed array's
  bytes as one \`bin\`, copied once into the result (from 4 KiB on they are not copied into the write
  buffer first). Encoded results of up to 256 KiB are carved from shared 1 MiB blocks (on Node not
  zeroed, \`Buffer.allocUnsafeSlow\` through the runtime adapter's \`uninitializedBytes\`: zeroing a
  block cost as much as copying 64 KiB into it), so a round trip allocates one fresh buffer, the
  decoded copy, exactly the array's size. \`node:v8\`'s \`deserialize\` returns a view into the
  serialized buffer instead (whose \`.buffer\` is that whole buffer: for a queue item, the whole
  frame it came in), but its \`serialize\` allocates a fresh \`Buffer\` each time.
- **Each implementation pays for its own garbage.** A round trip's buffers are freed by the
  collector later, in whatever code runs then. Until 2026-12-02 the implementations took turns in
  one process, and each batch paid for the garbage of the batches before it: on Node the 64 KiB
  array measured 8–9 µs for \`node:v8\` and 24–30 for ours that way (0.26–0.53×, recorded as missing
  the goal of "within 2×"), but 40 µs for \`node:v8\` and 10.5 for ours each in a process of its
  own (medians of 30 means of 1,000 round trips, after 3,000 of warm-up, three runs each;
  2026-12-02, the means ranging 20–129 and 8–73). So each
  implementation now runs in a process of its own (\`measureOne\` in \`bench/node/codec.mjs\`), the
  processes taking turns, with batches of 100 ms (a collection of a 64 KiB array's garbage took a
  round trip from 7–10 µs to 150–300) after at least 1 s and 4,000 round trips of warm-up (the
  collector sizes its heap as it goes: \`node:v8\`'s small object took 12–15 µs a round trip over
  its first 100,000 and 5–7 after). A longer warm-up favours \`node:v8\` here, whose garbage costs
  more. Each call of \`node:v8\` also leaves native objects for the collector, so its small-value rows
  vary most: its small object on Node took 3 µs taking turns, and 8–33 µs per batch in a process of
  its own. Before the binary form, the bytes were base64 inside JSON: 1.1–4.6 ms on Node, whose V8 has
  no native base64.
- **Small values are one walk each way.** The encoder writes strings, numbers, booleans, \`null\`,
  arrays and plain objects straight into the write buffer, and Maps, Sets, Dates, bigints,
  \`undefined\` and typed arrays as their tagged nodes; the reader builds arrays and objects as it
  reads them, numbering them for shared references and cycles, and finds short map keys in a cache
  of the keys it has read. Only errors, handles, class instances, boxed primitives and RegExps still
  go through the tree of the JSON form (\`_internal/json_codec.ts\`, sharing the object numbers), and
  a value that holds handles or class instances is read as a tree, so that \`decode()\` imports their
  modules first. Strings are UTF-8 behind a length (\`TextEncoder.encodeInto\` and \`TextDecoder\` for
  long ones, by hand for short ASCII ones). Against the codec's previous JSON form (the same walk,
  then JSON), measured alone (CPU time per round trip, medians of 20 batches, three alternating runs
  each): a small object 1.25–1.32 µs against 1.79–2.00 on Node and 1.15–1.42 against 1.47–1.53 on
  Deno, the Map/Date/BigInt mix 3.4–4.3 against 5.1–6.0 on Node and 3.1–3.3 against 4.5–4.7 on Deno
  (the previous binary form, walking into a tree first, took 1.78–1.91 and 4.9–6.1 µs on Node,
  1.60–1.76 and 4.4–4.8 on Deno, in the same runs). \`JSON.stringify\`/\`parse\` run in C++ and stay
  ahead for small objects (the "(reference)" rows), but JSON has no bytes and escapes strings.
  \`node:v8\` has a fixed cost per call that dominates small values: on Deno it is a compatibility
  layer (about 9 µs for a small object), on Node its native serializer (about 3–7 µs).
- **Map/Date/BigInt/Set** are tagged maps in the bytes (\`{ $t: "map", v: [[k, v], …] }\` and so on),
  written and read without building them as objects (a Date or a bigint is read as a small node
  first); \`node:v8\` writes them as they are.
- **Samples are means of batches** of about 100 ms of the process's CPU time (not the clock's,
  which on a busy machine also counts the waits for a core), three per process, three processes
  per implementation and case, taking turns so that all meet the machine's load alike. CPU time
  counts the collector's helper threads too. Read ratios, not absolute times.
`;

/** "What limits it" for pool. */
const POOL_LIMITS = `
- **Two cores, shared.** Two workers can only double the throughput of one when both cores are
  free for them: the parent, and any other work on the machine (see the run line's load average),
  take their share. The CPU-bound speed-up is the figure this hurts most, and Python's run and ours
  come one after the other, so they may meet different load; on a loaded machine it says little
  more than "both parallelise". With fib(32) taking ~100 ms instead of ~26 ms in-process, as under
  a load average of 20, each worker also gets only part of a core.
- **\`Pool.map\` of tiny items is bound by the workers' encode and decode.** With the default
  chunksize the 200,000 items go as 8 chunks of 25,000, one frame each way per chunk over the
  worker's Unix socket, so messages cost nothing; what is left is the codec and the MessagePack of
  25,000 numbers in both directions in each worker, against Python's pickle (C code) of a list of
  ints. The figure is also the noisiest here (min and max in the JSON differ by up to several
  times, on both sides), as one map takes 25–60 ms.
- **The CPU-bound speed-up was the pool's to fix.** It measured 0.70× Python's when a worker that
  had just run many tiny tasks was allowed dozens of chunks at once, so 14 or 15 of the 16 long
  tasks queued on one worker. Dispatch now sizes a worker's share from a per-function average of
  time per item across all workers (an untimed function gets one chunk at a time), and a worker
  busy with back-to-back chunks reads the pool's messages every 50 ms; the tasks now split 8/8.
- **\`apply\` round trip** is one frame to the worker and one back, plus a Promise: well under
  Python's, whose result comes back through a result-handler thread and a pipe, with GIL hand-offs.
- **20k submits** are batched: the submits made in one turn of the event loop leave as one frame
  per worker, and results come back batched, where Python's executor moves every work item through
  its call queue, a feeder thread and a management thread.
- **Threads pay for Deno's \`node:worker_threads\` layer.** \`ThreadPool\` and
  \`ThreadPoolExecutor\` run on Deno's \`node:worker_threads\` compatibility layer, whose
  \`postMessage\` structured-clones every message and then walks it looking for MessagePorts. A
  batch of 64 or more plain items or results therefore crosses as one MessagePack buffer whose
  \`ArrayBuffer\` is transferred, not copied (measured: a 25,000-number chunk round trip of 7–22 ms
  as an array of objects, 1.7 ms as a transferred buffer); smaller batches, and anything holding
  a handle or another codec value, are cloned as before. A single task's round trip is quicker on
  a thread than on a process (no socket, no system call).
`;

/** "What limits it" for pool_node. */
const POOL_NODE_LIMITS = `
- **Batching is the difference at 20k concurrent tasks.** piscina posts every task as its own
  message and wakes a thread for it; multiproc sends the tasks submitted in one turn of the event
  loop to each worker as one message and gets their results back batched, so a no-op task costs a
  fraction of a message.
- **The sequential round trip** is one message each way on both; the floor row (a bare worker that
  posts back what it gets, no pool) is what a message each way costs on its own here. piscina's
  worker by default (\`atomics: "sync"\`) blocks in \`Atomics.wait\` between tasks instead of
  returning to its event loop, so a task wakes it through a futex; the price, in piscina's README, is
  that a worker's un-awaited async work is paused between tasks. multiproc's workers stay on their
  event loop (a task's promises, timers and \`taskSignal()\` keep working). On top of the message,
  multiproc adds its codec and the \`AsyncResult\` or \`Future\`. Its round trip was 15–25 µs
  above piscina's in earlier runs; in the quiet run recorded here the two are within 10% of each
  other, multiproc's slightly slower: the goal of a round trip no slower than piscina's is missed
  by about the runs' own noise.
- **The CPU-bound speed-up** is the cores' (see the first point of the \`pool\` section): both
  pools run 16 × fib(32) on 2 threads with the task's code compiled (warmed up first); neither
  adds per-task work that matters against ~30 ms of computing, so on a loaded machine both end
  near what the scheduler gives them. Run back to back in one Node process (16 tasks on piscina,
  then on \`ThreadPool\`, four times, load average ~5), a fib(32) took 44–69 ms inside either
  pool's threads against 26–29 ms in-process, and the speed-ups were 0.73–1.14 (piscina) and
  0.86–1.06 (multiproc): the table's gap between the two is the load's doing.
- piscina runs with \`minThreads\` = \`maxThreads\` = 2 and a long \`idleTimeout\`, so that
  neither pool starts threads while measured.
`;

/** "What limits it" for tcp_echo (long, so kept out of the list). */
const TCP_ECHO_LIMITS = `
- **Two cores, and the load generator needs one.** The load generator and the servers share the
  machine's 2 cores, and the generator (one Deno thread, about 11 µs per round trip) tops out
  near 90,000 round trips/s with both cores busy: its own and the server's. Every server that
  keeps up with it ("async", both prefork modes, and Python's threading server on a good run) lands
  near that ceiling at 32 connections, so the table cannot show a server using more than one core.
  Prefork pays off where there are cores to spare; "async" never uses more than one. The goal of
  prefork at 2× \`ThreadingTCPServer\` with 32 connections is therefore met only in runs where
  Python's server falls behind (see the next point): 2.1–2.8× in two runs while this benchmark
  was written, 1.1–1.2× in a third.
- **Python's \`ThreadingTCPServer\` at 32 connections swings** from about 15,000 to 85,000 round
  trips/s between windows and runs (\`detail.samples\` in the JSON): 32 threads take turns on the
  GIL, which each reply needs, and sometimes they convoy; ours vary much less around their
  median. With 1 and 8 connections a Python thread blocking in \`recv\`/\`sendall\` costs less
  per round trip than Deno's async \`read\`/\`write\` (a promise and an event-loop turn each),
  and Python is usually ahead.
- **"thread" and "process" relay every byte.** Deno cannot pass a socket to another process or
  thread, so the server keeps each TCP connection and copies its bytes to the runner over a Unix
  socket and back: two more socket hops per round trip (about 40 µs, the Unix round trip measured
  in the platform notes), and all connections share the server's one thread, which caps them
  together near the one-connection rate. Python's \`fork\` server hands the accepted socket to the
  child, which then talks to the client directly, so it is as fast as a single-process server. When
  throughput matters, use prefork (no relay). Passing the socket itself is possible only through
  \`node:child_process\` (\`send(msg, socket)\`), which starts children with all permissions; the
  library does not do that.
- **New connections in "process" mode are process starts.** Like the seed, every connection gets
  a fresh process, and a fresh Deno runtime costs about 40–50 ms of CPU (the process_start
  benchmark: runtime start-up, the library's child bootstrap, importing the handler's module)
  where \`fork()\` copies a warm Python in a few milliseconds. So the rate is how many runtimes
  the cores can start per second: tens against Python's hundreds, and no pool changes that.
  What the pre-started processes (\`workers\`, 2 by default) change is the wait of an occasional
  client: its first reply came after about 10 ms with 2 waiting processes against about 80 ms
  with none (measured separately with a client every 400 ms). "process, reused"
  (\`connectionsPerRunner: 0\`) keeps its processes and beats \`fork\` by several times.
- **New connections in "thread" mode** reuse threads; each costs a header frame to an idle thread,
  a "done" frame back and a few Unix-socket hops (about 0.5 ms of latency), while Python starts a
  thread per connection. Prefork and "async" accept and serve in place, and are several times
  faster than both Python servers.
`;

/** Every benchmark pair, in the order they run and appear in BENCHMARKS.md. */
const BENCHMARKS: Benchmark[] = [
  {
    name: "process_start",
    title: "Process start+join",
    about: `
Wall time from \`start()\` to \`join()\` returning for a process whose target does nothing
(\`export function noop() {}\`): here start-up _is_ the work. "1 at a time" is the median of 20
sequential start+joins, "10 at once" the median of 5 rounds of starting 10 and then joining all 10.
The Deno-only rows are floors: \`deno run\` of an empty file (alone and 10 at once); a library-free
"bootstrap-like" child that reads \`{module, export}\` from a pipe, imports the module and calls the
export; and the library's real child entry point, \`process/_bootstrap.ts\`, run with stdin closed
(it loads its modules and exits). The Deno script's JSON line also records each child's CPU time
(\`detail.child_cpu_ms\`).
`,
    compare: [
      { deno: "1 at a time", python: "spawn 1 at a time" },
      { deno: "1 at a time", python: "fork 1 at a time" },
      { deno: "10 at once", python: "spawn 10 at once" },
      { deno: "10 at once", python: "fork 10 at once" },
      { deno: "bare deno run" },
      { deno: "bare deno run, 10 at once" },
      { deno: "bootstrap-like deno run" },
      { deno: "bootstrap, no start message" },
    ],
    limits: `
- **Every child is a fresh Deno runtime.** Deno has no \`fork()\`: a running Deno is
  multi-threaded (V8's platform threads, the Tokio runtime), and \`fork()\` copies only the calling
  thread, so a forked isolate would wait forever on locks held by threads that no longer exist. Node
  is in the same position (its \`child_process.fork\` is spawn plus an IPC channel). So the floor is
  "bare deno run": exec of the binary, V8 start-up from its snapshot, config discovery, exit. No
  library code can go below it.
- **Against Python's \`spawn\`** (the like-for-like start method) multiproc wins: \`spawn\` starts
  a fresh interpreter, imports \`multiprocessing\`, unpickles its preparation data and re-imports
  the main module before it can call the target, and the interpreter alone starts slower than Deno:
  when this was written, \`python3 -c pass\` took about 45 ms on this machine, a bare \`deno run\`
  about 20 ms.
- **Against \`fork\`** multiproc loses by an order of magnitude, and always will: a forked child is
  a copy-on-write image of an interpreter that is already running, so it has nothing to start or
  import. Python code that starts a process per small task relies on that; with multiproc (as with
  Python on macOS and Windows, where \`spawn\` is the default) keep children alive and send them
  work.
- **The library's own share** is "1 at a time" minus "bootstrap-like deno run", the library-free
  child that does the same steps (read a start message from a pipe, import the target's module at
  run time, call it, exit). \`start()\` takes under a millisecond in the parent; the share is in the
  child, and it is mostly loading the library's child-side modules ("bootstrap, no start message"
  minus "bare deno run"): TypeScript served from Deno's transpile cache, but still compiled and
  evaluated by V8 in every child. It is the part the library can shrink, by loading less in the
  child.
- **"10 at once" is CPU-bound.** A Deno child uses about as much CPU time as its wall time alone
  (\`detail.child_cpu_ms\` in the JSON), so 10 children on N cores cannot finish in less than
  10 × that ÷ N ms. On 2 cores both "10 at once" and "bare deno run, 10 at once" are close to that
  bound: starting children concurrently only helps up to the number of cores.
`,
  },
  {
    name: "queue_throughput",
    title: "Queues between processes",
    about: `
Items per second through a queue between processes, start-up not timed (children signal ready and
wait for a start Event). "1 producer -> 1 consumer": a producer child puts N items (400k small
\`item-00042\` strings, 300k 1 KiB strings, or 10k fresh 64 KiB \`Uint8Array\`s, Python:
\`bytes\`, numbered in their first bytes), a consumer child gets them and checks their order; the
clock stops when the consumer reports. "Pipe round trip": the parent sends a small string on its
end of a \`Pipe()\` and a child sends it back, 2k times after 100 untimed ones, in µs per round
trip (Python: \`multiprocessing.Pipe()\` to a \`spawn\` child; its queue cases use \`fork\`).
"JoinableQueue 3 producers / 2 consumers": 180k items, daemon consumers call \`taskDone()\` per
item, the clock stops when the producers are joined and \`join()\` has returned. "Queue(3)": 20k
small strings through the seed's bounded queue; "Queue(1000)": 400k through a bounded queue with
room for a backlog. "PriorityQueue": 20k \`[i % 100, small string]\`
entries (Python has no \`multiprocessing\` PriorityQueue: a \`BaseManager\` serving
\`queue.PriorityQueue\`, as Python shares one between processes). Each case runs
for about a second or more on both sides, so that start-up (on our side, V8 compiling the hot
paths) does not dominate it: with 20k 1 KiB items, as this table had before, the same code
measured 0.76× Python; with 100k the code of that time measured 0.88–1.5× (both
sides vary by a third from run to run on this shared machine). Likewise the small strings: with
100k, as this table had until 2026-12-02, our side ran about 0.35 s, half of it with children
still compiling their hot paths (in a timeline of 400k, the consumer took 240–550 ms for its first
50k items and 40–100 ms for each later 50k), and measured 2.0× Python in the last run
of 2026-12-01 and 2.7× in the first of 2026-12-02;
with 400k, 3.1–4.6×, Python's rate being the same at both sizes (95k–144k items/s on this machine,
from run to run). And the 1 KiB strings: with 100k, as this table had until 2026-12-02, our side
ran 0.3–0.5 s, of which the first 20k items took 150–200 ms and each later 20k 30–50 (a timeline
on another machine of the same kind), and measured 1.4–1.5× Python in two alternating pairs of
runs where 300k measured 1.9–2.1×, Python's rate again the same at both sizes (139k–175k items/s).
The Deno-only row is the floor: the
same small items as frames of 256 over one Unix socket from a child to the parent, with no queue
at all.
`,
    compare: [
      {
        deno: "Queue 1 producer -> 1 consumer, small str",
        python: "Queue 1 producer -> 1 consumer, small str",
      },
      {
        deno: "Queue 1 producer -> 1 consumer, 1 KiB str",
        python: "Queue 1 producer -> 1 consumer, 1 KiB str",
      },
      {
        deno: "Queue 1 producer -> 1 consumer, 64 KiB Uint8Array",
        python: "Queue 1 producer -> 1 consumer, 64 KiB bytes",
      },
      {
        deno: "Queue(3) 1 producer -> 1 consumer, small str",
        python: "Queue(3) 1 producer -> 1 consumer, small str",
      },
      {
        deno: "Queue(1000) 1 producer -> 1 consumer, small str",
        python: "Queue(1000) 1 producer -> 1 consumer, small str",
      },
      { deno: "Pipe round trip", python: "Pipe round trip" },
      {
        deno: "JoinableQueue 3 producers / 2 consumers",
        python: "JoinableQueue 3 producers / 2 consumers",
      },
      {
        deno: "PriorityQueue 1 producer -> 1 consumer, [priority, small str]",
        python: "PriorityQueue 1 producer -> 1 consumer, (priority, small str)",
      },
      { deno: "raw Unix socket, framed batches (floor)" },
    ],
    limits: `
- **A small item crosses two sockets and a hub; a large one, only its reference.** A queue's state
  lives in the hub of the process that created it (a helper thread), so an item goes producer → hub
  → consumer. Python's \`mp.Queue\` is one pipe from producer to consumer. In each frame (MessagePack,
  see README's "How it works") an item is its encoded bytes, written straight in by the producer,
  kept undecoded by the hub and decoded once by the consumer: no JSON, no escaping, no base64. An
  item of 768 bytes or more (the 1 KiB and 64 KiB cases) has its bytes in shared memory instead, and
  only a 24-byte reference takes that path (below).
- **Batching is what makes it fast.** Puts made in a burst travel as one request (\`queue.putMany\`),
  a consumer with a backlog fetches up to 1024 items (1 MiB) per request and asks for the next batch
  half-way through the current one, and the hub's acknowledgements of puts ride with its next reply.
  Per item what is left is the codec and the promise of each \`await put()\`/\`await get()\`.
- **A burst of puts streams.** An unbounded queue's \`put()\` resolves in microtasks, without a round
  trip, so a loop of \`await q.put()\` never let the event loop run, and that is where a socket write
  completes: the producer gathered its whole burst (100k 1 KiB strings, or 10k 64 KiB arrays: 655
  MB) before its second frame left, with the hub and the consumer idle meanwhile, and its table of
  requests kept every item alive until the hub acknowledged it, so the garbage collector copied and
  promoted them. Now a put waits for the write in flight once a batch (64 KiB) is queued behind it,
  and a request that has left keeps only its count. In 5 alternating runs against the code before
  (load average 4–7), the producer's CPU per 100k 1 KiB items went from 650 to 330 ms and the 1 KiB
  case from 75k to 107k items/s (Python: 64k in the same runs; in a quieter set, 125k to 171k, with
  Python at 136k: Python's pipe gains more than we do when the machine is idle). With 64 KiB arrays
  the producer's page faults went from 200k to 24k per 10k items, but the rate hardly moved: the
  three processes' CPU time added up is the same (about 300 µs per item), now spent side by side.
- **Where the time goes** (small strings, measured inside the processes): once the producer has put
  everything, the consumer alone moves about 0.9 million items/s; before that, producer, hub and
  consumer share the two cores and each is busy 40–70% of the time. A batch asked for ahead takes
  about 1–2 ms to arrive: the hub answers within about 0.1 ms, the rest is waking the hub's thread
  and the consumer (a system call that wakes a sleeping thread costs tens of µs on this virtual
  machine) and reading and decoding the batch, which the consumer can only do once it stops handing
  out items (a JavaScript thread reads its socket between tasks). With 256 items per batch the
  consumer waited for every batch; with 1024 the small-string case moved about a fifth more items.
  With 1 KiB strings the producer's writes meet the hub's reads through a socket buffer of about 200
  KiB, so every couple of hundred items both sides sleep and wake once (\`strace\` counts about
  160–200 KiB per send and per receive: system calls are not where the time goes).
- **Runs vary, and machines more.** The table's run (2026-12-02 03:46Z) was on yet another virtual
  machine of the same kind, where Python was faster than on the earlier ones (its small strings at
  266k items/s); four alternating pairs of runs of one case each right after it (04:15Z, load
  average about 2) measured 1 KiB strings at 2.2–3.0× (ours 343k–457k items/s, Python 130k–177k)
  and small strings at 3.8–4.5× (ours 1.02M–1.12M, Python 246k–274k). The run of 2026-12-01 11:34Z
  and three more (10:40–11:05Z) ran on another virtual machine than the earlier stops', where both
  sides were slower
  (Python's small strings at 70–72k items/s against 110k–167k before, its Pipe round trip at 62–103
  µs): small strings 3.0–4.2×, 1 KiB strings 1.5–2.4× (11:34Z the lowest: 92k items/s
  against 100k–122k in the others, and 107k–116k in two runs of that case alone right after it), 64 KiB arrays
  1.3–1.6×, the Pipe 0.97–1.8×, JoinableQueue 2.7–4.4×, \`Queue(1000)\` 2.7–3.8×, \`Queue(3)\`
  0.19–0.23×. Earlier, six runs (02:40–03:55Z, a noisier
  machine) gave small strings 2.4–3.2×, 1 KiB strings 1.4–2.1×, Pipe 0.41–0.60×, Python's own rates
  swinging by a third from run to run; six more (04:30–05:32Z, load average 0.4–3) small strings 2.4–3.6× (Python at 110k–167k items/s), 1 KiB strings 1.6–2.0×, 64 KiB arrays
  2.2–2.5×, JoinableQueue 2.4–3.3×, and the Pipe 0.60× in the one run before its ring, 1.8–3.2× in
  the four after, and 3.9× in the last, once its spin yields (Python's round trip at 117 µs in that
  run, 60–90 µs in the others). Before those, four alternating runs against the code before it measured the 1 KiB case at 158k–201k items/s
  against 166k–216k, and small strings 433k–483k against 414k–463k (the shared-memory store's
  bookkeeping, before strings under 4 KiB skipped it, cost the 1 KiB case about 8%).
- **Per byte, 1 KiB strings inline** (before they went through shared memory, below: still the path
  of items under 768 bytes, and of every item where memory cannot be mapped; CPU per 100k items,
  measured per process): producer, hub and consumer
  take about 320, 230 and 300 ms (375, 280 and 340 before the two changes of this stop below, in the
  same alternating rounds), so a run needs most of a second of CPU on two cores shared with other
  processes, and it is the case that moves most from run to run: 2.5×, 2.2× and 1.4× Python in
  three full runs of 2026-12-02 (ours 140k, 124k and 104k items/s, Python 57k, 57k and 76k). Made
  before the start, as Python's list is, the 100k strings measured 75k–79k in three runs, against
  115k–122k made as they are put: a heap holding 100 MB of ropes costs the producer's collector more
  than making each string does. An empty fetch ahead (a consumer asking for the next batch before the producer has
  put it, about a fifth of the requests) was answered with an \`Empty\` error, a stack trace in the
  hub and another in the client, 11.6 µs; it is now an empty answer, 2.2 µs. The benchmark builds its strings as \`head + "x".repeat(…)\`, which V8 keeps as a
  rope: encoding flattens each one first (a string read from a file or made by \`JSON.stringify\` is
  flat). \`encodeInto\` flattened it on a slow path, about 0.9 µs for a 1 KiB rope against 0.12 for
  a flat string; \`writeString\` now flattens it first with a search (\`indexOf\`, about 0.3 µs),
  and in 5 alternating rounds the producer's CPU per 100k items went from 414 to 339 ms (medians)
  and the case from 101k to 117k items/s (load average 5–9). The hub's garbage collection is small
  since the fix below (\`--trace-gc\` in its isolate: about 14 scavenges and 9 ms of pauses per 100k
  items); what costs per byte is fresh memory more than copying: a \`slice()\` of a 66 KiB frame
  body (each frame's body is copied out of the read buffer, and the items are views of that copy)
  takes 8–15 µs, a \`set()\` of the same bytes into memory already there 1.5 µs. Reading the frames
  straight from the read buffer and leaving it to them (a new 256 KiB buffer per read) measured no
  better: the new buffer costs what the copies did. Handling the requests themselves (the queue's
  state, without sockets) takes about 20–40 ms of the hub's CPU per 100k items. The wire writer
  (\`wire_pack.ts\`) kept one spare write buffer per thread, so while two sessions' writes were in flight (the
  consumer's 1 MiB reply and the producer's acknowledgements) the next reply was packed into a new
  256 KiB buffer that grew three times: 3.75 MB of fresh memory per reply. It now keeps up to four:
  in 3 alternating rounds the hub's CPU per 100k 1 KiB items went from 400–440 to 270–320 ms and its
  page faults halved, and the 64 KiB case went from 5.5k to 6.5–6.9k items/s.
- **Three processes on two cores**: producer, consumer and the parent's hub thread compete for the
  cores in every Deno case, where Python's pipe needs no third party.
- **Items of 768 bytes or more skip the hub.** With the items inline, each was copied once when \`put()\` took
  it, into the frame, by the hub out of its socket and into its reply, and by the consumer into the
  array it returns, besides the kernel's copies on four socket hops; the hub alone spent about 120
  µs of CPU per item, more than Python's whole pipe (0.72–0.83× Python in this table before). Now,
  where memory can be mapped (Deno on Linux with \`--allow-ffi\`, which \`-A\` grants), the encoder
  writes an item of 768 bytes or more straight into a ring of the producer's own, a 16 MiB file in the
  hub's folder mapped by producer and consumers (\`_internal/item_store.ts\`); the queue carries a
  24-byte reference, and the consumer decodes the bytes where they are, into the array \`get()\`
  returns: two copies, as Python's pickle into the pipe and unpickle out of it. The hub still
  numbers, holds and redelivers every item, so nothing about crash safety, order or bounded queues
  changed; a block is freed only once the hub has recorded its item as used (for a
  \`JoinableQueue\`, acknowledged), since until then the hub may hand the reference to another
  consumer. CPU time per 10k items, measured inside each process (three alternating runs against
  the same code with \`MULTIPROC_SHARED_MEMORY=0\`, which keeps the items inline): producer 370–405
  ms against 920–1,050, consumer 545–670 against 650–1,100, hub 250–270 against 1,160–1,250; 11.6k–
  13.1k items/s against 5.7k–6.2k. Most of what is left is memory: the benchmark's producer makes a
  fresh 64 KiB array per item and the consumer returns one (Python does the same with \`bytes\`), 2–5
  page faults per item on each side. A producer more than half a ring ahead of its consumer waits
  for room while the consumer keeps up: without that, it filled every ring while the consumer
  started, and the rest went inline through the hub (5–6k items/s). It stops waiting for a consumer
  that does not keep up (a wait of 100 ms with no room, or three quarters of its time spent waiting
  over a second), so a slow consumer does not set an unbounded queue's producer's pace: 400 such
  puts against a consumer taking 50 a second took 4.4 s with waits alone, 1.1 s with this rule.
  (The CPU times above are of 64 KiB arrays.) Until 2026-12-02 only items of 4 KiB or more went
  this way: through the rings the hub's CPU per 100k 1 KiB strings went from about 400 to 200 ms,
  but the producer's and the consumer's rose by about as much, and the rate did not improve. The
  reference was what cost: each was a \`Uint8Array\` of its own, and an \`ArrayBuffer\` per item
  cost more than all the rest of storing a 1 KiB item. Carved from a block shared with other
  results, as encoded items are, strings through the rings moved, in alternating runs of 300k
  items each (5 samples, medians): 1 KiB 324k–421k items/s against 228k–266k inline, 2 KiB
  243k–261k against 177k–187k, 768 bytes 316k–368k against 292k; but 512 bytes 7–12% fewer than
  inline, and 256 bytes 2–17% fewer. Hence the threshold, 768 bytes of encoding.
- **A Pipe round trip crosses shared memory, with a spin.** \`Pipe()\` is two queues in the hub of
  the process that created them, so its first messages go parent → hub → child and back, four hops
  each an event-loop wake-up (607 µs per round trip, 0.14× Python, two stops ago). Once both ends
  have sent and received, the sender offers a Unix socket of its own on the queue and the receiver
  connects (README, "How it works"): one write and one read per message, 124–169 µs per round trip
  in the previous stop's runs (0.41–0.60× Python). Each Deno process then used about 60 µs of CPU
  per round trip, and probes without the library (the same frames, \`BatchWriter\` and
  \`readFrames\`) used 45–60 µs when the receiving side awaits a Promise that the read resolves, as
  \`recv()\` must: Python's round trip is this machine's raw-socket floor, which Deno's asynchronous
  reads and writes (a promise and an event-loop turn each) do not go below. So the receiving end now
  also makes a ring in shared memory (\`_internal/pipe_ring.ts\`, where memory can be mapped: Deno
  on Linux with \`--allow-ffi\`) and sends its path on the socket; the sender writes each message
  that fits into the ring and the socket carries only the rest (numbered, one order) and wake-ups. A
  \`recv()\` that finds nothing watches the ring for up to 0.25 ms before it sleeps on the socket:
  the reply to a message is usually there within a few µs, read with no system call on either side.
  A probe of two processes and a bare ring (no library) measured 6.6 µs per round trip with the spin
  and 146 µs sleeping in \`futex\` through a nonblocking FFI call instead (Deno's blocking pool),
  which is why the sleep is on the socket and the spin comes first. With the library, in probes of
  5,000 round trips: a median of 3–6 µs, but a mean of 12–45 µs, because 1–20% of round trips miss
  the spin (the other process was descheduled: this virtual machine's two cores are shared, and each
  Deno process has helper threads) and then cost a wake-up on the socket, 150–700 µs at the 99th
  percentile; 30,000 round trips measured 9–15 µs (fewer misses once the code is warm). A spin
  blocks the event loop, so it is short, and an end stops trying once most of its recent spins (a
  moving average over about 8) found nothing, but for one receive in 16: a sender that writes seldom
  costs its receiver one 0.25 ms spin per wait at first and about 16 µs per receive after. The first
  version backed off after every miss (skipping the next 1, 3, 7… spins): in three probe runs each,
  means of 11–59 µs against 16–31 µs (a miss made both sides sleep for several round trips); spins
  of up to 0.3 ms measured 17–20 µs against 24–34 µs for 0.1 ms, and up to 1 ms 13–28 µs (3–15
  sleeps per 5,000 round trips, against 40–580 with 0.25 ms), but a miss would then hold the event
  loop, and a core, four times as long: 0.25 ms is the compromise. After its first 20 µs a spin now
  offers its core to other threads between looks (\`sched_yield(2)\`): with two cores and two
  spinning processes, each with threads of its own, a spinner can be what keeps the other process
  from answering. In probes of 5,000 round trips that cut the sleeps from 37–580 to 1–25 per run and
  the mean to 14–29 µs (p99 100–210 µs, against 250–620); in three alternating runs of this
  benchmark, 31–33 µs against 35–43 µs. Yielding from the first look instead raised the median round
  trip from 4–6 µs to 7–19 µs. CPU per round trip, parent process (hub thread included): 6–31 µs,
  against about 60 before. Without mapped memory (Node, no \`--allow-ffi\`) the socket path is
  unchanged; on Node (22.12, the quiet machine, not in this table) it took about 200 µs per round
  trip, against 120–130 µs for a bare \`node:net\` socket.
- **A bounded queue waits for the hub only when it has no room; LIFO and priority queues' gets
  always do.** A bounded queue's \`put()\` reads the queue's size where the hub publishes it (shared
  memory), adds this object's own puts not counted there yet, and while that is below \`maxsize\`
  sends the item as an unbounded put does, without waiting; with no room it waits for the hub to put
  it in. Its consumers fetch ahead as on an unbounded queue, and the items fetched and not used yet
  take room in the hub, so a lone producer still has exactly \`maxsize\` puts returned ahead of its
  consumers, as in Python (\`tests/queue_bounded_test.ts\`). Before, every bounded put and get was a
  hub round trip (about 140 µs from a child): 5–7k items/s whatever \`maxsize\`; \`Queue(1000)\` now
  moves 160–230k. \`Queue(3)\` hardly moved (5.7k to 5.9–7.1k items/s): with three items in flight
  the producer finds the queue full after each burst of three, and each item then takes four hops
  through the hub (the consumer's report of a use, the hub's answer to the producer's waiting put,
  the producer's next puts, the hub's answer to the consumer's next fetch), each waking a thread (tens
  of µs on this virtual machine). Measured alone (\`queueRun\`, 20k small strings, three runs each):
  \`Queue(10)\` 15–17k items/s, \`Queue(30)\` 22–33k, \`Queue(100)\` 59–65k: about \`maxsize\` × 2k a
  second, one cycle through the hub of about 0.5 ms each time the queue fills. An experiment that
  sent a consumer's report of a use at once when the queue was full (so that a waiting producer heard
  of the room sooner) changed nothing for \`Queue(3)\` and cost larger queues a quarter, and was not
  kept. Python's bounded \`mp.Queue\` reserves room in a semaphore in shared
  memory that the consumer releases itself, and its items cross one pipe, producer to consumer.
  Closing that gap takes the same design: room counted in shared memory that a consumer frees
  without the hub, and items that cross once; not done. A \`LifoQueue\`'s or \`PriorityQueue\`'s
  consumer does not fetch ahead (an item fetched would come out in an order that a later put should
  have changed), so each of its gets is a round trip, as each call to Python's manager-served
  PriorityQueue is: 1.3× Python in the run before this table's, 0.75× in this one (ours 11k–15k
  items/s on both machines, the code of the day before measuring the same here; Python's manager
  8.4k there and 18.7k here). A round trip through our hub's thread is no faster than one through
  Python's manager process.
- **JoinableQueue with several consumers** cannot prefetch as deeply: each consumer takes a fair
  share of the backlog. A consumer's \`taskDone()\` calls of a burst, and its used prefetched items,
  travel as one request each; they were one request per call while \`get()\` and \`taskDone()\`
  alternated (each closed the other's batch), which held this case at 0.7–0.8× Python.
  \`taskDone()\`'s Promise still resolves only once the hub has recorded it, so that a crash right
  after it cannot redeliver the item.
- **A ring buffer in shared memory for the bytes only** (not faster-fifo's whole design), on
  measurement: \`bench/ring_probe.ts\` moves whole items between two processes through a ring in a
  mapped file, wake-ups included. A consumer that finds such a ring empty must sleep in
  \`futex(2)\` through a nonblocking FFI call (Deno offers no \`Atomics.waitAsync\` on mapped
  memory), about 100–150 µs per sleep, and crash-safe redelivery, several producers and consumers,
  bounded queues and \`JoinableQueue\` accounting would all need a second implementation beside the
  hub's. So the rings hold only large items' bytes: the order, the wake-ups (a reference in a
  frame), redelivery and the accounting stay the hub's, unchanged, and small items, whose bytes cost
  less than a reference's bookkeeping, stay inline.
`,
  },
  {
    name: "codec",
    title: "The codec alone",
    baseline: "node:v8",
    about: `
How values are encoded to cross a process boundary, with no I/O: multiproc's codec (encode then
decode) against \`node:v8\`'s \`serialize\` then \`deserialize\` (structured clone, V8's own
format), on Deno and on Node (the npm build, run by \`bench/codec.ts\` with the Node of
\`tools/\`), in µs per value. The cases: a small object \`{ id, name, tags: [3 strings] }\`, a
1 KiB string, a 64 KiB \`Uint8Array\`, and a Map/Date/BigInt/Set mix. The "(reference)" rows are
\`JSON.stringify\` then \`JSON.parse\` of the same value where JSON can carry it, against
\`node:v8\` too. Each implementation runs in a process of its own, so that it pays for its own
garbage (see below); each sample is the mean of a batch sized to take about 100 ms of the
process's CPU time, after at least 1 s and 4,000 round trips of warm-up; every implementation's
decoded copy is checked once. The cases and the one adapter that calls the codec are in
\`bench/node/codec.mjs\`, shared by both runtimes.
`,
    compare: ["Deno", "Node"].flatMap((runtime) =>
      ["small object", "1 KiB string", "64 KiB Uint8Array", "Map/Date/BigInt mix"].flatMap((c) => [
        { deno: `${runtime}, ${c}`, python: `${runtime}, ${c}` },
        ...(c === "small object" || c === "1 KiB string"
          ? [{
            deno: `${runtime}, ${c}, JSON.stringify+parse (reference)`,
            python: `${runtime}, ${c}`,
          }]
          : []),
      ])
    ),
    limits: CODEC_LIMITS,
  },
  {
    name: "lock_contention",
    title: "Locks between processes",
    about: `
Lock acquire/release pairs per second with 1 process and with 4 processes contending
(\`await lock.acquire(); local += 1; lock.release()\`), from a start Event until all are joined,
and the seed's ticket race without sleeps: 10 processes, a JSON db with count 1, an unlocked
search, then read/decrement/write under the lock (ms until all are joined; exactly 1 sold is
checked). Deno runs 100k iterations per process where Python runs 1M: a rate is a rate, and each
acquire here costs microseconds.
`,
    compare: [
      { deno: "uncontended 1 process", python: "uncontended 1 process" },
      { deno: "4 processes contending", python: "4 processes contending" },
      { deno: "uncontended 1 process, lock files", python: "uncontended 1 process" },
      { deno: "4 processes contending, lock files", python: "4 processes contending" },
      { deno: "ticket race, 10 processes", python: "ticket race, 10 processes" },
    ],
    limits: `
- **Both are futexes in shared memory.** With \`--allow-ffi\` on Linux (as here: \`-A\`), a
  Lock shared with another process is a word in a file mapped by every process (\`mmap\` through
  Deno's FFI) and waits are \`futex(2)\` calls in Deno's blocking thread pool, so an acquire and a
  release are two atomic instructions, as in Python. The word holds the holder's pid, so a waiter
  takes over the lock of a holder that died (Python's stays held forever) and sees
  \`lock.ownerDied\`.
- **Uncontended, Python is still ahead**: its \`acquire()\`/\`release()\` are C calls in a
  loop, ours are an \`await\` each (a settled Promise, no allocation, but a microtask turn) and
  two futex words (the thread-level one, then the process-level one).
- **The "lock files" rows** are the fallback where memory cannot be mapped between processes
  (without \`--allow-ffi\`, with \`MULTIPROC_SHARED_MEMORY=0\`, and on Node): an exclusive
  \`flock\` on a file, released by the kernel when a holder dies, plus an owner record (seek +
  read/write) so the next holder can tell; several system calls per acquire and release.
- **The ticket race** is dominated by starting the work in 10 processes and their JSON file I/O,
  not by the lock.
`,
  },
  {
    name: "threads",
    title: "Threads",
    about: `
Thread start+join of a thread that does nothing; Lock acquire/release in one thread and shared by
2 and 4 threads (1M pairs in total, from a start Event until all are joined); and the seed's
100-thread counter (100 threads each decrement a shared Value under a Lock once; construct, start
and join of all 100, checking it ends at 0). \`detail.rss_mib_per_idle_worker\` of the start case
is the resident memory an idle thread adds.
`,
    compare: [
      { deno: "thread start+join", python: "thread start+join" },
      { deno: "Lock uncontended acquire/release", python: "Lock uncontended acquire/release" },
      { deno: "Lock contended, 2 threads", python: "Lock contended, 2 threads" },
      { deno: "Lock contended, 4 threads", python: "Lock contended, 4 threads" },
      { deno: "100-thread counter", python: "100-thread counter" },
    ],
    limits: `
- **A thread is a V8 isolate, not an OS thread.** A Web Worker starts a new isolate and loads
  its own copy of every module it imports (the library and the target's module): tens of
  milliseconds and several MiB each, where a Python thread is an OS thread sharing one interpreter
  (about 0.1 ms). Start a few long-lived threads and feed them through a Queue rather than a thread
  per small task. The 100-thread counter is almost all start-up.
- **Locks between threads are a futex in shared memory** (\`Atomics\` on a SharedArrayBuffer), with
  no system call and no GIL; the cost left is the Promise of \`await lock.acquire()\` (a microtask
  per pair). Python's threads take turns on the GIL, so contention makes them slower, ours less so.
`,
  },
  {
    name: "tcp_echo",
    title: "TCP echo servers",
    about: `
An upper-casing echo server (the seed's \`talk()\`) under the same client load: round trips per
second of a 16-byte message with 1, 8 and 32 connections (each sends its next message when the
reply to the last one has arrived), and new connections per second with 8 clients each connecting
in a loop (connect, one round trip, close). Every server runs in its own process and the load comes
from one Deno process (\`bench/tcp_echo.ts\`), which measures Python's servers too (a Python load
generator would be the bottleneck): the seed's process-per-connection server on \`fork\`
("python fork") and \`socketserver.ThreadingTCPServer\` ("python threading"), both from
\`bench/python/tcp_echo.py\`, against \`TcpServer\` in each mode. Prefork modes use as many
processes or threads as cores; "process" starts a fresh process per connection (Python's
\`ForkingTCPServer\` and the seed), "process, reused" lets each serve many
(\`connectionsPerRunner: 0\`). Each case is warmed up until every client has been served once,
then measured over fixed windows (median shown).
`,
    compare: [
      ...["1 connection", "8 connections", "32 connections"].flatMap((c) => [
        { deno: `prefork-process, ${c}`, python: `python threading, ${c}` },
        { deno: `prefork-thread, ${c}`, python: `python threading, ${c}` },
        { deno: `async, ${c}`, python: `python threading, ${c}` },
        { deno: `thread, ${c}`, python: `python threading, ${c}` },
        { deno: `process, ${c}`, python: `python fork, ${c}` },
        { deno: `process, reused, ${c}`, python: `python fork, ${c}` },
      ]),
      { deno: "process, new connections", python: "python fork, new connections" },
      { deno: "process, reused, new connections", python: "python fork, new connections" },
      { deno: "thread, new connections", python: "python threading, new connections" },
      { deno: "prefork-process, new connections", python: "python threading, new connections" },
      { deno: "prefork-thread, new connections", python: "python threading, new connections" },
      { deno: "async, new connections", python: "python threading, new connections" },
    ],
    limits: TCP_ECHO_LIMITS,
  },
  {
    name: "redis",
    title: "Redis: remote queue and lock",
    baseline: "BullMQ",
    about: `
The Redis-backed primitives (\`redis/\`) against BullMQ (pinned in \`bench/node/package.json\`,
installed by the benchmark with \`npm ci --prefix bench/node\`), moving the same items through the
same \`redis-server\` (started by the script on a loopback port in a temporary folder, no
snapshots, stopped at the end) in the same run, BullMQ first in each repetition. "JoinableQueue 2
producers / 2 consumers": small strings through a \`RemoteJoinableQueue\` opened by name; two
producer and two consumer multiproc \`Process\`es receive it as an argument; producers put their half
one \`await put()\` after the other ("one item at a time") or 100 puts in flight, consumers run one
or 100 loops of \`get()\` + \`taskDone()\` until the queue is closed; the clock runs from a start
Event until the producers are joined and \`join()\` has returned, and the consumers' counts must
add up. BullMQ: two Node producer processes (\`addBulk\` of 100 jobs, or 100 \`add\`s in flight) and
two Node \`Worker\` processes (concurrency 100, jobs removed on completion), from "go" until the
workers have completed every job. "Lock": acquire/release pairs per second on one \`RemoteLock\`
by 1 process, and by 4 processes contending (no BullMQ counterpart). Without \`redis-server\` on
PATH the section says it was skipped.
`,
    compare: [
      {
        deno: "JoinableQueue 2 producers / 2 consumers, one item at a time",
        python: "BullMQ addBulk, 2 producers / 2 workers",
      },
      {
        deno: "JoinableQueue 2 producers / 2 consumers, 100 in flight",
        python: "BullMQ addBulk, 2 producers / 2 workers",
      },
      {
        deno: "JoinableQueue 2 producers / 2 consumers, 100 in flight",
        python: "BullMQ add, 2 producers / 2 workers",
      },
      { deno: "Lock, 1 process" },
      { deno: "Lock, 4 processes contending" },
    ],
    limits: REDIS_LIMITS,
  },
  {
    name: "pool",
    title: "Pools",
    rounds: 3,
    about: `
\`Pool\` and \`ProcessPoolExecutor\` against Python's (\`spawn\` start method), 2 workers each, on
2 cores; pools are started and warmed up (every worker has run a task) before anything is timed.
The Python and the Deno script run in turn, 3 rounds each, and each case's samples are pooled, so
that both meet the machine's changing load alike.
"Pool.map 200k squares": \`map(square, items)\` of 200,000 numbers with the default chunksize
(Python's formula: 8 chunks of 25,000), in items/s. "apply no-op round trip": sequential
\`await pool.apply(noop)\`, in µs per call. "20k submits": 20,000 \`executor.submit(noop)\`, all
awaited, in tasks/s from the first submit. "CPU-bound speed-up": 16 equal tasks run in-process one
after the other, divided by the same 16 on the pool (\`map\`, chunksize 1), 2× being the ideal;
the task is fib(27) in Python and fib(32) in V8, about 30 ms each on both. The same cases on threads
(\`ThreadPool\`, \`ThreadPoolExecutor\`) are compared with Python's process pools: the choice a
user makes for CPU-bound work (Python's threads share one GIL).
`,
    compare: [
      { deno: "Pool.map 200k squares", python: "Pool.map 200k squares" },
      { deno: "Pool.apply no-op round trip", python: "Pool.apply no-op round trip" },
      { deno: "ProcessPoolExecutor 20k submits", python: "ProcessPoolExecutor 20k submits" },
      {
        deno: "Pool CPU-bound speed-up, 16 tasks on 2 workers",
        python: "Pool CPU-bound speed-up, 16 tasks on 2 workers",
      },
      { deno: "ThreadPool.map 200k squares", python: "Pool.map 200k squares" },
      { deno: "ThreadPool.apply no-op round trip", python: "Pool.apply no-op round trip" },
      { deno: "ThreadPoolExecutor 20k submits", python: "ProcessPoolExecutor 20k submits" },
      {
        deno: "ThreadPool CPU-bound speed-up, 16 tasks on 2 workers",
        python: "Pool CPU-bound speed-up, 16 tasks on 2 workers",
      },
    ],
    limits: POOL_LIMITS,
  },
  {
    name: "pool_node",
    title: "Thread pools on Node",
    baseline: "piscina",
    about: `
The npm build under Node (the \`node\` on PATH; the JSON line records its version) against piscina
(pinned in \`bench/node/package.json\`, installed by the benchmark with
\`npm ci --prefix bench/node\`), 2 threads each, in the same run: \`bench/pool_node.ts\` builds,
packs and installs the npm
package, then runs \`bench/node/pool_threads.mjs\` for piscina and for multiproc in turn, 3 rounds
of 2 samples per case each, so that both meet the machine's changing load alike. "20k concurrent
no-ops": 20,000 no-op tasks submitted at
once (\`ThreadPoolExecutor.submit\`, \`ThreadPool.applyAsync\`, \`piscina.run\`), all awaited, in
tasks/s. "sequential round trip": one no-op task awaited after the other, in µs. "CPU-bound
speed-up": 16 × fib(32) in the main thread one after the other, divided by the same 16 on the pool.
`,
    compare: [
      {
        deno: "ThreadPoolExecutor.submit, 20k concurrent no-ops",
        python: "piscina.run, 20k concurrent no-ops",
      },
      {
        deno: "ThreadPool.applyAsync, 20k concurrent no-ops",
        python: "piscina.run, 20k concurrent no-ops",
      },
      {
        deno: "ThreadPool.apply, sequential round trip",
        python: "piscina.run, sequential round trip",
      },
      {
        deno: "ThreadPoolExecutor.submit, sequential round trip",
        python: "piscina.run, sequential round trip",
      },
      {
        deno: "ThreadPool CPU-bound speed-up, 16 tasks on 2 threads",
        python: "piscina CPU-bound speed-up, 16 tasks on 2 threads",
      },
      { deno: "bare worker_threads postMessage round trip (floor)" },
    ],
    limits: POOL_NODE_LIMITS,
  },
];

/** A hung script is stopped after this long and reported as failed. */
const SCRIPT_TIMEOUT_MS = 180_000;

const ROOT = new URL("../", import.meta.url);
const ROOT_PATH = decodeURIComponent(ROOT.pathname);
const BENCHMARKS_MD = new URL("BENCHMARKS.md", ROOT);

/** The outcome of running one benchmark script. */
interface ScriptRun {
  /** The command line, for the report. */
  command: string;
  /** The script's JSON line, when it succeeded. */
  line?: BenchLine;
  /** Why it failed, when it did. */
  error?: string;
  /** Wall time of the whole script. */
  seconds: number;
}

/** One rendered table row. */
interface Row {
  deno: string;
  python: string;
  pythonValue: string;
  denoValue: string;
  ratio: string;
}

/** Both sides of one benchmark and the table comparing them. */
interface Outcome {
  benchmark: Benchmark;
  /** The baseline's run: the Python script, or what the Deno script measured of the baseline. */
  python: ScriptRun;
  deno: ScriptRun;
  rows: Row[];
  /** When this benchmark started (UTC, minutes). */
  date: string;
  /** The run's command line (the section says how it was made, also when spliced in alone). */
  command: string;
  /** 1-, 5- and 15-minute load averages before its first script and after its last. */
  load: { start: number[]; end: number[] };
}

/** Where the numbers were taken. */
interface Machine {
  cores: string;
  cpu: string;
  os: string;
  memoryGiB: number;
  /** 1-, 5- and 15-minute load averages before the first script and after the last. */
  load: { start: number[]; end?: number[] };
  deno: string;
  v8: string;
  python: string;
}

/** Runs a script to completion, passing its progress (stderr) through and parsing its JSON line. */
async function runScript(
  program: string,
  args: string[],
  bench: string,
  display: string,
): Promise<ScriptRun> {
  const command = [display, ...args].join(" ");
  console.error(`\n── ${command}`);
  const t0 = performance.now();
  const seconds = () => Math.round((performance.now() - t0) / 100) / 10;
  const signal = AbortSignal.timeout(SCRIPT_TIMEOUT_MS);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args,
      cwd: ROOT_PATH,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal,
    }).spawn();
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? `${program} not found`
      : `${program} could not start: ${error instanceof Error ? error.message : error}`;
    console.error(reason);
    return { command, error: reason, seconds: seconds() };
  }
  const [live, kept] = child.stderr.tee();
  const [stdout, stderr, status] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(kept).text(),
    child.status,
    live.pipeTo(Deno.stderr.writable, { preventClose: true }),
  ]);
  const fail = (error: string): ScriptRun => {
    console.error(`${command}: ${error}`);
    return { command, error, seconds: seconds() };
  };
  if (signal.aborted) return fail(`timed out after ${SCRIPT_TIMEOUT_MS / 1000} s`);
  if (!status.success) {
    const last = lastLine(stderr);
    const how = status.signal
      ? `was killed by ${status.signal}`
      : `exited with code ${status.code}`;
    return fail(last ? `${how}: ${last}` : how);
  }
  let line: BenchLine;
  try {
    line = JSON.parse(lastLine(stdout) ?? "");
  } catch {
    return fail("printed no JSON line on stdout");
  }
  if (line?.bench !== bench || !Array.isArray(line.results)) {
    return fail(`printed a JSON line that is not a "${bench}" result`);
  }
  return { command, line, seconds: seconds() };
}

function lastLine(text: string): string | undefined {
  return text.split("\n").map((line) => line.trim()).filter(Boolean).at(-1);
}

/** Runs one benchmark: Python first, then Deno, never at the same time. */
async function runBenchmark(
  benchmark: Benchmark,
  quick: boolean,
  command: string,
): Promise<Outcome> {
  const date = utcMinutes();
  const start = Deno.loadavg();
  const outcome = benchmark.baseline === undefined
    ? await runPythonAndDeno(benchmark, quick)
    : await runDenoWithBaseline(benchmark, quick);
  return { ...outcome, date, command, load: { start, end: Deno.loadavg() } };
}

async function runPythonAndDeno(
  benchmark: Benchmark,
  quick: boolean,
): Promise<Omit<Outcome, "date" | "command" | "load">> {
  const flags = quick ? ["--quick"] : [];
  const pythonRuns: ScriptRun[] = [];
  const denoRuns: ScriptRun[] = [];
  for (let round = 0; round < (quick ? 1 : benchmark.rounds ?? 1); round++) {
    pythonRuns.push(
      await runScript(
        "python3",
        [`bench/python/${benchmark.name}.py`, ...flags],
        benchmark.name,
        "python3",
      ),
    );
    denoRuns.push(
      await runScript(
        Deno.execPath(),
        ["run", "-A", `bench/${benchmark.name}.ts`, ...flags],
        benchmark.name,
        "deno",
      ),
    );
  }
  const python = mergeRounds(pythonRuns);
  const deno = mergeRounds(denoRuns);
  // A Deno script may measure the Python side too (tcp_echo drives Python's servers, as a Python
  // load generator would be the bottleneck): its `python_results` count as the Python results.
  const measured = deno.line?.python_results;
  if (python.line && Array.isArray(measured)) python.line.results.push(...(measured as Result[]));
  return { benchmark, python, deno, rows: compare(benchmark, python, deno) };
}

/**
 * One script's rounds as one run: each case's samples pooled and summarised again (median, min,
 * max); the first failure, if any round failed.
 */
function mergeRounds(runs: ScriptRun[]): ScriptRun {
  const failed = runs.find((run) => run.error);
  const seconds = Math.round(runs.reduce((sum, run) => sum + run.seconds, 0) * 10) / 10;
  if (failed || runs.length === 1) return { ...(failed ?? runs[0]), seconds };
  const first = runs[0].line!;
  const results = first.results.map((r): Result => {
    const samples = runs.flatMap((run) =>
      run.line!.results.find((x) => x.case === r.case)?.detail.samples ?? []
    );
    return {
      ...r,
      value: round4(median(samples)),
      n: samples.length,
      detail: {
        ...r.detail,
        min: Math.min(...samples),
        max: Math.max(...samples),
        samples,
        rounds: runs.length,
      },
    };
  });
  return { command: runs[0].command, line: { ...first, results }, seconds };
}

/** Runs a benchmark whose Deno script measures its (non-Python) baseline too. */
async function runDenoWithBaseline(
  benchmark: Benchmark,
  quick: boolean,
): Promise<Omit<Outcome, "date" | "command" | "load">> {
  const deno = await runScript(
    Deno.execPath(),
    ["run", "-A", `bench/${benchmark.name}.ts`, ...(quick ? ["--quick"] : [])],
    benchmark.name,
    "deno",
  );
  const measured = deno.line?.baseline_results;
  const baseline: ScriptRun = { command: deno.command, seconds: deno.seconds };
  if (Array.isArray(measured)) {
    baseline.line = { bench: benchmark.name, results: measured as Result[] };
  } else if (deno.line) {
    baseline.error = "printed no baseline_results";
  }
  return { benchmark, python: baseline, deno, rows: compare(benchmark, baseline, deno) };
}

function utcMinutes(): string {
  return new Date().toISOString().replace(/:\d\d\.\d+Z$/, "Z").replace("T", " ");
}

/** Lower is better for times, higher for rates; `undefined` for a unit we cannot orient. */
function lowerIsBetter(unit: string): boolean | undefined {
  if (["ns", "us", "µs", "ms", "s"].includes(unit)) return true;
  // A rate, or a speed-up factor ("×"): higher is better.
  if (unit.endsWith("/s") || unit === "×") return false;
  return undefined;
}

const NUMBER = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 4 });

function cell(run: ScriptRun, name: string | undefined): [string, Result | undefined] {
  if (name === undefined) return ["—", undefined];
  if (!run.line) return ["failed", undefined];
  const result = run.line.results.find((r) => r.case === name);
  if (!result) return ["no such case", undefined];
  return [`${NUMBER.format(result.value)} ${result.unit}`, result];
}

function ratio(python: Result | undefined, deno: Result | undefined): string {
  if (!python || !deno) return "";
  if (python.unit !== deno.unit) return `units differ (${python.unit}, ${deno.unit})`;
  const lower = lowerIsBetter(deno.unit);
  if (lower === undefined || python.value <= 0 || deno.value <= 0) return "?";
  const r = lower ? python.value / deno.value : deno.value / python.value;
  return `${r >= 10 ? r.toFixed(0) : r.toPrecision(2)}×`;
}

/** The table's rows: the listed comparisons, then any case nobody listed (so none is hidden). */
function compare(benchmark: Benchmark, python: ScriptRun, deno: ScriptRun): Row[] {
  const row = (denoCase: string | undefined, pythonCase: string | undefined): Row => {
    const [pythonValue, p] = cell(python, pythonCase);
    const [denoValue, d] = cell(deno, denoCase);
    return {
      deno: denoCase ?? "—",
      python: pythonCase ?? "—",
      pythonValue,
      denoValue,
      ratio: ratio(p, d),
    };
  };
  const rows = benchmark.compare.map((c) => row(c.deno, c.python));
  const listedDeno = new Set(benchmark.compare.map((c) => c.deno));
  const listedPython = new Set(benchmark.compare.map((c) => c.python));
  for (const r of deno.line?.results ?? []) {
    if (!listedDeno.has(r.case)) rows.push(row(r.case, undefined));
  }
  for (const r of python.line?.results ?? []) {
    if (!listedPython.has(r.case)) rows.push(row(undefined, r.case));
  }
  return rows;
}

/** A markdown table with padded columns (readable in a terminal as well). */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

const RATIO_NOTE = "The last column is Python ÷ multiproc for times (ms, lower is better) and " +
  "multiproc ÷ Python for rates (/s) and speed-ups (×) (higher is better), so above 1 means " +
  "multiproc is faster. A dash marks a case with no counterpart. A section whose baseline is not " +
  "Python (piscina, BullMQ) says so in its column headers.";

function renderOutcome(outcome: Outcome, withAbout = true): string {
  const { benchmark, python, deno, rows } = outcome;
  const base = benchmark.baseline ?? "Python";
  const body = table(
    [
      "multiproc case",
      `${base} case`,
      base,
      "multiproc",
      `multiproc vs ${base} (>1: multiproc better)`,
    ],
    rows.map((r) => [r.deno, r.python, r.pythonValue, r.denoValue, r.ratio]),
  );
  const skipped = deno.line?.skipped;
  const failures = [python, deno]
    .filter((run) => run.error)
    .map((run) => `- \`${run.command}\` failed: ${run.error}`);
  return [
    `## ${benchmark.title} (\`${benchmark.name}\`)`,
    ...(withAbout ? [benchmark.about.trim()] : []),
    body,
    `Run ${outcome.date} (\`${outcome.command}\`), load average (1, 5, 15 min) ` +
    `${loadText(outcome.load.start)} before, ${loadText(outcome.load.end)} after.` +
    (/(^|\s)--quick(\s|$)/.test(outcome.command)
      ? " **`--quick`: reduced sizes, a smoke run, not representative numbers.**"
      : ""),
    ...(failures.length ? [`Failed:\n\n${failures.join("\n")}`] : []),
    ...(typeof skipped === "string" ? [`Skipped: ${skipped}`] : []),
  ].join("\n\n");
}

function renderSection(outcome: Outcome): string {
  return `${renderOutcome(outcome)}\n\n### What limits it\n\n${outcome.benchmark.limits.trim()}`;
}

/**
 * The existing BENCHMARKS.md with the sections of `outcomes` replaced (or appended), for a run of
 * some benchmarks only (`--only`): the other sections keep their numbers and run lines.
 */
function spliceSections(document: string, outcomes: Outcome[]): string {
  let text = document.trimEnd();
  for (const outcome of outcomes) {
    const heading = `## ${outcome.benchmark.title} (\`${outcome.benchmark.name}\`)`;
    const section = renderSection(outcome);
    const start = text.indexOf(`\n${heading}\n`);
    if (start < 0) {
      text = `${text}\n\n${section}`;
      continue;
    }
    const next = text.indexOf("\n## ", start + heading.length + 1);
    text = `${text.slice(0, start + 1)}${section}${next < 0 ? "" : `\n${text.slice(next)}`}`;
  }
  return `${text}\n`;
}

async function commandOutput(program: string, args: string[]): Promise<string | undefined> {
  try {
    const { success, stdout, stderr } = await new Deno.Command(program, { args }).output();
    if (!success) return undefined;
    const decoder = new TextDecoder();
    return (decoder.decode(stdout) + decoder.decode(stderr)).trim();
  } catch {
    return undefined;
  }
}

async function machine(): Promise<Machine> {
  let cpu = Deno.build.arch as string;
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    cpu = /^model name\s*:\s*(.+)$/m.exec(info)?.[1].trim() ?? cpu;
  } catch {
    // Not Linux: the architecture will do.
  }
  const python = await commandOutput("python3", ["--version"]);
  return {
    cores: await commandOutput("nproc", []) ?? String(navigator.hardwareConcurrency),
    cpu,
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    memoryGiB: Math.round(Deno.systemMemoryInfo().total / 2 ** 30),
    load: { start: Deno.loadavg() },
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    python: python?.replace(/^Python\s+/, "") ?? "not found",
  };
}

function renderDocument(outcomes: Outcome[], m: Machine, command: string, date: string): string {
  const quick = /(^|\s)--quick(\s|$)/.test(command);
  return [
    "# Benchmarks",
    "<!-- Generated by bench/run.ts with --write: edit the text there, not here. -->",
    "multiproc against CPython's `multiprocessing` on the same machine, in the same run: each Python " +
    "baseline (`bench/python/`) runs, then its Deno counterpart (`bench/`), never at the same time. " +
    "Every value is the median of its samples; the JSON lines (`--json <path>`) keep min, max and " +
    "the raw samples. " + RATIO_NOTE,
    [
      `- Command: \`${command}\` (\`deno task bench\` is \`deno run -A bench/run.ts\`)`,
      `- Date: ${date}`,
      `- Machine: ${m.cores} cores (\`nproc\`), ${m.cpu}, ${m.memoryGiB} GiB, ${m.os}`,
      `- Load average (1, 5, 15 min): ${loadText(m.load.start)} before, ` +
      `${loadText(m.load.end ?? [])} after; high values mean other work competed for the cores`,
      `- Deno ${m.deno} (V8 ${m.v8}), Python ${m.python}`,
      ...(quick ? ["- **`--quick`: reduced sizes, a smoke run, not representative numbers**"] : []),
    ].join("\n"),
    ...outcomes.map(renderSection),
  ].join("\n\n") + "\n";
}

function loadText(load: number[]): string {
  return load.length ? load.map((x) => x.toFixed(2)).join(" ") : "unknown";
}

function shellQuote(arg: string): string {
  return /^[\w./,=:-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

function usage(): string {
  return `Usage: deno task bench [--quick] [--only <name,...>] [--write] [--json <path>]

  --quick         smaller sizes and fewer repetitions (smoke run)
  --only <names>  run only these benchmarks (comma-separated; repeatable)
  --write         regenerate BENCHMARKS.md from this run (with --only: replace just
                  those benchmarks' sections, keeping the others)
  --json <path>   write every result, raw samples included, to <path>

Benchmarks: ${BENCHMARKS.map((b) => b.name).join(", ")}`;
}

async function main(args: string[]): Promise<number> {
  // `deno task bench -- --write` passes the "--" on; it would end option parsing here.
  args = args.filter((arg) => arg !== "--");
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        quick: { type: "boolean", default: false },
        only: { type: "string", multiple: true },
        write: { type: "boolean", default: false },
        json: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : error}\n\n${usage()}`);
    return 2;
  }
  if (values.help) {
    console.log(usage());
    return 0;
  }
  const only = values.only?.flatMap((names) => names.split(",")).map((n) => n.trim())
    .filter(Boolean);
  const unknown = only?.filter((name) => !BENCHMARKS.some((b) => b.name === name)) ?? [];
  if (unknown.length) {
    console.error(`Unknown benchmark: ${unknown.join(", ")}\n\n${usage()}`);
    return 2;
  }
  const selected = only ? BENCHMARKS.filter((b) => only.includes(b.name)) : BENCHMARKS;

  const command = ["deno run -A bench/run.ts", ...args.map(shellQuote)].join(" ");
  const date = utcMinutes();
  const m = await machine();
  const outcomes: Outcome[] = [];
  for (const benchmark of selected) {
    outcomes.push(await runBenchmark(benchmark, values.quick, command));
  }
  m.load.end = Deno.loadavg();

  console.log(`\n${RATIO_NOTE}\n`);
  for (const outcome of outcomes) {
    console.log(renderOutcome(outcome, false));
    const base = outcome.benchmark.baseline === undefined
      ? `Python ${outcome.python.seconds} s, `
      : "";
    console.log(`\n(${base}Deno ${outcome.deno.seconds} s)\n`);
  }

  if (values.json) {
    const report = { command, date, quick: values.quick, machine: m, outcomes };
    await Deno.mkdir(dirname(values.json), { recursive: true });
    await Deno.writeTextFile(values.json, JSON.stringify(report, null, 2) + "\n");
    console.log(`Wrote ${values.json}`);
  }
  if (values.write) {
    const document = only
      ? spliceSections(await Deno.readTextFile(BENCHMARKS_MD), outcomes)
      : renderDocument(outcomes, m, command, date);
    await Deno.writeTextFile(BENCHMARKS_MD, document);
    // deno fmt owns the layout of markdown in this repo; keep the file fmt-clean.
    const fmt = await new Deno.Command(Deno.execPath(), {
      args: ["fmt", "--quiet", decodeURIComponent(BENCHMARKS_MD.pathname)],
      cwd: ROOT_PATH,
    }).output();
    if (!fmt.success) {
      console.error("deno fmt BENCHMARKS.md failed; the file is written but unformatted");
    }
    console.log("Wrote BENCHMARKS.md");
  }
  const failed = outcomes.some((o) => o.python.error || o.deno.error);
  return failed ? 1 : 0;
}

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}
