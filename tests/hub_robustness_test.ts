/**
 * The hub against hostile clients, descriptor exhaustion, crashes and big
 * items: what it refuses, what it survives, and what crosses intact.
 */
import { deepStrictEqual, equal, match, ok, rejects } from "node:assert/strict";
import { HELLO_MAX_BYTES, MAX_UNAUTHENTICATED } from "../_internal/protocol.ts";
import { encodeFrame, readFrames } from "../_internal/framing.ts";
import { canMapShared } from "../_internal/runtime.ts";
import { JoinableQueue, Process, Queue, QueueClosed } from "../mod.ts";
import { eventually, pidAlive, tempDir } from "./_helpers.ts";
import {
  ackThenDie,
  closeQueue,
  echoBig,
  putFlushDie,
  summarize,
  summarizeArg,
} from "./fixtures/hub_robustness_targets.ts";

// libc is loaded once per process on first use (and never unloaded): here, not inside a test.
canMapShared();

const OWNER = new URL("./fixtures/hub_robustness_owner.ts", import.meta.url).pathname;
const ORPHAN_OWNER = new URL("./fixtures/hub_robustness_orphan.ts", import.meta.url).pathname;

/** The owner program of `fixtures/hub_robustness_owner.ts`, driven line by line. */
class Owner implements AsyncDisposable {
  readonly info: { pid: number; path: string; key: string };
  stderr = "";
  #child: Deno.ChildProcess;
  #tmp: AsyncDisposable;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #lines: AsyncIterator<string>;
  #stderrDone: Promise<void>;

  private constructor(
    child: Deno.ChildProcess,
    tmp: AsyncDisposable,
    lines: AsyncIterator<string>,
    info: Owner["info"],
  ) {
    this.#child = child;
    this.#tmp = tmp;
    this.#lines = lines;
    this.info = info;
    this.#stdin = child.stdin.getWriter();
    this.#stderrDone = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of child.stderr) {
        this.stderr += decoder.decode(chunk, { stream: true });
      }
    })();
  }

  /** Starts the owner, under `ulimit -n <nofile>` if given, and waits for its `ready` line. */
  static async start(nofile?: number): Promise<Owner> {
    const tmp = await tempDir();
    const deno = [Deno.execPath(), "run", "-A", OWNER];
    const [cmd, ...args] = nofile === undefined
      ? deno
      : ["sh", "-c", `ulimit -n ${nofile} && exec "$@"`, "sh", ...deno];
    const child = new Deno.Command(cmd, {
      args,
      env: { NO_COLOR: "1", TMPDIR: tmp.path },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const lines = readLines(child.stdout);
    const first = await lines.next();
    if (first.done || !first.value.startsWith("ready ")) {
      child.kill("SIGKILL");
      await child.status;
      await tmp[Symbol.asyncDispose]();
      throw new Error(`The owner did not start: ${first.value}`);
    }
    return new Owner(child, tmp, lines, JSON.parse(first.value.slice(6)));
  }

  /** Sends a command and returns the owner's answer. */
  async ask(command: string): Promise<string> {
    await this.#stdin.write(new TextEncoder().encode(command + "\n"));
    const answer = await this.#lines.next();
    if (answer.done) {
      throw new Error(`The owner ended while answering "${command}":\n${this.stderr}`);
    }
    return answer.value;
  }

  /** The owner's resident memory, in bytes. */
  rss(): number {
    const status = Deno.readTextFileSync(`/proc/${this.info.pid}/status`);
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#stdin.close().catch(() => {});
    while (!(await this.#lines.next()).done); // The rest of stdout, to its end.
    const status = await this.#child.status;
    await this.#stderrDone;
    await this.#tmp[Symbol.asyncDispose]();
    equal(status.code, 0, `the owner failed:\n${this.stderr}`);
  }
}

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stream) {
    text += decoder.decode(chunk, { stream: true });
    for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n")) {
      yield text.slice(0, at);
      text = text.slice(at + 1);
    }
  }
}

/** Reads until the peer closes (true), or gives up after a generous guard (false). */
async function readsEnd(conn: Deno.Conn): Promise<boolean> {
  const buf = new Uint8Array(4096);
  const guard = setTimeout(() => conn.close(), 30_000);
  try {
    for (;;) if (await conn.read(buf) === null) return true;
  } catch (error) {
    // Reset by the hub is a close too; closed by the guard is not.
    return !(error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted);
  } finally {
    clearTimeout(guard);
  }
}

