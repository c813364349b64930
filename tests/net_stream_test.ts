/**
 * StreamRequestHandler (Python's socketserver.StreamRequestHandler): its reader and writer on
 * their own, and a line protocol served in every mode to real clients on 127.0.0.1.
 */
import { deepEqual, equal, rejects } from "node:assert/strict";
import { RequestReader, RequestWriter, type ServerMode } from "../mod.ts";
import { LineProtocol } from "./fixtures/net_handlers.ts";
import { decoder, encoder, startServer, within } from "./_net.ts";

/** A connection whose client sends `chunks`, one per read, then closes its side. */
function sending(...chunks: string[]): { read(p: Uint8Array): Promise<number | null> } {
  const queue = chunks.map((chunk) => encoder.encode(chunk));
  return {
    read(p) {
      const next = queue.shift();
      if (next === undefined) return Promise.resolve(null);
      if (next.length > p.length) {
        queue.unshift(next.subarray(p.length));
        p.set(next.subarray(0, p.length));
        return Promise.resolve(p.length);
      }
      p.set(next);
      return Promise.resolve(next.length);
    },
  };
}

const text = (bytes: Uint8Array) => decoder.decode(bytes);

Deno.test("RequestReader.readline() joins a line split across reads, keeps its newline, stops at size, and is empty at the end", async () => {
  const rfile = new RequestReader(
    sending("GET / HT", "TP/1.0\r\nHost: x", "\n\nlast line, no newline"),
  );
  equal(text(await rfile.readline()), "GET / HTTP/1.0\r\n");
  equal(text(await rfile.readline(4)), "Host");
  equal(text(await rfile.readline(100)), ": x\n");
  equal(text(await rfile.readline()), "\n");
  equal(text(await rfile.readline()), "last line, no newline");
  deepEqual(await rfile.readline(), new Uint8Array());
  deepEqual(await rfile.readline(), new Uint8Array(), "and stays empty");
});

Deno.test("RequestReader.read(n) waits for n bytes across reads; read() takes the rest; lines iterate until the end", async () => {
  const rfile = new RequestReader(sending("ab", "cdef", "gh\nij\n", "kl"));
  equal(text(await rfile.read(5)), "abcde");
  equal(text(await rfile.read(0)), "");
  const lines = [];
  for await (const line of rfile) lines.push(text(line));
  deepEqual(lines, ["fgh\n", "ij\n", "kl"]);
  const rest = new RequestReader(sending("x".repeat(200_000), "yz"));
  equal((await rest.read()).length, 200_002, "read() gathers everything, past the read size");
  equal((await new RequestReader(sending("abc")).read(10)).length, 3, "fewer only at the end");
});

Deno.test("RequestReader: any mix of readline(size?) and read(n?) over any split of the bytes reads what a plain cursor over them reads", async () => {
  // A seeded generator, so that a failure can be replayed.
  let seed = 42;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let round = 0; round < 300; round++) {
    const text = Array.from({ length: random(200) }, () => "ab\n\u00e9"[random(4)]).join("");
    const bytes = encoder.encode(text);
    const chunks: string[] = [];
    for (let at = 0; at < bytes.length;) {
      const n = 1 + random(20);
      chunks.push(decoder.decode(bytes.subarray(at, at + n), { stream: true }));
      at += n;
    }
    // The reference: a cursor over the whole bytes.
    let at = 0;
    const expectLine = (size?: number) => {
      const end = bytes.indexOf(0x0a, at);
      let stop = end === -1 ? bytes.length : end + 1;
      if (size !== undefined) stop = Math.min(stop, at + size);
      const out = bytes.slice(at, stop);
      at = stop;
      return out;
    };
    const expectRead = (size?: number) => {
      const stop = size === undefined ? bytes.length : Math.min(bytes.length, at + size);
      const out = bytes.slice(at, stop);
      at = stop;
      return out;
    };
    const rfile = new RequestReader(sending(...chunks));
    for (let op = 0; op < 12; op++) {
      const size = random(3) === 0 ? undefined : random(12);
      if (random(2) === 0) {
        deepEqual(await rfile.readline(size), expectLine(size), `round ${round}`);
      } else deepEqual(await rfile.read(size), expectRead(size), `round ${round}`);
    }
  }
});

Deno.test("RequestReader and RequestWriter refuse bad arguments, saying what they take", async () => {
  const rfile = new RequestReader(sending("abc"));
  await rejects(
    rfile.read(-1),
    /size must be an integer >= 0 \(or left out for no limit\): received -1/,
  );
  await rejects(rfile.readline(1.5), RangeError);
  const wfile = new RequestWriter({ write: (p) => Promise.resolve(p.length) });
  await rejects(
    wfile.write(42 as unknown as string),
    /neither a Uint8Array nor a string: received number/,
  );
  equal(await wfile.write(new Uint8Array(3)), 3);
});

for (const mode of ["async", "thread", "process"] as ServerMode[]) {
  Deno.test(`StreamRequestHandler "${mode}": a line protocol with counted bodies, pipelined and split, to two clients at once`, async () => {
    await using s = await startServer({ mode, handler: LineProtocol });
    const talk = async (writes: string[], expect: string) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
      for (const w of writes) {
        await conn.write(encoder.encode(w));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await conn.closeWrite();
      equal(await within(new Response(conn.readable).text(), 30_000, "the reply"), expect);
    };
    await Promise.all([
      // Commands in one write, a line split over two, and a body with newlines in it.
      talk(
        ["UP hello\nUP wor", "ld\nBODY 7\na\nb\ncd\nUP done\n"],
        "HELLO\nWORLD\n7\n\ndc\nb\naDONE\nlines:4\n", // the body "a\nb\ncd\n" reversed
      ),
      talk(["UP x\n", "BYE\n", "UP never read\n"], "X\nBYE\n"),
    ]);
    equal(s.server.errors.length, 0, String(s.server.errors[0]?.error.stack));
  });
}
