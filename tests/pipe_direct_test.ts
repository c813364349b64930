/**
 * A Pipe's ends switching from the hub to their own socket once they talk
 * (`queue/_direct.ts`), across real child processes and threads: order,
 * completeness and EOF across the switch, a second sender, offers nobody
 * takes, and a sender that returns at once. Then the ring in shared memory
 * beside the socket (`_internal/pipe_ring.ts`): messages cross it, what does
 * not fit takes the socket in order, a sleeping receiver is woken, and no
 * ring file is left. The ring alone: `_internal/pipe_ring_test.ts`.
 */
import { deepStrictEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { Connection, EOFError, Event, Pipe, Process, Queue, Thread } from "../mod.ts";
import { directCounts } from "../queue/_direct.ts";
import { runtimeDir } from "../_internal/context.ts";
import { canMapShared } from "../_internal/runtime.ts";
import { openLifelongResources } from "./_helpers.ts";
import {
  type DirectCounts,
  echoForever,
  echoLate,
  echoThenReport,
  echoThenTwoBursts,
  sendTagged,
  talkPauseCollect,
  talkThenBurst,
  talkThenSendTwo,
} from "./fixtures/pipe_targets.ts";
import { get, joinAll, start, WAIT } from "./_queue.ts";

openLifelongResources();

Deno.test("send() of a value that cannot be cloned throws TypeError at once and sends nothing", async () => {
  const [a, b] = Pipe();
  throws(() => a.send(() => 1), TypeError);
  throws(() => a.send({ f: Symbol("s") }), TypeError);
  a.send(2);
  equal(await b.recv({ timeout: WAIT }), 2);
  equal(await b.poll(), false);
  a.close();
  b.close();
});

/** Values of every kind the codec carries, to cross before and after the switch. */
function sample(i: number): unknown {
  switch (i % 6) {
    case 0:
      return `message-${i}`;
    case 1:
      return BigInt(i) ** 3n;
    case 2:
      return new Map<unknown, unknown>([["i", i], [i, new Set([i])]]);
    case 3:
      return Uint8Array.from({ length: 100 * 1024 }, (_, k) => (k + i) & 255);
    case 4:
      return { i, nested: [{ at: new Date(i * 1000) }, null, -0] };
    default:
      return new RangeError(`error ${i}`);
  }
}

Deno.test("a conversation goes over the ends' own socket: every message, in order, both ways, then EOFError", async () => {
  const [here, there] = Pipe();
  const out = new Queue<DirectCounts>();
  await using p = start(echoThenReport, [there, out]);
  const before = { ...directCounts };
  // Round trips, then a burst each way, then round trips again.
  for (let i = 0; i < 60; i++) {
    here.send(sample(i));
    deepStrictEqual(await here.recv({ timeout: WAIT }), sample(i));
  }
  for (let i = 60; i < 560; i++) here.send(sample(i));
  for (let i = 60; i < 560; i++) deepStrictEqual(await here.recv({ timeout: WAIT }), sample(i));
  for (let i = 560; i < 600; i++) {
    here.send(sample(i));
    deepStrictEqual(await here.recv({ timeout: WAIT }), sample(i));
  }
  // The child writes to a socket only this process reads: this end cannot move any more.
  const other = new Queue<DirectCounts>();
  throws(() => start(echoThenReport, [here, other]), /already receives over a direct connection/);
  here.send(null);
  const child = await get(out);
  // The child took this process's offer, and this process took the child's.
  equal(child.taken, 1);
  equal(child.attached, 1);
  equal(directCounts.taken - before.taken, 1);
  equal(directCounts.attached - before.attached, 1);
  await rejects(here.recv({ timeout: WAIT }), EOFError);
  await joinAll([p]);
  here.close();
});

Deno.test("a second process sending on the same end still reaches the receiver while the first talks directly", async () => {
  const [here, there] = Pipe();
  const out = new Queue<DirectCounts>();
  await using a = start(echoThenReport, [there, out]);
  for (let i = 0; i < 5; i++) {
    here.send(`ping-${i}`);
    equal(await here.recv({ timeout: WAIT }), `ping-${i}`);
  }
  // The second sender has not talked: its messages go through the queue, beside A's socket.
  await using b = start(sendTagged, [there, "b", 300]);
  const fromB: unknown[] = [];
  for (let i = 5; i < 40; i++) {
    here.send(`ping-${i}`);
    for (;;) {
      const got = await here.recv({ timeout: WAIT });
      if (got === `ping-${i}`) break;
      fromB.push(got);
    }
  }
  await joinAll([b]);
  while (fromB.length < 300) fromB.push(await here.recv({ timeout: WAIT }));
  deepStrictEqual(fromB, Array.from({ length: 300 }, (_, i) => `b-${i}`));
  here.send(null);
  const counts = await get(out);
  equal(counts.taken, 1); // A talked directly all along.
  await joinAll([a]);
  here.close();
});

Deno.test("a child that returns right after sending loses nothing, whether or not its offer was taken", async () => {
  for (const readWhileRunning of [false, true]) {
    const [here, there] = Pipe();
    await using p = start(talkThenBurst, [there, 2000]);
    for (let i = 0; i < 2; i++) {
      here.send(i);
      equal(await here.recv({ timeout: WAIT }), i);
    }
    const got: unknown[] = [];
    // Not reading: the child's offer is still out when it returns, and what it kept goes on the
    // queue at its goodbye. Reading: the burst goes over the socket, written out before the goodbye.
    if (!readWhileRunning) await joinAll([p]);
    while (got.length < 2000) got.push(await here.recv({ timeout: WAIT }));
    deepStrictEqual(got, Array.from({ length: 2000 }, (_, i) => i));
    await joinAll([p]);
    here.close();
  }
});

Deno.test("messages kept for an offer nobody takes in time go on the queue, in order", async () => {
  const [here, there] = Pipe();
  const out = new Queue<unknown[]>();
  // The child stops reading for longer than an offer waits (OFFER_TTL_MS, 1 s).
  await using p = start(talkPauseCollect, [there, 1500, 300, out]);
  for (let i = 0; i < 2; i++) {
    here.send(i);
    equal(await here.recv({ timeout: WAIT }), i);
  }
  for (let i = 0; i < 300; i++) here.send(`late-${i}`);
  deepStrictEqual(await get(out), Array.from({ length: 300 }, (_, i) => `late-${i}`));
  await joinAll([p]);
  here.close();
});

Deno.test("both ends in one process never connect: the offer is handed back and order holds", async () => {
  const [a, b] = Pipe();
  const before = { ...directCounts };
  a.send("hello");
  equal(await b.recv({ timeout: WAIT }), "hello");
  b.send("hi");
  equal(await a.recv({ timeout: WAIT }), "hi");
  for (let i = 0; i < 100; i++) a.send(i);
  for (let i = 0; i < 100; i++) equal(await b.recv({ timeout: WAIT }), i);
  equal(directCounts.taken, before.taken);
  ok(directCounts.declined > before.declined);
  a.close();
  await rejects(b.recv({ timeout: WAIT }), EOFError);
  b.close();
});

Deno.test("a thread talks to its parent thread over their own socket", async () => {
  const [here, there] = Pipe();
  const out = new Queue<DirectCounts>();
  const t = new Thread({ target: echoThenReport, args: [there, out] });
  t.start();
  for (let i = 0; i < 200; i++) {
    here.send(sample(i));
    deepStrictEqual(await here.recv({ timeout: WAIT }), sample(i));
  }
  here.send(null);
  const counts = await get(out);
  equal(counts.taken, 1);
  equal(counts.attached, 1);
  await rejects(here.recv({ timeout: WAIT }), EOFError);
  await t.join({ timeout: WAIT });
  here.close();
});

Deno.test("a SIGKILLed peer of a direct conversation: sends go on without error, and recv() rejects with EOFError (its copy of the end died with it)", async () => {
  const [here, there] = Pipe();
  const p = start(echoForever, [there]);
  for (let i = 0; i < 20; i++) {
    here.send(i);
    equal(await here.recv({ timeout: WAIT }), i);
  }
  p.kill();
  await p.join({ timeout: WAIT });
  // What this end sends now goes nowhere (as into a pipe nobody reads), and throws nothing.
  for (let i = 0; i < 20; i++) here.send(i);
  // Nothing comes from a dead peer, and nothing is made up: its copy of the end (this process's
  // went with it at start()) closed as it died, as a killed process's descriptors do.
  await rejects(here.recv({ timeout: WAIT }), EOFError);
  here.close();
  await p[Symbol.asyncDispose]();
});

Deno.test("two recv() waiting at once: when one takes the offer, the other hears the socket too", async () => {
  const [here, there] = Pipe();
  await using p = start(talkThenSendTwo, [there]);
  here.send("p1");
  equal(await here.recv({ timeout: WAIT }), "p1");
  // Both wait on the queue; the first gets the child's offer and connects, the other must not go
  // on waiting on the queue while "c" arrives on the socket.
  const first = here.recv({ timeout: WAIT });
  const second = here.recv({ timeout: WAIT });
  here.send("go");
  deepStrictEqual([await first, await second], ["b", "c"]);
  here.send("bye");
  await joinAll([p]);
  here.close();
});

/**
 * Ends a conversation with a child running `echoThenReport` or `echoLate`:
 * what its ends did, once it has closed its end (this end's EOF) and exited.
 */
async function endTalk(
  here: Connection,
  out: Queue<DirectCounts>,
  p: Process,
): Promise<DirectCounts> {
  here.send(null);
  const counts = await get(out);
  // The other end closed: poll() and wait() see the end of the stream, over the socket too.
  equal(await here.poll({ timeout: WAIT }), true);
  deepStrictEqual(await Connection.wait([here], { timeout: WAIT }), [here]);
  await rejects(here.recv({ timeout: WAIT }), EOFError);
  await joinAll([p]);
  here.close();
  return counts;
}

/** Ring files in this process's private folder (a receiving end's, until its sender maps it). */
function ringFiles(): string[] {
  return [...Deno.readDirSync(runtimeDir())].map((e) => e.name).filter((n) =>
    n.startsWith("pipe-ring-")
  );
}

/** Round trips until a message came here through a ring (at most `max`): its sender mapped it. */
async function untilRing(here: Connection, max = 200): Promise<void> {
  const before = directCounts.ring;
  for (let i = 0; directCounts.ring === before; i++) {
    ok(i < max, `no message came through a ring in ${max} round trips`);
    here.send(`ping-${i}`);
    equal(await here.recv({ timeout: WAIT }), `ping-${i}`);
  }
}

Deno.test("ring: this test run can map shared memory (else the ring tests below are void)", () => {
  ok(canMapShared(), "run with --allow-ffi on Linux, without MULTIPROC_SHARED_MEMORY=0");
});

Deno.test("ring: a conversation's messages cross through rings in shared memory both ways, and no ring file is left", async () => {
  const [here, there] = Pipe();
  const out = new Queue<DirectCounts>();
  await using p = start(echoThenReport, [there, out]);
  const before = directCounts.ring;
  await untilRing(here);
  for (let i = 0; i < 300; i++) {
    here.send(sample(i));
    deepStrictEqual(await here.recv({ timeout: WAIT }), sample(i));
  }
  const child = await endTalk(here, out, p);
  // Round trips that follow each other: each side's next message comes through its ring.
  ok(child.ring >= 250, `the child took ${child.ring} of 300+ messages from its ring`);
  ok(
    directCounts.ring - before >= 250,
    `this end took ${directCounts.ring - before} from its ring`,
  );
  // The sender removed this end's ring file once it mapped it.
  deepStrictEqual(ringFiles(), []);
});

Deno.test("ring: what does not fit takes the socket, and every message still arrives in order", async () => {
  const [here, there] = Pipe();
  // 700 characters: inline items (under the 768 bytes from which items go into the large items'
  // store, whose 24-byte references would all fit), so 500 of them are more than the ring holds
  // (256 KiB) and the rest of a burst takes the socket.
  const n = 500;
  const pad = 700;
  const written = new Event();
  await using p = start(echoThenTwoBursts, [there, n, pad, written]);
  await untilRing(here);
  const before = directCounts.ring;
  here.send("burst");
  // Read nothing until the whole first burst is written: else a reader that keeps pace with the
  // writer (it can, with a core of its own) leaves room in the ring for all of it.
  ok(await written.wait({ timeout: WAIT }), "the first burst was not written");
  const expect = (tag: string, i: number) => `${tag}-${i}-`.padEnd(pad, "x");
  // Reading part of the first burst frees room in the ring, so the second burst's first
  // messages go there again while the first's last ones are still on the socket behind it.
  for (let i = 0; i < 100; i++) equal(await here.recv({ timeout: WAIT }), expect("a", i));
  here.send("go");
  for (let i = 100; i < n; i++) equal(await here.recv({ timeout: WAIT }), expect("a", i));
  for (let i = 0; i < n; i++) equal(await here.recv({ timeout: WAIT }), expect("b", i));
  const ringed = directCounts.ring - before;
  ok(ringed > 100 && ringed < 2 * n, `${ringed} of ${2 * n} messages came through the ring`);
  here.send("bye");
  await rejects(here.recv({ timeout: WAIT }), EOFError);
  await joinAll([p]);
  here.close();
});

Deno.test("ring: a receiver that sleeps is woken on the socket by a message written to the ring", async () => {
  const [here, there] = Pipe();
  const out = new Queue<DirectCounts>();
  await using p = start(echoLate, [there, 300, out]);
  await untilRing(here);
  // The reply comes 300 ms later: far past a spin, so this end sleeps on the socket. But it also
  // wakes every 20 ms or less to look at the queue (other senders may put there), and is not
  // asleep for the moment it looks: a reply written to the ring then is found without a wake-up.
  // On a busy machine that moment can be long, so the wake-up is asked of one of five replies.
  let woken = 0;
  for (let i = 0; i < 5 && woken === 0; i++) {
    const before = { ...directCounts };
    here.send("late?");
    equal(await here.recv({ timeout: WAIT }), "late");
    equal(directCounts.ring - before.ring, 1, "the late reply did not come through the ring");
    woken = directCounts.woken - before.woken;
  }
  ok(woken > 0, "nothing woke this end on the socket, in five late replies");
  await endTalk(here, out, p);
});

Deno.test("ring: two recv() waiting at once on a ring each get one of two messages sent late", async () => {
  const [here, there] = Pipe();
  const out = new Queue<DirectCounts>();
  await using p = start(echoLate, [there, 200, out]);
  await untilRing(here);
  const before = directCounts.ring;
  here.send("late?");
  here.send("late?");
  const first = here.recv({ timeout: WAIT });
  const second = here.recv({ timeout: WAIT });
  deepStrictEqual([await first, await second], ["late", "late"]);
  equal(directCounts.ring - before, 2);
  here.send("ping");
  equal(await here.recv({ timeout: WAIT }), "ping");
  await endTalk(here, out, p);
});

Deno.test("ring: with a child that cannot map memory (--deny-ffi) the conversation stays on the socket, and no ring file is left", async () => {
  const [here, there] = Pipe();
  const out = new Queue<DirectCounts>();
  await using p = new Process({
    target: echoThenReport,
    args: [there, out],
    execArgv: ["--deny-ffi"],
  });
  p.start();
  const before = { ...directCounts };
  // Small messages only: large ones would be kept in shared memory, which the child cannot read.
  for (let i = 0; i < 100; i++) {
    here.send(`message-${i}`);
    equal(await here.recv({ timeout: WAIT }), `message-${i}`);
  }
  const child = await endTalk(here, out, p);
  // Both offers taken: the talk went direct, but the child made no ring and could not use ours.
  equal(child.taken, 1);
  equal(directCounts.taken - before.taken, 1);
  equal(child.ring, 0);
  equal(directCounts.ring - before.ring, 0);
  // The ring this end made for the child, never mapped by it, went with the socket.
  deepStrictEqual(ringFiles(), []);
});

Deno.test("a poll() that says a message is there is kept by recv({ timeout: 0 }), also when the message comes behind an offer of a socket", async () => {
  for (const kind of ["process", "thread"]) {
    const [here, there] = Pipe();
    const child = kind === "process"
      ? new Process({ target: talkThenSendTwo, args: [there] })
      : new Thread({ target: talkThenSendTwo, args: [there] });
    child.start();
    here.send("a");
    equal(await here.recv({ timeout: WAIT }), "a");
    // Told to go on, the child offers its socket instead of putting "b" (they have talked).
    here.send("go");
    const until = Date.now() + WAIT;
    while (!(await here.poll()) && Date.now() < until) await new Promise((r) => setTimeout(r, 1));
    equal(await here.recv({ timeout: 0 }), "b", kind);
    equal(await here.recv({ timeout: WAIT }), "c");
    here.send("bye");
    await child.join({ timeout: WAIT });
    equal(child.isAlive(), false);
    here.close();
  }
});