/** Reads the hub's messages until the reply to request `id` (then closes the connection). */
async function replyTo(conn: Deno.Conn, id: number): Promise<unknown> {
  let reply: unknown;
  await readFrames(conn, (batch) => {
    for (const message of batch as { id: number }[]) {
      if (message.id !== id) continue;
      reply = message;
      conn.close();
    }
  }).catch(() => {}); // Closed above (or by the hub: then there is no reply).
  return reply;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

Deno.test("The hub closes a client that announces a huge frame before its hello, and its memory stays flat", async () => {
  await using owner = await Owner.start();
  const before = owner.rss();
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, 64 * 1024 * 1024);
  const chunk = new Uint8Array(1024 * 1024).fill(0x20);
  const results = await Promise.all(Array.from({ length: 16 }, async () => {
    const conn = await Deno.connect({ transport: "unix", path: owner.info.path });
    let written = 0;
    try {
      await conn.write(header);
      // Send what the header announced, as a hostile peer would; the hub should stop us early.
      while (written < 60 * chunk.length) written += await conn.write(chunk);
    } catch {
      // The hub closed the connection.
    }
    const ended = await readsEnd(conn);
    closeQuietly(conn);
    return { written, ended };
  }));
  for (const { written, ended } of results) {
    ok(ended, "the hub closed the connection");
    ok(
      written < 60 * chunk.length,
      `the hub closed it before it was sent in full (${written} bytes)`,
    );
  }
  const grown = owner.rss() - before;
  ok(grown < 200 * 1024 * 1024, `the owner grew by ${Math.round(grown / 2 ** 20)} MiB`);
  equal(await owner.ask("child still served"), "got still served");
});

Deno.test("Past the cap of unauthenticated connections the hub closes the oldest, and a child still connects", async () => {
  await using owner = await Owner.start();
  const extra = 8;
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < MAX_UNAUTHENTICATED + extra; i++) {
      conns.push(await Deno.connect({ transport: "unix", path: owner.info.path }));
    }
    // The oldest are closed at once (not after the hello timeout)...
    for (const conn of conns.slice(0, extra)) ok(await readsEnd(conn), "an oldest one was closed");
    // ...while every newer one can still authenticate and be served.
    const answers = await Promise.all(
      conns.slice(extra).map(async (conn) => {
        await conn.write(encodeFrame({ op: "hello", key: owner.info.key, pid: 1 }));
        await conn.write(encodeFrame([{ id: 7, op: "bye", obj: 0 }]));
        return await replyTo(conn, 7);
      }),
    );
    deepStrictEqual(answers, answers.map(() => ({ id: 7, result: true })));
    // A flood of idle connections does not keep a real child out.
    for (let i = 0; i < MAX_UNAUTHENTICATED + extra; i++) {
      conns.push(await Deno.connect({ transport: "unix", path: owner.info.path }));
    }
    equal(await owner.ask("child through the flood"), "got through the flood");
  } finally {
    conns.forEach(closeQuietly);
  }
});

Deno.test("A hello larger than the limit is refused", async () => {
  await using owner = await Owner.start();
  const conn = await Deno.connect({ transport: "unix", path: owner.info.path });
  try {
    await conn.write(
      encodeFrame({ op: "hello", key: owner.info.key, pid: 1, pad: "x".repeat(HELLO_MAX_BYTES) }),
    );
    await conn.write(encodeFrame([{ id: 7, op: "bye", obj: 0 }]));
  } catch {
    // Closed by the hub already.
  }
  ok(await readsEnd(conn), "the hub closed the connection without answering");
  closeQuietly(conn);
});

Deno.test("The hub survives running out of descriptors: the waiting child connects once they are freed, and the next one too", async () => {
  await using tmp = await tempDir();
  const flag = `${tmp.path}/go`;
  await using owner = await Owner.start(256);
  equal(await owner.ask(`child-after ${flag} early bird`), "started");
  match(await owner.ask("exhaust"), /^exhausted \d+$/);
  await Deno.writeTextFile(flag, "");
  // The child connects now: the hub's accept() fails, which it logs (once) and retries.
  ok(
    await eventually(() => owner.stderr.includes("cannot accept a connection"), 30_000),
    `the hub logged the failed accept:\n${owner.stderr}`,
  );
  equal(await owner.ask("free"), "got early bird");
  equal(await owner.ask("child late bird"), "got late bird");
  equal(owner.stderr.split("cannot accept a connection").length - 1, 1, "logged once");
});

Deno.test("An item whose taskDone() has resolved is never redelivered after its consumer is SIGKILLed", async () => {
  await using tmp = await tempDir();
  const total = 200;
  for (let round = 0; round < 10; round++) {
    const q = new JoinableQueue<number>();
    for (let i = 0; i < total; i++) await q.put(i);
    const log = `${tmp.path}/acked-${round}`;
    const count = 5 + round * 17;
    {
      await using p = new Process({ target: ackThenDie, args: [q, log, count] });
      await p.start();
      await p.join();
      equal(p.exitCode, -9, `round ${round}: the consumer was killed`);
    }
    const acked = Deno.readTextFileSync(log).trim().split("\n").map(Number);
    equal(acked.length, count);
    // Everything else is back in the queue, and nothing acknowledged is.
    const rest: number[] = [];
    while (rest.length < total - count) {
      rest.push(await q.get({ timeout: 30_000 }));
      q.taskDone();
    }
    equal(q.qsize(), 0, `round ${round}: nothing more is left`);
    deepStrictEqual(
      rest.filter((item) => acked.includes(item)),
      [],
      `round ${round}: acknowledged items came back`,
    );
    deepStrictEqual([...acked, ...rest].sort((a, b) => a - b), [...Array(total).keys()]);
    equal(await q.join({ timeout: 30_000 }), true);
  }
});

Deno.test("Puts on an unbounded queue that flush() has confirmed survive their producer's SIGKILL", async () => {
  const q = new Queue<number>();
  const count = 5000;
  {
    await using p = new Process({ target: putFlushDie, args: [q, count] });
    await p.start();
    await p.join();
    equal(p.exitCode, -9);
  }
  equal(q.qsize(), count);
  const items: number[] = [];
  for (let i = 0; i < count; i++) items.push(await q.get({ timeout: 0 }));
  deepStrictEqual(items, [...Array(count).keys()]);
});

Deno.test("flush() rejects with the error of an earlier put that another process's close() refused", async () => {
  const q = new Queue<number>();
  {
    await using p = new Process({ target: closeQueue, args: [q] });
    await p.start();
    await p.join();
    equal(p.exitCode, 0);
  }
  await q.put(1); // Unbounded: on its way, refused by the hub.
  await rejects(q.flush(), QueueClosed);
});

/** 256 MiB of varied ASCII text ending in a three-byte character (cut by frame boundaries). */
function bigString(): string {
  const block = Array.from({ length: 1 << 20 }, (_, i) => String.fromCharCode(33 + (i * 7) % 90))
    .join("");
  return block.repeat(255) + block.slice(0, -1) + "€";
}

/** 256 MiB of varied bytes. */
function bigBytes(): Uint8Array {
  const block = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 31 + (i >> 8)) & 255);
  const out = new Uint8Array(256 << 20);
  for (let at = 0; at < out.length; at += block.length) out.set(block, at);
  out[out.length - 1] = 0xfe;
  return out;
}

// One test, so that only one payload of this size is in memory at a time.
Deno.test("Items and arguments of 256 MiB cross intact both ways, and the small item after them too", async () => {
  for (const make of [bigString, bigBytes]) {
    let big: string | Uint8Array | undefined = make();
    const expected = summarize(big);
    equal(expected.length, 256 * 2 ** 20);
    const from = new JoinableQueue<unknown>();
    const to = new Queue<unknown>();
    {
      // Parent to child on a JoinableQueue, child to parent on a Queue.
      await using p = new Process({ target: echoBig, args: [from, to] });
      await p.start();
      await from.put(big);
      big = undefined;
      let back: string | Uint8Array | undefined = await to.get({ timeout: 600_000 }) as string;
      deepStrictEqual(summarize(back), expected);
      back = undefined;
      equal(await to.get({ timeout: 60_000 }), "small after");
      equal(await from.join({ timeout: 60_000 }), true);
      await p.join();
      equal(p.exitCode, 0, String(p.error));
    }
    if (make === bigBytes) {
      // A Process argument (binary: the larger encoding).
      await using p = new Process({ target: summarizeArg, args: [to, make()] });
      await p.start();
      deepStrictEqual(await to.get({ timeout: 600_000 }), expected);
      await p.join();
      equal(p.exitCode, 0, String(p.error));
    }
  }
  // Every character of this one was escaped as two by the JSON frames of old, which made it too
  // large to read back as one string (put() refused it): in binary frames it crosses as it is.
  let escaped: string | undefined = "\n".repeat(270 * 2 ** 20);
  const q = new Queue<string>();
  await q.put(escaped);
  escaped = undefined;
  const back = await q.get({ timeout: 600_000 });
  equal(back.length, 270 * 2 ** 20);
  ok(/^\n+$/.test(back));
});

Deno.test("A taskDone() whose Promise is ignored does not end the process when the hub is gone", async () => {
  await using tmp = await tempDir();
  const result = `${tmp.path}/result`;
  const owner = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ORPHAN_OWNER, result],
    env: { NO_COLOR: "1", TMPDIR: tmp.path },
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = readLines(owner.stdout);
  const childPid = Number((await lines.next()).value);
  ok(childPid > 0);
  const text = () => {
    try {
      return Deno.readTextFileSync(result);
    } catch {
      return "";
    }
  };
  ok(await eventually(() => text().includes("got"), 30_000), "the child took the item");
  owner.kill("SIGKILL");
  await owner.status;
  await owner.stdin.close();
  while (!(await lines.next()).done); // The rest of stdout, to its end.
  ok(await eventually(() => !pidAlive(childPid), 30_000), "the orphaned child finished");
  equal(text(), "got\nsurvived\n");
});
